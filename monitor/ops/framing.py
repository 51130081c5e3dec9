"""HTTP/1.1 requests read strictly, with h11: a request must start within ``idle_timeout`` and arrive whole
within ``request_timeout``; its head is checked before a byte of its body is read."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import h11

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Limits:
    idle_timeout: float = 5.0      # to start a request, on a new or kept-alive connection
    request_timeout: float = 10.0  # from a request's first byte to its last
    max_connections: int = 256
    max_per_client: int = 32
    max_body: int = 1 << 20        # a Slack interaction is a few kilobytes
    max_head: int = 16 * 1024      # request line and headers
    check_timeout: float = 2.0     # a health check or scrape that takes longer answers 503
    handler_timeout: float = 10.0  # a POST handler that takes longer answers 503 (Slack gave up after 3 s)
    post_workers: int = 4
    max_pending_posts: int = 32    # POSTs waiting for a worker past this answer 503 at once

    @classmethod
    def of(cls, http) -> Limits:
        """The limits service.http sets; the rest keep their defaults."""
        return cls(idle_timeout=http.idle_timeout, request_timeout=http.request_timeout,
                   max_connections=http.max_connections, max_per_client=http.max_connections_per_client)


class Refused(Exception):
    """A request answered with an error status without reaching a handler; the connection then closes."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class RequestReader:
    """Reads one request off a connection for the routes it knows (GET paths and POST paths)."""

    def __init__(self, limits: Limits, gets, posts) -> None:
        self.limits, self._gets, self._posts = limits, gets, posts

    async def first_bytes(self, conn: h11.Connection, reader) -> bytes | None:
        """Waits up to idle_timeout for a request to start; None when the client is silent or gone."""
        if conn.trailing_data[0]:
            return b""  # the next request is already buffered (pipelining)
        try:
            async with asyncio.timeout(self.limits.idle_timeout):
                data = await reader.read(65536)
        except TimeoutError:
            return None
        return data or None

    async def read(self, conn: h11.Connection, reader, writer, data: bytes, asked: list) -> bytes:
        """The request's body, its head checked before any of the body is read."""
        if data:
            conn.receive_data(data)
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionResetError("the client closed mid-request")
                conn.receive_data(chunk)
            elif isinstance(event, h11.Request):
                asked.append(event)
                self._check_head(event)
                if conn.they_are_waiting_for_100_continue:  # curl asks before sending a body over 1 KB
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.max_body:
                    raise Refused(413, f"request body over {self.limits.max_body} bytes")
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            else:
                raise ConnectionResetError("the client closed mid-request")

    def _check_head(self, request: h11.Request) -> None:
        method, path = request.method.decode("ascii", "replace"), self.path(request)
        if method in ("GET", "HEAD"):
            if path not in self._gets:
                raise Refused(404, "not found: try /healthz, /readyz or /metrics")
            return
        if method != "POST":
            raise Refused(405, "method not allowed")
        if path not in self._posts:
            raise Refused(404, "not found")
        lengths = [v for k, v in request.headers if k == b"content-length"]
        chunked = any(k == b"transfer-encoding" for k, _ in request.headers)
        if not lengths and not chunked:
            raise Refused(411, "Content-Length required")
        if lengths and chunked:
            raise Refused(400, "both Content-Length and Transfer-Encoding: send one")
        if lengths and int(lengths[0]) > self.limits.max_body:  # h11 has checked it is a non-negative integer
            raise Refused(413, f"request body over {self.limits.max_body} bytes")

    @staticmethod
    def path(request: h11.Request) -> str:
        return request.target.decode("ascii", "replace").split("?", 1)[0]
