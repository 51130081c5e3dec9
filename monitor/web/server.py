"""Serves the inbox with uvicorn on a thread of its own, so the service (or `monitor web`) keeps its own
signal handling and stops it with the rest of its components."""
from __future__ import annotations

import logging
import threading
import time

import uvicorn

from monitor.web.app import build_app
from monitor.web.context import Inbox

log = logging.getLogger("monitor.web")


class WebServer:
    def __init__(self, inbox: Inbox, host: str | None = None, port: int | None = None) -> None:
        web = inbox.web
        self.config = uvicorn.Config(
            build_app(inbox), host=host or web.host, port=web.port if port is None else port,
            log_config=None, access_log=False,   # the service's logging; requests are logged by the app
            proxy_headers=True, forwarded_allow_ips="127.0.0.1",  # a reverse proxy on this machine
            server_header=False, timeout_keep_alive=5, timeout_graceful_shutdown=3, lifespan="off",
            limit_concurrency=200, h11_max_incomplete_event_size=16 * 1024)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)
        self.base_url = web.base_url

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError(f"the web inbox could not listen on {self.config.host}:{self.config.port} "
                               "(is the port taken? see the log)")
        log.info("web inbox on http://%s:%d%s", self.config.host, self.port,
                 f" (people open {self.base_url})" if self.base_url else "")

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
