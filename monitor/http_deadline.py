"""A total deadline for each outbound HTTP request: connecting, sending and reading the whole answer.

A client library's ``timeout`` bounds each read, so a server that trickles a few bytes every second holds a
request, and the poll waiting on it, forever. Here each request has a deadline; when it passes, the
request's connections are shut down, the blocked read returns at once, and the request fails with
DeadlineExceeded (a requests Timeout, which every source already reports as a failed poll). One watchdog
thread keeps every deadline.

- requests (tweepy, praw, Mastodon.py, feeds and plain APIs): mount ``DeadlineAdapter`` on the session. Its
  connection classes tell the running deadline which socket they use; the body is read inside the deadline.
- httpx (atproto): pass ``deadline_transport()`` as the client's transport; at the deadline it closes its pool.
- ``abort_all()`` fires every running deadline at once, so that a stopping service does not wait for them.
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_DEADLINE = 60.0
_local = threading.local()


class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole request did not finish within its deadline."""


class _Deadline:
    """One request's clock: the connections it used, shut down when the time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.expired = self.finished = False
        self.reason: str | None = None
        self._closers: list = []
        self._lock = threading.Lock()

    def watch(self, closer) -> None:
        """``closer()`` ends the request's I/O; called at once when the deadline has already passed."""
        with self._lock:
            if not self.expired:
                self._closers.append(closer)
                return
        closer()

    def expire(self, reason: str | None = None) -> None:
        with self._lock:
            if self.expired or self.finished:
                return
            self.expired, self.reason, closers, self._closers = True, reason, self._closers, []
        for closer in closers:
            closer()

    def finish(self) -> None:
        with self._lock:
            self.finished, self._closers = True, []

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(self.reason or f"no complete answer within {self.seconds:g}s (the source's "
                                "deadline): the server answered too slowly or not at all")


class _Watchdog:
    """One thread for every deadline: it sleeps in short steps while any is running, and waits for the next
    one otherwise. Short sleeps rather than a timed wait, which some clock-shifting test tools never end."""

    STEP = 0.05

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Deadline]] = []
        self._count = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, current: _Deadline) -> None:
        with self._lock:
            heapq.heappush(self._due, (current.due, next(self._count), current))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()
        self._wake.set()

    def running(self) -> list[_Deadline]:
        with self._lock:
            return [entry[2] for entry in self._due if not entry[2].finished]

    def _run(self) -> None:
        while True:
            self._wake.clear()
            now, due = time.monotonic(), []
            with self._lock:
                while self._due and (self._due[0][2].finished or self._due[0][0] <= now):
                    due.append(heapq.heappop(self._due)[2])
                waiting = bool(self._due)
            for current in due:
                current.expire()
            if waiting:
                time.sleep(self.STEP)
            else:
                self._wake.wait()


_watchdog = _Watchdog()


@contextmanager
def deadline(seconds: float) -> Iterator[_Deadline]:
    """Everything inside shares one deadline; inside another one, the outer deadline counts."""
    outer = getattr(_local, "current", None)
    if outer is not None:
        yield outer
        return
    current = _Deadline(seconds)
    _local.current = current
    _watchdog.add(current)
    try:
        yield current
    except Exception as exc:
        if current.expired:  # whatever the library made of the shut-down socket
            raise current.error() from exc
        raise
    finally:
        _local.current = None
        current.finish()
    if current.expired:  # a body read to a shut-down socket can end early without an error
        raise current.error()


def abort_all(reason: str) -> None:
    """Ends every request that is waiting on the network now (the service is stopping)."""
    for current in _watchdog.running():
        current.expire(reason)


def _watch(sock) -> None:
    """Ties ``sock`` to the thread's running deadline. The socket itself, not its connection: a connection is
    reused with a new socket once its request failed, and a late shutdown must never reach that one."""
    current = getattr(_local, "current", None)
    if current is not None and sock is not None:
        current.watch(lambda: _shutdown(sock))


def _shutdown(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread, unlike close()
    except OSError:
        pass


class _Watched:
    """Registers the connection's socket with the thread's running deadline: when it connects, and before
    each request it carries while kept alive."""

    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def request(self, *args, **kwargs):
        _watch(self.sock)  # None before a first connect: connect() registers it then
        return super().request(*args, **kwargs)


class _DeadlineHTTPConnection(_Watched, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose every request, body included, ends within ``seconds``."""

    def __init__(self, seconds: float = DEFAULT_DEADLINE, **kwargs) -> None:
        self.seconds = seconds
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
        return manager

    def send(self, request, stream=False, **kwargs):
        with deadline(self.seconds):
            response = super().send(request, stream=stream, **kwargs)
            if not stream:
                response.content  # noqa: B018 - the whole body, read inside the deadline
        return response


def mount_deadline(session: requests.Session, seconds: float) -> requests.Session:
    """Every http(s) request of ``session`` gets the deadline (adapters mounted for a host keep theirs)."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, DeadlineAdapter(seconds, max_retries=0))
    return session


def deadline_session(seconds: float) -> requests.Session:
    return mount_deadline(requests.Session(), seconds)


def deadline_transport(seconds: float, **transport_args):
    """An httpx transport whose every request, body included, ends within ``seconds``."""
    import httpx

    class DeadlineTransport(httpx.BaseTransport):
        def __init__(self) -> None:
            self._inner = httpx.HTTPTransport(**transport_args)
            self._lock = threading.Lock()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            try:
                with deadline(seconds) as current:
                    inner = self._inner
                    current.watch(lambda: self._abort(inner))
                    response = inner.handle_request(request)
                    response.read()
            except DeadlineExceeded as exc:  # a timeout to httpx, and so to the client library
                raise httpx.ReadTimeout(str(exc), request=request) from exc
            return response

        def _abort(self, inner) -> None:
            """Closing the pool closes its sockets; later requests get a new pool."""
            with self._lock:
                if self._inner is inner:
                    self._inner = httpx.HTTPTransport(**transport_args)
            inner.close()

        def close(self) -> None:
            self._inner.close()

    return DeadlineTransport()
