"""The optional operations endpoint: /healthz, /readyz and /metrics (Prometheus text format)."""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from monitor.ops.redact import redactor

log = logging.getLogger(__name__)


class OpsServer:
    """Serves in a daemon thread. healthy() and ready() return (ok, reason)."""

    def __init__(self, host: str, port: int, healthy: Callable[[], tuple[bool, str]],
                 ready: Callable[[], tuple[bool, str]]) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from monitor.ops.metrics import REGISTRY

        checks = {"/healthz": healthy, "/readyz": ready}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                path = self.path.split("?")[0]
                if path == "/metrics":
                    self._answer(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
                elif path in checks:
                    ok, reason = checks[path]()
                    self._answer(200 if ok else 503, (redactor(reason) + "\n").encode(), "text/plain; charset=utf-8")
                else:
                    self._answer(404, b"not found: try /healthz, /readyz or /metrics\n", "text/plain")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass  # scrapes every few seconds would drown the log

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="ops-http", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        self.thread.start()
        log.info("ops endpoint on http://%s:%d (/healthz, /readyz, /metrics)", *self.server.server_address[:2])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
