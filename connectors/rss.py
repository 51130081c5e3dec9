"""RSS and Atom feeds through feedparser: Google Alerts, news searches, review sites, status pages.

Each feed is fetched with a conditional GET (If-None-Match / If-Modified-Since from the last answer): a
304 costs one request and stores nothing. The cursor per feed keeps those validators and the ids of the
entries in the last document, so an entry is read once across polls and restarts even from feeds that
ignore conditional requests. Google's redirect links (google.com/url?...&url=<target>) are unwrapped to
the article itself. An entry belongs to the feed's ``brand`` when one is set, else to the brand whose
terms it names; entries naming no brand are skipped.
"""
from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.components import Connector, SourceError, chunked, load_state
from monitor.config import BrandConfig, Duration, HttpSourceConfig
from monitor.http_clients import HttpReader
from monitor.markup import html_to_text
from monitor.model import Batch, RawPost
from monitor.registry import connectors
from monitor.terms import term_pattern

MAX_ID = 128  # the mentions table's external id
# Entry ids remembered per feed across polls (at least a whole poll's worth): an entry that leaves a feed and
# comes back (feeds reorder, aggregators re-add) is not read again; the longest unseen are forgotten first.
REMEMBERED = 2000


def remember(seen: list[str], current: list[str], limit: int) -> list[str]:
    """The ids to remember after a poll: the earlier ones not in this poll, then this poll's, oldest out."""
    now = dict.fromkeys(current)
    return ([i for i in seen if i not in now] + list(now))[-limit:]


class FeedEntryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="feed URL")
    brand: str | None = Field(None, description="every entry of this feed is about this brand")


class RssSourceConfig(HttpSourceConfig):
    feeds: list[str | FeedEntryConfig] = Field(min_length=1, description="feed URLs, or {url, brand} when "
                                                     "every entry is about one brand (a Google Alert for it)")
    interval: Duration = Field(900.0, ge=1, description="time between polls of each feed")
    max_entries: int = Field(200, ge=1, le=5000, description="entries read per feed per poll")

    @field_validator("feeds")
    @classmethod
    def _urls(cls, feeds: list) -> list:
        for feed in feeds:
            url = feed if isinstance(feed, str) else feed.url
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"expected an http(s) feed URL, got {url!r}")
        return feeds


def unwrap(link: str) -> str:
    """The target of a Google redirect link (google.com/url?...&url=<target>), else the link itself."""
    parts = urlsplit(link)
    if parts.netloc.endswith("google.com") and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = query.get(key, [""])[0]
            if target.startswith(("http://", "https://")):
                return target
    return link


def entry_id(entry: Any) -> str:
    raw = entry.get("id") or entry.get("link") or (entry.get("title", "") + entry.get("published", ""))
    raw = str(raw)
    return raw if len(raw) <= MAX_ID else "sha1:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def parse_feed(body: bytes, headers: dict, url: str):
    """The parsed feed, or SourceError when the document is not a feed at all."""
    import feedparser  # only when a feed source is enabled

    # The text is made plain here (monitor.markup), so feedparser's own HTML sanitizing and link rewriting
    # would only cost time (most of its parse time on summary-heavy feeds).
    parsed = feedparser.parse(body, response_headers={k.lower(): v for k, v in headers.items()},
                              sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries and not parsed.feed.get("title"):
        raise SourceError(f"{url.split('?')[0][:200]} is not an RSS or Atom feed "
                          f"({type(parsed.bozo_exception).__name__}: {parsed.bozo_exception})"[:400])
    return parsed


def entry_post(entry: Any, feed_title: str, brand: str | None) -> RawPost:
    title = html_to_text(str(entry.get("title") or ""))
    summary = html_to_text(str(entry.get("summary") or ""))
    text = title if not summary or summary.startswith(title) and title else f"{title}\n\n{summary}".strip()
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    link = entry.get("link")
    return RawPost(external_id=entry_id(entry), text=text, author=entry.get("author") or feed_title,
                   url=unwrap(link) if isinstance(link, str) else None, brand=brand,
                   created_at=calendar.timegm(stamp) if stamp else None, ref=f"rss:{entry_id(entry)[:80]}")


@connectors.register("rss")
class RssConnector(Connector):
    config_model = RssSourceConfig

    def __init__(self, name: str, config: RssSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        self.http = HttpReader("feed", "", config.timeout, config.deadline)
        self._patterns = [(b.name, term_pattern(b.terms)) for b in brands]

    def describe(self) -> str:
        return f"{len(self.config.feeds)} RSS/Atom feed(s)"

    def probe(self) -> str:
        answers = []
        for feed in self.config.feeds:
            url = feed if isinstance(feed, str) else feed.url
            response = self.http.get(url, method="HEAD", tolerate=(405, 501))
            if response.status_code in (405, 501):  # a server that does not answer HEAD: read it once
                response = self.http.get(url)
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            answers.append(f"{urlsplit(url).netloc} ({response.status_code}, {kind})")
        return "feeds answered: " + ", ".join(answers)

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for feed in self.config.feeds:
            url, brand = (feed, None) if isinstance(feed, str) else (feed.url, feed.brand)
            yield from self._read(url, brand, cursor)

    def _read(self, url: str, brand: str | None, cursor: dict[str, str]) -> Iterator[Batch]:
        key = "feed:" + (url if len(url) <= 240 else hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest())
        state = load_state(cursor.get(key))
        conditional = {name: state[field] for name, field in (("If-None-Match", "etag"),
                                                              ("If-Modified-Since", "modified")) if state.get(field)}
        response = self.http.get(url, headers=conditional)
        if response.status_code == 304:
            self.meter.add(0)
            return  # nothing changed: nothing to store, the cursor stays
        parsed = parse_feed(response.content, dict(response.headers), url)
        entries = parsed.entries[:self.config.max_entries]
        self.meter.add(len(entries))
        remembered = list(state.get("seen") or [])
        seen = set(remembered)
        title = str(parsed.feed.get("title") or urlsplit(url).netloc)
        posts = []
        for entry in entries:
            if entry_id(entry) in seen:
                continue
            post = entry_post(entry, title, brand)
            post.brand = post.brand or self._brand_of(post.text)
            if post.brand:
                posts.append(post)
        state = {"etag": response.headers.get("ETag"), "modified": response.headers.get("Last-Modified"),
                 "seen": remember(remembered, [entry_id(e) for e in entries],
                                  max(REMEMBERED, self.config.max_entries))}
        yield from chunked(posts, {key: json.dumps(state)}, self.config.batch_size)

    def _brand_of(self, text: str) -> str | None:
        return next((name for name, pattern in self._patterns if pattern and pattern.search(text)), None)

    def close(self) -> None:
        self.http.close()
