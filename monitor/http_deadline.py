"""A total deadline for each outbound HTTP request: connecting, sending and reading the whole answer.

A client library's ``timeout`` bounds each read, so a server that trickles a few bytes every second holds a
request, and the poll waiting on it, forever. Here a timer runs beside each request; when it fires, the
request's connections are shut down, the blocked read returns at once, and the request fails with
DeadlineExceeded (a requests Timeout, which every source already reports as a failed poll).

- requests (tweepy, praw, Mastodon.py, feeds and plain APIs): mount ``DeadlineAdapter`` on the session. Its
  connection classes tell the running deadline which socket they use; the body is read inside the deadline.
- httpx (atproto): pass ``DeadlineTransport`` as the client's transport; at the deadline it closes its pool.
- ``abort_all()`` fires every running deadline at once, so that a stopping service does not wait for them.
"""
from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_DEADLINE = 60.0
_local = threading.local()
_running: weakref.WeakSet[_Deadline] = weakref.WeakSet()
_running_lock = threading.Lock()


class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole request did not finish within its deadline."""


class _Deadline:
    """One request's clock: the connections it used, shut down when the time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._closers: list = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def watch(self, closer) -> None:
        """``closer()`` ends the request's I/O; called at once when the deadline has already passed."""
        with self._lock:
            if not self.expired:
                self._closers.append(closer)
                return
        closer()

    def expire(self) -> None:
        with self._lock:
            self.expired, closers, self._closers = True, self._closers, []
        for closer in closers:
            closer()

    def start(self) -> None:
        with _running_lock:
            _running.add(self)
        self._timer.start()

    def finish(self) -> None:
        self._timer.cancel()
        with _running_lock:
            _running.discard(self)

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"no complete answer within {self.seconds:g}s (the source's deadline): the server "
                                "answered too slowly or not at all")


@contextmanager
def deadline(seconds: float) -> Iterator[_Deadline]:
    """Everything inside shares one deadline; inside another one, the outer deadline counts."""
    outer = getattr(_local, "current", None)
    if outer is not None:
        yield outer
        return
    current = _Deadline(seconds)
    _local.current = current
    current.start()
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


def abort_all() -> None:
    """Ends every request that is waiting on the network now (the service is stopping)."""
    with _running_lock:
        running = list(_running)
    for current in running:
        current.expire()


def _shutdown(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread, unlike close()
        except OSError:
            pass


class _Watched:
    """Registers the connection with the thread's running deadline before each request it carries."""

    def connect(self) -> None:
        super().connect()
        current = getattr(_local, "current", None)
        if current is not None:
            current.watch(lambda: _shutdown(self))

    def request(self, *args, **kwargs):
        current = getattr(_local, "current", None)
        if current is not None:
            current.watch(lambda: _shutdown(self))
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
