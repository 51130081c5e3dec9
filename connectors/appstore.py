"""App Store customer reviews through Apple's public customer-reviews feed (no account, no key).

One feed per app and country, most recent first, 50 reviews a page and at most 10 pages (Apple serves the
newest 500). The cursor per app and country is the newest review id stored: a poll reads pages until it
reaches it, so a poll that finds nothing new costs one request. The star rating is stored with the
mention; 1-2 stars count as complaint evidence.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from monitor.clock import utcnow
from monitor.components import AppReviewConnector, SourceError, chunked, load_state
from monitor.config import Duration, NetworkSourceConfig, ReviewAppConfig
from monitor.model import Batch, RawPost
from monitor.registry import connectors

API = "https://itunes.apple.com"
PAGES, PAGE_SIZE = 10, 50  # Apple serves 10 pages of 50


class AppStoreSourceConfig(NetworkSourceConfig):
    apps: list[ReviewAppConfig] = Field(min_length=1, description="apps to read: id (digits), brand, countries")
    interval: Duration = Field(3600.0, ge=60, description="time between polls (the feed updates a few times "
                                                          "an hour at most)")
    max_pages: int = Field(PAGES, ge=1, le=PAGES, description="pages of 50 read per app and country per poll")
    backfill: Duration = Field(86400.0, ge=0, description="first run: how far back to read reviews")


def _label(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    label = value.get("label") if isinstance(value, dict) else None
    return label if isinstance(label, str) else None


def parse_reviews(body: Any, app: ReviewAppConfig, country: str) -> tuple[list[RawPost], int]:
    """(reviews newest first, rejected entries) of one feed page; SourceError when it is no feed."""
    feed = body.get("feed") if isinstance(body, dict) else None
    if not isinstance(feed, dict):
        raise SourceError("App Store returned a malformed reviews page (no feed object)")
    entries = feed.get("entry", [])
    entries = [entries] if isinstance(entries, dict) else entries  # a single review is not wrapped in a list
    if not isinstance(entries, list):
        raise SourceError("App Store returned a malformed reviews page (entry is not a list)")
    posts, rejected = [], 0
    for entry in entries:
        if not isinstance(entry, dict) or "im:name" in entry:
            continue  # the app's own entry, which older pages put first
        review_id, rating = _label(entry, "id"), _label(entry, "im:rating")
        if not review_id or not review_id.isdigit() or rating is None:
            rejected += 1
            continue
        author = entry.get("author") if isinstance(entry.get("author"), dict) else {}
        text = "\n\n".join(t for t in (_label(entry, "title"), _label(entry, "content")) if t)
        posts.append(RawPost(external_id=review_id, text=text, author=_label(author, "name") or "",
                             rating=rating, created_at=_label(entry, "updated"), brand=app.brand,
                             url=f"https://apps.apple.com/{country}/app/id{app.id}?see-all=reviews",
                             ref=f"appstore:{app.id}:{review_id}"))
    return posts, rejected


def _before(post: RawPost, oldest: datetime | None) -> bool:
    if oldest is None or not isinstance(post.created_at, str):
        return False
    try:
        return datetime.fromisoformat(post.created_at) < oldest
    except ValueError:
        return False  # the pipeline repairs or rejects the date


@connectors.register("appstore")
class AppStoreConnector(AppReviewConnector):
    config_model = AppStoreSourceConfig
    store_name, default_api = "App Store", API

    @classmethod
    def app_id_problem(cls, app_id: str) -> str | None:
        return None if app_id.isdigit() else "App Store ids are digits"

    def read_app(self, app: ReviewAppConfig, country: str, cursor: dict[str, str]) -> Iterator[Batch]:
        key = f"reviews:{app.id}:{country}"
        newest = int(load_state(cursor.get(key)).get("newest") or 0)
        posts, rejected, top = [], 0, newest
        oldest = None if newest else utcnow() - timedelta(seconds=self.config.backfill)
        for page in range(1, self.config.max_pages + 1):
            found, bad = self._page(app, country, page)
            self.meter.add(len(found) + bad)
            rejected += bad
            fresh = [p for p in found if int(p.external_id) > newest and not _before(p, oldest)]
            posts += fresh
            top = max([top] + [int(p.external_id) for p in fresh])
            if len(fresh) < len(found) or len(found) + bad < PAGE_SIZE:
                break  # reached what the last poll stored, or the last page
        yield from chunked(posts, {key: json.dumps({"newest": top})}, self.config.batch_size, rejected)

    def first_page(self, app: ReviewAppConfig, country: str) -> list[RawPost]:
        return self._page(app, country, 1)[0]

    def _page(self, app: ReviewAppConfig, country: str, page: int) -> tuple[list[RawPost], int]:
        body = self.http.get_json(f"/{country}/rss/customerreviews/page={page}/id={app.id}/sortby=mostrecent/json")
        return parse_reviews(body, app, country)
