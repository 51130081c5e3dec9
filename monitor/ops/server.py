"""The service's HTTP endpoint: /healthz, /readyz, /metrics (Prometheus text format) and the POST routes that
sinks register (Slack's Interactivity Request URL).

It may face the internet behind that URL, so it expects hostile clients:
- one asyncio loop holds every connection (h11 reads and writes HTTP/1.1), so idle or slow sockets cost no
  thread; a client has ``idle_timeout`` to start a request and ``request_timeout`` to send all of it;
- connections are bounded per client address and in total: a new one past a bound closes the oldest
  connection that is not being answered, so nobody can keep the next probe out by holding sockets open;
- framing is strict: h11 refuses a Content-Length that is not a non-negative integer, a declared length over
  ``max_body`` is answered 413 before any of the body is read, and a chunked body is cut off at the same cap;
- handlers run in small pools of daemon threads, checks and POST routes apart, so /healthz answers while
  every POST worker is busy and a stuck handler never holds up shutdown.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import http
import logging
import queue
import threading
from collections.abc import Callable

import h11

from monitor.ops.framing import TEXT, Limits, Refused, RequestReader
from monitor.ops.redact import redactor

log = logging.getLogger(__name__)

PostRoute = Callable[[bytes, dict], "tuple[int, bytes, dict]"]
Check = Callable[[], "tuple[bool, str]"]


class DaemonPool:
    """A fixed set of daemon threads: unlike concurrent.futures' pool, a handler stuck in a library call can
    never keep the process from exiting."""

    def __init__(self, name: str, workers: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.pending = 0  # jobs queued or running
        for i in range(workers):
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True).start()

    def submit(self, fn, *args) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self.pending += 1
        self._jobs.put((future, fn, args))
        return future

    def _work(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future is None:
                return
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                        future.set_exception(exc)
            finally:
                with self._lock:
                    self.pending -= 1

    def close(self, workers: int) -> None:
        for _ in range(workers):
            self._jobs.put((None, None, None))


class _Connections:
    """Open connections by client, oldest first. A connection being answered is never evicted."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: dict[asyncio.StreamWriter, str] = {}  # insertion order: oldest first
        self.busy: set[asyncio.StreamWriter] = set()
        self.evicted = 0

    def admit(self, writer: asyncio.StreamWriter, client: str) -> None:
        mine = [w for w, c in self.open.items() if c == client]
        if len(mine) >= self.limits.max_per_client:
            self._evict(mine)
        if len(self.open) >= self.limits.max_connections:
            self._evict(list(self.open))
        self.open[writer] = client

    def _evict(self, candidates: list[asyncio.StreamWriter]) -> None:
        for writer in candidates:
            if writer not in self.busy:
                self.open.pop(writer, None)
                self.evicted += 1
                writer.transport.abort()
                return

    def forget(self, writer: asyncio.StreamWriter) -> None:
        self.open.pop(writer, None)
        self.busy.discard(writer)


class OpsServer:
    """Serves on an asyncio loop in a daemon thread. healthy() and ready() return (ok, reason)."""

    def __init__(self, host: str, port: int, healthy: Check, ready: Check, posts: dict[str, PostRoute] | None = None,
                 limits: Limits | None = None) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from monitor.ops.metrics import REGISTRY

        self.limits = limits or Limits()
        self._gets: dict[str, Callable[[], tuple[int, bytes, str]]] = {
            "/healthz": lambda: self._check(healthy), "/readyz": lambda: self._check(ready),
            "/metrics": lambda: (200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)}
        self._posts = dict(posts or {})
        self._reader = RequestReader(self.limits, self._gets, self._posts)
        self._checks = DaemonPool("ops-check", 2)
        self._handlers = DaemonPool("ops-post", self.limits.post_workers)
        self.connections = _Connections(self.limits)
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self._server = self._loop.run_until_complete(asyncio.start_server(
            self._serve, host, port, limit=self.limits.max_head, backlog=256))
        self.thread = threading.Thread(target=self._run, name="ops-http", daemon=True)

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    def start(self) -> None:
        self.thread.start()
        host, port = self._server.sockets[0].getsockname()[:2]
        log.info("ops endpoint on http://%s:%d (/healthz, /readyz, /metrics)", host, port)

    def stop(self, timeout: float = 3.0) -> None:
        """Stops listening and drops every connection; handlers still running are left to their daemon threads."""
        if self._loop.is_closed():
            return
        if self.thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self.thread.join(timeout)
        else:
            self._loop.run_until_complete(self._shutdown())
        if not self.thread.is_alive():
            self._loop.close()
        self._checks.close(2)
        self._handlers.close(self.limits.post_workers)

    def _run(self) -> None:
        async def main() -> None:
            await self._stopping.wait()
            await self._shutdown()

        self._loop.run_until_complete(main())

    async def _shutdown(self) -> None:
        """Closes the listener and every connection, and ends every connection's task here, on the loop's own
        thread: a task left suspended would be finalized later by whichever thread collects it."""
        self._server.close()
        for writer in list(self.connections.open):
            writer.transport.abort()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        await self._loop.shutdown_asyncgens()

    # -- one connection -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?",)
        self.connections.admit(writer, str(peer[0]))
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_head)
        try:
            while await self._one_exchange(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, asyncio.IncompleteReadError, h11.LocalProtocolError, asyncio.CancelledError):
            pass  # the client went away or was evicted, or the server is stopping
        finally:
            self.connections.forget(writer)
            writer.transport.abort()

    async def _one_exchange(self, conn: h11.Connection, reader, writer) -> bool:
        """Reads one request and answers it; True when the connection may carry another."""
        asked: list[h11.Request] = []  # the request head, once it has arrived
        close = True
        try:
            first = await self._reader.first_bytes(conn, reader)
            if first is None:
                return False
            async with asyncio.timeout(self.limits.request_timeout):
                body = await self._reader.read(conn, reader, writer, first, asked)
            self.connections.busy.add(writer)
            status, payload, content_type, extra = await self._answer(asked[0], body)
            close = False
        except TimeoutError:
            if conn.their_state is h11.IDLE:
                return False  # no whole request head arrived: close without a word
            status, payload, content_type, extra = 408, b"request took too long to arrive\n", TEXT, {}
        except Refused as refused:
            status, payload, content_type, extra = refused.status, (refused.text + "\n").encode(), TEXT, {}
        except h11.RemoteProtocolError as exc:
            status, payload, content_type, extra = exc.error_status_hint, b"malformed request\n", TEXT, {}
        finally:
            self.connections.busy.discard(writer)
        headers = [("content-type", content_type), ("content-length", str(len(payload))), *extra.items()]
        if close:
            headers.append(("connection", "close"))
        reason = http.HTTPStatus(status).phrase
        writer.write(conn.send(h11.Response(status_code=status, headers=headers, reason=reason)))
        if payload and not (asked and asked[0].method == b"HEAD"):
            writer.write(conn.send(h11.Data(data=payload)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return not close and conn.our_state is h11.DONE and conn.their_state is h11.DONE

    # -- answers ------------------------------------------------------------------------

    async def _answer(self, request: h11.Request, body: bytes) -> tuple[int, bytes, str, dict]:
        path = RequestReader.path(request)
        if request.method in (b"GET", b"HEAD"):
            try:
                status, payload, content_type = await self._in_pool(self._checks, self.limits.check_timeout,
                                                                    self._gets[path])
            except TimeoutError:
                return 503, f"{path} did not answer within {self.limits.check_timeout:g}s\n".encode(), TEXT, {}
            return status, payload, content_type, {}
        if self._handlers.pending >= self.limits.max_pending_posts:
            return 503, b"busy; try again\n", TEXT, {"retry-after": "1"}
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        try:
            status, payload, extra = await self._in_pool(self._handlers, self.limits.handler_timeout,
                                                         self._posts[path], body, headers)
        except TimeoutError:
            log.warning("POST %s: no answer within %gs", path, self.limits.handler_timeout)
            return 503, b"busy; try again\n", TEXT, {"retry-after": "1"}
        except Exception as exc:  # noqa: BLE001 - one bad request must not kill the endpoint
            log.error("POST %s failed: %s: %s", path, type(exc).__name__, exc)
            return 500, b"", TEXT, {}
        extra = {k.lower(): str(v) for k, v in (extra or {}).items()}
        content_type = extra.pop("content-type", TEXT)
        extra.pop("content-length", None)
        return status, payload, content_type, extra

    @staticmethod
    async def _in_pool(pool: DaemonPool, timeout: float, fn, *args):
        async with asyncio.timeout(timeout):
            return await asyncio.wrap_future(pool.submit(fn, *args))

    @staticmethod
    def _check(check: Check) -> tuple[int, bytes, str]:
        ok, reason = check()
        return 200 if ok else 503, (redactor(reason) + "\n").encode(), TEXT
