"""Hacker News stories and comments through the Algolia HN Search API (no account, no key).

One ``search_by_date`` query per brand term, quoted so a phrase matches as a phrase, over stories and
comments, newest first, with ``numericFilters=created_at_i>N``: N, the newest creation time stored, is
the cursor. A poll that finds nothing new costs one request per term. When a poll stops at ``max_pages``
the next poll resumes at the following page before it moves the cursor, so nothing is skipped; pages
shift as new items arrive, so a few items may be read twice and the database keeps them once.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from monitor.clock import utcnow
from monitor.components import Connector, SourceError, chunked, load_state
from monitor.config import BrandConfig, Duration, NetworkSourceConfig
from monitor.http_clients import HttpReader
from monitor.markup import html_to_text
from monitor.model import Batch, RawPost
from monitor.registry import connectors

API = "https://hn.algolia.com/api/v1"
ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsSourceConfig(NetworkSourceConfig):
    interval: Duration = Field(300.0, ge=1, description="time between polls (Algolia allows 10,000 requests "
                                                         "an hour per IP)")
    kinds: list[str] = Field(["story", "comment"], min_length=1, description="item kinds: story, comment")
    hits_per_page: int = Field(100, ge=1, le=1000, description="items per request")
    max_pages: int = Field(5, ge=1, le=50, description="pages per term per poll; the rest is read next poll")
    backfill: Duration = Field(86400.0, ge=0, description="first run: how far back to read")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - {"story", "comment"})
        if unknown:
            raise ValueError(f"unknown item kind {unknown[0]!r} (story, comment)")
        return list(dict.fromkeys(values))


def hn_query(term: str) -> str:
    return '"' + term.replace('"', "").strip().lstrip("@#") + '"'


def parse_hits(body: Any, brand: str) -> tuple[list[RawPost], int, int]:
    """(posts, rejected, newest created_at_i) of one search page; raises SourceError if it is not one."""
    hits = body.get("hits") if isinstance(body, dict) else None
    if not isinstance(hits, list):
        raise SourceError("Hacker News search returned a malformed page (no hits list)")
    posts, rejected, newest = [], 0, 0
    for hit in hits:
        created = hit.get("created_at_i") if isinstance(hit, dict) else None
        if not isinstance(created, int) or not hit.get("objectID"):
            rejected += 1
            continue
        newest = max(newest, created)
        posts.append(_post(hit, created, brand))
    return posts, rejected, newest


def _post(hit: dict, created: int, brand: str) -> RawPost:
    item_id = str(hit["objectID"])
    if hit.get("comment_text") is not None:
        text = html_to_text(str(hit["comment_text"]))
    else:
        parts = [str(hit.get("title") or ""), html_to_text(str(hit.get("story_text") or "")), str(hit.get("url") or "")]
        text = "\n\n".join(p for p in parts if p)
    points = hit.get("points")
    parent = hit.get("parent_id")
    return RawPost(external_id=item_id, text=text, author=hit.get("author") or "", created_at=created,
                   author_reach=points if isinstance(points, int) and points > 0 else 0,
                   url=ITEM_URL.format(item_id), brand=brand, ref=f"hn:{item_id}",
                   in_reply_to=str(parent) if parent is not None else None)


@connectors.register("hackernews")
class HackerNewsConnector(Connector):
    config_model = HackerNewsSourceConfig

    def __init__(self, name: str, config: HackerNewsSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        self.http = HttpReader("Hacker News search", config.api_base_url or API, config.timeout,
                               config.deadline)

    def describe(self) -> str:
        return f"Hacker News {'+'.join(self.config.kinds)} search for {len(self.brands)} brand(s)"

    def probe(self) -> str:
        term = hn_query(self.brands[0].terms[0])
        body = self.http.get_json("/search_by_date", {"query": term, "hitsPerPage": 1})
        if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
            raise SourceError("Hacker News search answered, but not with a list of hits: check api_base_url")
        total = body.get("nbHits") if isinstance(body.get("nbHits"), int) else "?"
        return f"Hacker News search answered ({total} items match {term!r})"

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for brand in self.brands:
            for term in dict.fromkeys(hn_query(t) for t in brand.terms):
                yield from self._read(f"search:{brand.name}:{term}", term, brand.name, cursor)

    def _read(self, key: str, query: str, brand: str, cursor: dict[str, str]) -> Iterator[Batch]:
        state = load_state(cursor.get(key))
        since = int(state.get("since") or utcnow().timestamp() - self.config.backfill)
        page, newest = int(state.get("page") or 0), int(state.get("pending") or since)
        posts, rejected = [], 0
        for _ in range(self.config.max_pages):
            body = self.http.get_json("/search_by_date", {
                "query": query, "tags": f"({','.join(self.config.kinds)})", "advancedSyntax": "true",
                "numericFilters": f"created_at_i>{since}", "hitsPerPage": self.config.hits_per_page, "page": page})
            found, bad, top = parse_hits(body, brand)
            self.meter.add(len(found) + bad)
            posts += found
            rejected += bad
            newest = max(newest, top)
            page += 1
            pages = body.get("nbPages") if isinstance(body.get("nbPages"), int) else 0
            if page >= pages or not found:
                state = {"since": newest}
                break
        else:
            state = {"since": since, "page": page, "pending": newest}
        yield from chunked(posts, {key: json.dumps(state)}, self.config.batch_size, rejected)

    def close(self) -> None:
        self.http.close()
