"""Every network source ends a request that trickles: the deadline bounds the whole request, connect to last
byte, where each library's timeout bounds only one read. One conformance table for all of them, against a
local server that answers a few bytes at a time (in the head, or in the body) and never finishes."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.fake_apis import FakeReddit, FakeX
from tests.fake_sources import FakeBluesky
from tests.support import start_service

GAP = 0.2  # seconds between two trickled bytes: far inside every per-read timeout


class TricklingServer:
    """Accepts connections on 127.0.0.1, reads each request head, then sends its answer 3 bytes every GAP
    seconds: ``where="head"`` from the status line on, ``where="body"`` after a complete head. Each
    connection gives up by itself after 20 s; at most 16 connections are served at once."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.slots = threading.BoundedSemaphore(16)
        self.closed_by_client = 0
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.slots.acquire(blocking=False):
                threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()
            else:
                conn.close()

    def _trickle(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        body = b'{"data": [' + b" " * 99_990
        try:
            conn.settimeout(5)
            conn.recv(65536)  # the request head (and whatever body fits)
            if self.where == "body":
                conn.sendall(head)
            answer = (head + body) if self.where == "head" else body
            stop = time.monotonic() + 20
            for i in range(0, len(answer), 3):
                if time.monotonic() > stop:
                    break
                conn.sendall(answer[i:i + 3])
                time.sleep(GAP)
        except OSError:
            self.closed_by_client += 1
        finally:
            conn.close()
            self.slots.release()

    def close(self) -> None:
        self.listener.close()


SLOW = {"timeout": "5s", "deadline": "1s"}

SOURCES = {  # each network source, pointed at the trickling server
    "x": (lambda url: {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": url + "/"},
          {"X_BEARER_TOKEN": FakeX.TOKEN}),
    "reddit": (lambda url: {"type": "reddit", "client_id": "${REDDIT_CLIENT_ID}", "api_base_url": url,
                            "client_secret": "${REDDIT_CLIENT_SECRET}", "user_agent": "test:monitor:1.0 (tests)"},
               {"REDDIT_CLIENT_ID": FakeReddit.CLIENT_ID, "REDDIT_CLIENT_SECRET": FakeReddit.SECRET}),
    "mastodon": (lambda url: {"type": "mastodon", "instances": [{"url": url}], "tags": {"Pixelcart": ["pixelcart"]}},
                 {}),
    "bluesky": (lambda url: {"type": "bluesky", "handle": "${BLUESKY_HANDLE}", "api_base_url": url,
                             "app_password": "${BLUESKY_APP_PASSWORD}"},
                {"BLUESKY_HANDLE": FakeBluesky.HANDLE, "BLUESKY_APP_PASSWORD": FakeBluesky.PASSWORD}),
    "hackernews": (lambda url: {"type": "hackernews", "api_base_url": url + "/"}, {}),
    "rss": (lambda url: {"type": "rss", "feeds": [url + "/feed.xml"]}, {}),
    "appstore": (lambda url: {"type": "appstore", "api_base_url": url + "/",
                              "apps": [{"id": "1234567890", "brand": "Pixelcart"}]}, {}),
    "googleplay": (lambda url: {"type": "googleplay", "api_base_url": url,
                                "apps": [{"id": "com.pixelcart.app", "brand": "Pixelcart"}]}, {}),
}


@pytest.mark.parametrize("where", ["head", "body"])
@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_a_trickling_server_fails_the_poll_at_the_deadline(tmp_path, kind, where):
    server = TricklingServer(where)
    make, environ = SOURCES[kind]
    svc = start_service(tmp_path, None, {kind: {**make(server.url), **SLOW}}, environ)
    try:
        started = time.monotonic()
        [result] = svc.run_once()
        took = time.monotonic() - started
        assert result.error is not None and "within 1s" in result.error and result.stored == 0
        # Without the deadline the poll would last the server's 20 s; with it, about 1 s per request made.
        assert took < 8, (took, result.error)
        [health] = [h for h in svc.store.sources.health() if h["source"] == kind]
        assert health["consecutive_failures"] == 1 and health["last_error"] == result.error
    finally:
        svc.close()
        server.close()
