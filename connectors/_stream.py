"""What the live stream sources share: their settings, and the reader thread that holds the WebSocket
(``websockets``' sync client), buffers the brands' posts and deletions until the service drains them, and
reconnects with backoff and jitter when the connection fails."""
from __future__ import annotations

import logging
import random
import threading
import time

from pydantic import Field

from monitor.components import Connector, SourceError
from monitor.config import BrandConfig, Duration, SourceConfig
from monitor.model import RawPost
from monitor.terms import term_pattern

log = logging.getLogger(__name__)

MAX_BUFFER = 50_000      # posts held for the next drain at most; past it the oldest go (and are counted)
ABANDONED = 120.0        # seconds without a drain (another instance holds the source): the reader stops


class StreamSourceConfig(SourceConfig):
    interval: Duration = Field(0.25, ge=0.01, le=60, description="how often the posts that arrived are scored, "
                               "stored and alerted")
    batch_size: int = Field(100, ge=1, le=10_000, description="posts stored per transaction")
    max_reconnects: int = Field(5, ge=1, le=1000, description="failed connections in a row before the source is "
                                "reported unhealthy (it keeps trying)")
    idle_timeout: Duration = Field(30.0, ge=0.1, le=3600, description="no event for this long: reconnect")
    open_timeout: Duration = Field(10.0, ge=0.1, le=120, description="the longest a connection may take to open")
    max_frame: int = Field(1 << 20, ge=1024, le=64 << 20, description="largest frame accepted, in bytes")


class StreamReader(threading.Thread):
    """Holds the socket and buffers the brands' posts until the next drain. ``position``: where the stream is
    (Jetstream's newest ``time_us``, Mastodon's newest status id), saved as the cursor and used to resume. A
    stream says how to reach it (``_url``, ``_headers``, ``_opened``) and how to read a frame (``_event``)."""

    def __init__(self, name: str, config, brands: list[BrandConfig], resume: int | str | None) -> None:
        super().__init__(name=f"jetstream-{name}", daemon=True)
        self.config = config
        self.brands = [(b.name, term_pattern(b.terms)) for b in brands if term_pattern(b.terms)]
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.posts: list[RawPost] = []
        self.deleted: list[str] = []  # URIs of deleted posts: most were never stored, the store looks them up
        self.position = resume
        self.failures, self.last_error = 0, ""
        self.retry_at = 0.0  # when the next connection attempt is due (monotonic)
        self.malformed = self.dropped = self.connections = 0
        self.drained_at = time.monotonic()
        self._socket = None

    def drain(self) -> tuple[list[RawPost], list[str], int | None]:
        """The posts and deletions buffered since the last drain and the newest event time seen, together."""
        with self.lock:
            posts, deleted, self.posts, self.deleted = self.posts, self.deleted, [], []
            self.drained_at = time.monotonic()
            return posts, deleted, self.position

    def wait_left(self) -> float:
        """Seconds until the next connection attempt."""
        return max(0.0, self.retry_at - time.monotonic())

    def stop(self) -> None:
        self.stopping.set()
        socket = self._socket
        if socket is not None:
            socket.close()  # wakes a blocked recv at once

    def run(self) -> None:
        while not self.stopping.is_set():
            if time.monotonic() - self.drained_at > ABANDONED:
                log.info("%s: nobody drained it for %.0fs (another instance holds the source): disconnecting",
                         self.name, ABANDONED)
                return
            from websockets.exceptions import ConnectionClosedOK

            try:
                self._session()
            except ConnectionClosedOK as closed:  # the server ended the stream (a restart, a deploy): resume
                log.info("%s: the server closed the stream (%s); resuming", self.name, closed)
                self._pause(0.2)
                continue
            except Exception as exc:  # noqa: BLE001 - every other failure means: back off, reconnect
                if self.stopping.is_set():
                    return
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("%s: connection failed (%d in a row): %s", self.name, self.failures, self.last_error)
            self._back_off()

    def _session(self) -> None:
        from websockets.sync.client import connect

        with connect(self._url(), open_timeout=self.config.open_timeout, close_timeout=1,
                     max_size=self.config.max_frame, additional_headers=self._headers()) as socket:
            self._socket = socket
            self.connections += 1
            self._opened(socket)
            try:
                while not self.stopping.is_set():
                    if time.monotonic() - self.drained_at > ABANDONED:
                        return
                    try:
                        frame = socket.recv(timeout=self.config.idle_timeout)
                    except TimeoutError:
                        raise TimeoutError(f"no event for {self.config.idle_timeout:g}s") from None
                    self._event(frame)
                    self.failures = 0  # a working connection: the next failure starts the count again
            finally:
                self._socket = None

    def _headers(self) -> dict[str, str]:
        return {}

    def _opened(self, socket) -> None:
        """Called once the socket is open, before its first frame is read."""

    def _keep(self, post: RawPost | None, deleted: str | None = None) -> None:
        with self.lock:
            if deleted is not None and len(self.deleted) < MAX_BUFFER:
                self.deleted.append(deleted)
            if post is not None:
                self.posts.append(post)
                if len(self.posts) > MAX_BUFFER:
                    del self.posts[0]
                    self.dropped += 1

    def _skipped(self) -> None:
        self.malformed += 1
        if self.malformed in (1, 10, 100) or self.malformed % 1000 == 0:
            log.warning("%s: skipped %d frame(s) that are not events", self.name, self.malformed)

    def _url(self) -> str:
        raise NotImplementedError

    def _event(self, frame: str | bytes) -> None:
        """Reads one frame: ``_keep`` what it brings, move ``position``, or ``_skipped``."""
        raise NotImplementedError

    def _back_off(self) -> None:
        if self.stopping.is_set() or not self.failures:
            return
        self._pause(min(30.0, 0.5 * 2 ** min(self.failures - 1, 6)) * random.uniform(0.5, 1.5))  # noqa: S311 - jitter

    def _pause(self, seconds: float) -> None:
        self.retry_at = time.monotonic() + seconds
        while time.monotonic() < self.retry_at and not self.stopping.is_set():
            time.sleep(0.05)  # short sleeps: a stop is seen at once, and no timed wait (see README, Time)


class StreamConnector(Connector):
    """A source fed by a StreamReader: the service drains it every ``interval`` and keeps its lease."""

    streaming = True  # the service keeps this source's lease: one instance holds the stream
    reader: StreamReader | None = None

    def _new_reader(self, cursor: dict[str, str]) -> StreamReader:
        """A reader resuming where the stored cursor (or the reader that stopped) left the stream."""
        raise NotImplementedError

    def _stream_name(self) -> str:
        """The stream as the operator configured it, for messages."""
        raise NotImplementedError

    def _drain(self, cursor: dict[str, str]) -> tuple[list[RawPost], list[str], int | str | None]:
        """What arrived since the last drain, starting the reader when it is not running."""
        if self.reader is None or not self.reader.is_alive():
            self.reader = self._new_reader(cursor)
            self.reader.start()
        reader = self.reader
        drained = reader.drain()
        if reader.failures >= self.config.max_reconnects:
            # Reported once per failed attempt: the drains pause until the reader's next try.
            raise SourceError(f"{self._stream_name()}: {reader.failures} connections failed in a row (last: "
                              f"{reader.last_error}); still retrying", unhealthy=True, pause_reason="reconnect",
                              retry_after=max(self.config.interval, reader.wait_left()))
        self.meter.add(len(drained[0]))
        return drained

    def close(self) -> None:
        if self.reader is not None:
            self.reader.stop()
            self.reader.join(timeout=1.0)
