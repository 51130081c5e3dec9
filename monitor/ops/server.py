"""The optional operations endpoint: /healthz, /readyz and /metrics (Prometheus text format)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from monitor.ops.redact import redactor

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 10.0   # seconds a client may take to send its request: an idle connection must not hold a thread
MAX_CONNECTIONS = 16  # probes and scrapes need a handful; more are refused at once rather than queued
MAX_BODY = 1 << 20    # a Slack interaction is a few kilobytes
PostRoute = Callable[[bytes, dict], "tuple[int, bytes, dict]"]


class _BoundedServer(ThreadingHTTPServer):
    """One thread per connection, at most MAX_CONNECTIONS at a time; the rest are closed unanswered."""

    daemon_threads = True

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class OpsServer:
    """Serves in a daemon thread. healthy() and ready() return (ok, reason)."""

    def __init__(self, host: str, port: int, healthy: Callable[[], tuple[bool, str]],
                 ready: Callable[[], tuple[bool, str]], idle_timeout: float = IDLE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS, posts: dict[str, PostRoute] | None = None) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from monitor.ops.metrics import REGISTRY

        checks = {"/healthz": healthy, "/readyz": ready}
        posts = dict(posts or {})

        class Handler(BaseHTTPRequestHandler):
            timeout = idle_timeout  # applied to the socket: a silent client is dropped

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._respond(with_body=True)

            def do_HEAD(self):  # noqa: N802 - load balancers probe with HEAD
                self._respond(with_body=False)

            def do_POST(self):  # noqa: N802 - endpoints that sinks register (Slack interactivity)
                route = posts.get(self.path.split("?")[0])
                length = int(self.headers.get("Content-Length") or 0)
                if route is None or length > MAX_BODY:
                    self._answer(404 if route is None else 413, b"", "text/plain", True)
                    return
                try:
                    status, body, headers = route(self.rfile.read(length), dict(self.headers.items()))
                except Exception as exc:  # noqa: BLE001 - one bad request must not kill the endpoint
                    log.error("POST %s failed: %s: %s", self.path, type(exc).__name__, exc)
                    status, body, headers = 500, b"", {}
                self._answer(status, body, headers.get("content-type", "text/plain; charset=utf-8"), True)

            def _respond(self, with_body: bool) -> None:
                path = self.path.split("?")[0]
                if path == "/metrics":
                    self._answer(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST, with_body)
                elif path in checks:
                    ok, reason = checks[path]()
                    self._answer(200 if ok else 503, (redactor(reason) + "\n").encode(), "text/plain; charset=utf-8",
                                 with_body)
                else:
                    self._answer(404, b"not found: try /healthz, /readyz or /metrics\n", "text/plain", with_body)

            def _answer(self, status: int, body: bytes, content_type: str, with_body: bool) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass  # scrapes every few seconds would drown the log

        self.server = _BoundedServer((host, port), Handler, max_connections)
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
