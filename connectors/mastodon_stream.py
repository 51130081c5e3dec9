"""Mastodon's streaming API: a brand's hashtags (and, if asked, the instance's whole public timeline) pushed over
a WebSocket as statuses are published.

A reader thread holds one socket to ``/api/v1/streaming`` and subscribes to each hashtag (and ``public``);
``update`` events become posts when they name a brand (hashtag streams are about the brand by definition; the
public stream is matched locally with the same term matcher as every other source), ``delete`` events forget a
stored status seen in this run. Every time the socket opens, the statuses published while it was down are read
through the REST hashtag timelines from the newest id seen (the source's cursor), so no gap is left. Backoff,
``max_reconnects``, malformed and oversize frames and the quarter-second drain work as for ``jetstream``.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from connectors._stream import StreamConnector, StreamReader, StreamSourceConfig
from connectors.mastodon import brand_tags, status_post
from monitor.components import SourceError, chunked
from monitor.config import BrandConfig, Duration
from monitor.model import Batch
from monitor.registry import connectors
from monitor.terms import term_pattern

log = logging.getLogger(__name__)
CURSOR_KEY = "last_id"
REMEMBERED_IDS = 20_000  # status id -> URI of posts stored in this run, for delete events
CATCH_UP_PAGES = 10      # pages of 40 per hashtag read after a reconnect


class MastodonStreamConfig(StreamSourceConfig):
    instance: str = Field(description="instance base URL, e.g. https://mastodon.social")
    access_token: SecretStr | None = Field(None, description="most instances stream only to a signed-in app: "
                                           "write ${MASTODON_TOKEN}")
    hashtags: list[str] = Field(default_factory=list, description="hashtags to follow, without #; default: each "
                                "brand's #terms, else its name")
    public: bool = Field(False, description="also follow the instance's whole public stream, matched against "
                         "the brands' terms")
    streaming_url: str | None = Field(None, description="the instance's streaming host when it is not the "
                                      "instance's own (wss://...)")
    idle_timeout: Duration = Field(90.0, ge=0.1, le=3600, description="no frame for this long: reconnect (quiet "
                                   "hashtags are common: a longer wait than Jetstream's)")
    timeout: Duration = Field(20.0, description="HTTP timeout of the catch-up reads")

    @field_validator("instance")
    @classmethod
    def _http(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")


def _order(status_id: str) -> tuple[int, str]:
    return len(status_id), status_id  # Mastodon ids are numeric strings of growing length


class MastodonStreamReader(StreamReader):
    def __init__(self, name: str, config: MastodonStreamConfig, brands: list[BrandConfig], tags: dict[str, str],
                 resume: str | None) -> None:
        super().__init__(name, config, brands, resume)
        self.tags = tags  # hashtag -> brand
        self.uris: OrderedDict[str, str] = OrderedDict()  # status id -> URI, for delete events

    def _url(self) -> str:
        base = self.config.streaming_url or self.config.instance.replace("https://", "wss://", 1) \
            .replace("http://", "ws://", 1)
        return f"{base.rstrip('/')}/api/v1/streaming"

    def _headers(self) -> dict[str, str]:
        token = self.config.access_token
        return {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}

    def _opened(self, socket) -> None:
        for tag in self.tags:
            socket.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": tag}))
        if self.config.public:
            socket.send(json.dumps({"type": "subscribe", "stream": "public"}))
        self._catch_up()

    def _catch_up(self) -> None:
        """What was published while the socket was down, from the REST timelines (newest id seen onwards)."""
        if not self.position:
            return  # the first start reads from now on, like the stream
        from mastodon import Mastodon

        token = self.config.access_token
        client = Mastodon(api_base_url=self.config.instance, request_timeout=self.config.timeout,
                          access_token=token.get_secret_value() if token else None, version_check_mode="none",
                          ratelimit_method="throw")
        for tag, brand in self.tags.items():
            since = self.position
            for _ in range(CATCH_UP_PAGES):
                page = client.timeline_hashtag(tag, min_id=since, limit=40) or []
                for status in sorted(page, key=lambda s: _order(str(s.get("id")))):
                    self._status(status, brand)
                if len(page) < 40:
                    break
                since = max((str(s.get("id")) for s in page), key=_order)

    def _event(self, frame: str | bytes) -> None:
        try:
            event = json.loads(frame)
            kind, payload = event["event"], event.get("payload")
        except (ValueError, KeyError, TypeError):
            self._skipped()
            return
        if kind == "delete" and isinstance(payload, str):
            self._keep(None, self.uris.get(payload))
        elif kind == "update" and isinstance(payload, str):
            try:
                status = json.loads(payload)
            except ValueError:
                self._skipped()
                return
            stream = event.get("stream") if isinstance(event.get("stream"), list) else []
            self._status(status, self.tags.get(str(stream[1]).lower()) if len(stream) > 1 else None)

    def _status(self, status, brand: str | None) -> None:
        if not isinstance(status, dict) or not status.get("id"):
            self._skipped()
            return
        post = status_post(status, brand or "")
        if post is not None and not brand:  # the public stream: keep what names a brand
            post.brand = next((name for name, pattern in self.brands if pattern.search(post.text or "")), None)
        if post is not None and post.brand:
            self.uris[str(status["id"])] = post.external_id
            while len(self.uris) > REMEMBERED_IDS:
                self.uris.popitem(last=False)
            self._keep(post)
        with self.lock:
            self.position = max(self.position or "0", str(status["id"]), key=_order)


@connectors.register("mastodon_stream")
class MastodonStreamConnector(StreamConnector):
    config_model = MastodonStreamConfig

    def __init__(self, name: str, config: MastodonStreamConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        self.tags = ({t.lstrip("#").lower(): next((b.name for b in brands), "") for t in config.hashtags}
                     if config.hashtags else {t: b.name for b in brands for t in brand_tags(b, {})})
        if config.hashtags:  # a configured tag belongs to the brand whose terms name it, else the first brand
            for tag in self.tags:
                self.tags[tag] = next((b.name for b in brands if term_pattern(b.terms)
                                       and term_pattern(b.terms).search(tag)), self.tags[tag])

    def describe(self) -> str:
        public = " + the public stream" if self.config.public else ""
        return f"Mastodon stream on {urlsplit(self.config.instance).netloc}: #{', #'.join(self.tags)}{public}, live"

    def probe(self) -> str:
        from mastodon import Mastodon
        from mastodon.errors import MastodonError

        token = self.config.access_token
        client = Mastodon(api_base_url=self.config.instance, request_timeout=self.config.timeout,
                          access_token=token.get_secret_value() if token else None, version_check_mode="none")
        try:
            tag = next(iter(self.tags), None)
            page = client.timeline_hashtag(tag, limit=1) if tag else []
        except MastodonError as exc:
            raise SourceError(f"{self.config.instance} refused the hashtag timeline: {exc}"[:300]) from None
        return f"{self.config.instance} answers (#{tag}: {len(page)} post(s))"

    def _stream_name(self) -> str:
        return f"Mastodon stream of {self.config.instance}"

    def _new_reader(self, cursor: dict[str, str]) -> MastodonStreamReader:
        seen = self.reader.position if self.reader else None  # a reader that stopped knows where it was
        return MastodonStreamReader(self.name, self.config, self.brands, self.tags, seen or cursor.get(CURSOR_KEY))

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        posts, deleted, last_id = self._drain(cursor)
        if posts:
            yield from chunked(posts, {CURSOR_KEY: str(last_id)} if last_id else {}, self.config.batch_size)
        if deleted:
            yield Batch([], {}, deleted=deleted)
