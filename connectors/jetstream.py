"""Bluesky's Jetstream: every public post on the network as JSON over a WebSocket, pushed as it happens.

A reader thread holds the socket (``websockets``' sync client) and keeps the posts that name a brand, matched
locally with the same term matcher as every other source (the stream carries the whole network, some 25-40
posts a second, so a post that names no brand costs one regular-expression search). The service drains what
arrived every ``interval`` (a quarter second by default): micro-batches that are scored, stored and alerted
at once, no poll schedule in between.

Every event carries ``time_us``, the stream's clock; the newest seen is the source's cursor in the database.
After a dropped socket, a server close or a restart the reader resumes from that cursor minus ``rewind``
(Jetstream's own advice when reconnecting: a few seconds, so nothing falls in the gap); the posts read twice
are dropped by their URI like any duplicate. Failed connections back off with jitter; ``max_reconnects``
failures in a row make the source unhealthy (/readyz, the ops channel) while it keeps trying. A frame that is
not an event is counted and skipped, the connection kept; one larger than ``max_frame`` closes it (a server
that sends one is not Jetstream) and the reader reconnects.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from pydantic import Field, field_validator

from connectors._stream import StreamConnector, StreamReader, StreamSourceConfig
from monitor.components import SourceError, chunked
from monitor.config import BrandConfig, Duration
from monitor.model import Batch, RawPost
from monitor.registry import connectors

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
CURSOR_KEY = "time_us"
SAVE_IDLE_CURSOR = 5.0   # seconds between cursor saves when no post names a brand


class JetstreamSourceConfig(StreamSourceConfig):
    url: str = Field(DEFAULT_URL, description="the Jetstream instance's subscribe URL (wss://)")
    rewind: Duration = Field(5.0, ge=0, le=3600, description="on reconnect, resume this far before the last "
                             "event seen (duplicates are dropped)")
    resolve_handles: bool = Field(False, description="look up each brand post's author (handle and followers) "
                                  "in Bluesky's public AppView; cached, and the DID stays when it cannot answer")
    appview_url: str = Field("https://public.api.bsky.app", description="the AppView asked for profiles")
    timeout: Duration = Field(5.0, ge=0.1, le=60, description="HTTP timeout of a profile lookup")

    @field_validator("url")
    @classmethod
    def _websocket(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError(f"expected a ws:// or wss:// URL, got {value!r}")
        return value


def deleted_uri(event: dict) -> str | None:
    """The at:// URI of the post a delete event removes, or None."""
    commit = event.get("commit")
    if not isinstance(commit, dict) or commit.get("operation") != "delete" or commit.get("collection") != POST:
        return None
    did, rkey = event.get("did"), commit.get("rkey")
    return f"at://{did}/{POST}/{rkey}" if isinstance(did, str) and isinstance(rkey, str) else None


def post_of(event: dict, brands: list[tuple[str, Any]]) -> RawPost | None:
    """A Jetstream create event of a post that names a brand, as a post; None for anything else."""
    commit = event.get("commit")
    record = commit.get("record") if isinstance(commit, dict) else None
    if not isinstance(record, dict) or commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    text, did, rkey = record.get("text"), event.get("did"), commit.get("rkey")
    if not isinstance(text, str) or not isinstance(did, str) or not isinstance(rkey, str):
        return None
    brand = next((name for name, pattern in brands if pattern.search(text)), None)
    if brand is None:
        return None
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    return RawPost(external_id=f"at://{did}/{POST}/{rkey}", text=text, author=did, author_reach=0,
                   url=f"https://bsky.app/profile/{did}/post/{rkey}", language=langs[0] if langs else None,
                   created_at=record.get("createdAt"), brand=brand, ref=f"bluesky:{rkey}",
                   in_reply_to=parent.get("uri") if isinstance(parent.get("uri"), str) else None)


class JetstreamReader(StreamReader):
    def _url(self) -> str:
        query = [("wantedCollections", POST)]
        if self.position:
            query.append(("cursor", str(max(0, self.position - int(self.config.rewind * 1_000_000)))))
        separator = "&" if "?" in self.config.url else "?"
        return f"{self.config.url}{separator}{urlencode(query)}"

    def _event(self, frame: str | bytes) -> None:
        try:
            event = json.loads(frame)
        except ValueError:
            event = None
        stamp = event.get("time_us") if isinstance(event, dict) else None
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            self._skipped()
            return
        post = post_of(event, self.brands)
        self._keep(post, deleted_uri(event) if post is None else None)  # kept before the position moves past it
        with self.lock:
            self.position = max(self.position or 0, stamp)


@connectors.register("jetstream")
class JetstreamConnector(StreamConnector):
    config_model = JetstreamSourceConfig

    def __init__(self, name: str, config: JetstreamSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        self.profiles = ProfileCache(config) if config.resolve_handles else None
        self._saved_at = 0.0
        self._saved_us: int | None = None

    def describe(self) -> str:
        return f"Bluesky Jetstream {urlsplit(self.config.url).netloc}, live, for {len(self.brands)} brand(s)"

    def probe(self) -> str:
        from websockets.sync.client import connect

        try:
            with connect(f"{self.config.url}?wantedCollections={POST}", open_timeout=self.config.open_timeout,
                         close_timeout=1, max_size=self.config.max_frame) as socket:
                frame = socket.recv(timeout=self.config.idle_timeout)
        except Exception as exc:  # noqa: BLE001 - the probe's answer
            raise SourceError(f"cannot read {self.config.url}: {type(exc).__name__}: {exc}"[:300]) from None
        return f"stream open, first event {len(frame):,} bytes"

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        posts, deleted, position = self._drain(cursor)
        if self.profiles is not None:
            for post in posts:
                self.profiles.fill(post)
        saved = {CURSOR_KEY: str(position)} if position else {}
        due = time.monotonic() - self._saved_at >= SAVE_IDLE_CURSOR
        if posts or (saved and position != self._saved_us and due):
            self._saved_at, self._saved_us = time.monotonic(), position
            batches = list(chunked(posts, saved, self.config.batch_size))
            batches[-1].deleted = deleted  # with the last batch: after every post of this drain is stored
            yield from batches
        elif deleted:
            yield Batch([], {}, deleted=deleted)

    def _stream_name(self) -> str:
        return f"Jetstream at {self.config.url}"

    def _new_reader(self, cursor: dict[str, str]) -> JetstreamReader:
        stored = cursor.get(CURSOR_KEY)
        seen = (self.reader.position or 0) if self.reader else 0  # a reader that stopped knows where it was
        resume = max(int(stored) if stored and stored.isdigit() else 0, seen) or None
        return JetstreamReader(self.name, self.config, self.brands, resume)

    def close(self) -> None:
        super().close()
        if self.profiles is not None:
            self.profiles.http.close()


class ProfileCache:
    """DID -> (handle, followers) from the public AppView (app.bsky.actor.getProfile), remembered for an hour;
    only brand posts are looked up (about 1 in 100 of the stream), and a failed lookup leaves the DID."""

    TTL, SIZE = 3600.0, 10_000

    def __init__(self, config: JetstreamSourceConfig) -> None:
        from monitor.http_clients import HttpReader

        self.http = HttpReader("Bluesky AppView", config.appview_url, config.timeout, config.timeout * 2)
        self.known: dict[str, tuple[float, str, int]] = {}

    def fill(self, post: RawPost) -> None:
        found = self.known.get(post.author)
        if found is None or time.monotonic() - found[0] > self.TTL:
            found = self._look_up(post.author)
        if found is not None:
            post.author, post.author_reach = found[1], found[2]

    def _look_up(self, did: str) -> tuple[float, str, int] | None:
        try:
            profile = self.http.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": did})
        except SourceError as exc:
            log.info("no profile for %s: %s", did, exc)
            return None
        handle = profile.get("handle") if isinstance(profile, dict) else None
        if not isinstance(handle, str) or not handle:
            return None
        followers = profile.get("followersCount")
        if len(self.known) >= self.SIZE:
            self.known.clear()  # bounded: refills with the authors in use
        self.known[did] = (time.monotonic(), handle, followers if isinstance(followers, int) else 0)
        return self.known[did]
