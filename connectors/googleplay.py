"""Google Play reviews, newest first, from the Play Store's own review listing (no account, no key).

Google has no public API for other developers' reviews; the Play Store web page loads them from its
``batchexecute`` endpoint, and that is what this source reads: one POST per page of up to 100 reviews,
sorted newest first, with the page's continuation token for the next. The request and answer formats are
the ones google-play-scraper documents and uses. The library itself is not used: importing it turns off
TLS certificate checks for every HTTPS request of the process, it returns an empty list when a request
fails (an outage would look like a quiet day), and it sleeps in the calling thread when rate limited.
Here failures are errors with a reason, and rate limits pause the source.

The cursor per app and country is the newest review time and the ids stored at that time: a poll reads
pages until it reaches them (one request when nothing is new). The star rating is stored with the
mention; 1-2 stars count as complaint evidence. The endpoint is unofficial and may change without notice;
a changed answer fails the poll with "malformed" rather than storing nonsense.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import Field

from monitor.clock import utcnow
from monitor.components import AppReviewConnector, SourceError, chunked, load_state
from monitor.config import Duration, NetworkSourceConfig, ReviewAppConfig
from monitor.model import Batch, RawPost
from monitor.registry import connectors

API = "https://play.google.com"
NEWEST = 2
_PREFIX = re.compile(r"^\)\]\}'\s*")
_PACKAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")


class GooglePlaySourceConfig(NetworkSourceConfig):
    apps: list[ReviewAppConfig] = Field(min_length=1, description="apps to read: id (package name), brand, "
                                        "countries")
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$", description="review language (hl), e.g. en")
    interval: Duration = Field(3600.0, ge=60, description="time between polls")
    page_size: int = Field(100, ge=10, le=200, description="reviews per request")
    max_pages: int = Field(5, ge=1, le=50, description="pages per app and country per poll")
    backfill: Duration = Field(86400.0, ge=0, description="first run: how far back to read reviews")


def request_body(app_id: str, count: int, token: str | None) -> bytes:
    """The form body of one review-list request (rpc oCPfdb), newest first."""
    paging = f'[{count},null,\\"{token}\\"]' if token else f"[{count}]"
    inner = f'[null,[2,{NEWEST},{paging},null,[null,null,null,null,null,null,null,null,null]],[\\"{app_id}\\",7]]'
    return ("f.req=" + quote(f'[[["oCPfdb","{inner}",null,"generic"]]]', safe="")).encode()


def _at(item: Any, *path: int) -> Any:
    for index in path:
        if not isinstance(item, list) or len(item) <= index:
            return None
        item = item[index]
    return item


def parse_page(text: str, app: ReviewAppConfig, country: str) -> tuple[list[RawPost], int, str | None]:
    """(reviews newest first, rejected entries, next page token) of one answer; SourceError when the
    answer is not the review list."""
    try:
        envelope = json.loads(_PREFIX.sub("", text, count=1))
        payload = _at(envelope, 0, 2)
        data = json.loads(payload) if isinstance(payload, str) else None
    except ValueError as exc:
        raise SourceError(f"Google Play returned a malformed review page ({exc})"[:300]) from None
    if data is None:
        if _at(envelope, 0, 0) == "wrb.fr":
            return [], 0, None  # the rpc answered with nothing: no reviews
        raise SourceError("Google Play returned a malformed review page (no review payload)")
    entries = _at(data, 0) or []
    paging = data[-2] if isinstance(data, list) and len(data) >= 2 else None  # the token is data[-2][-1]
    token = paging[-1] if isinstance(paging, list) and paging else None
    posts, rejected = [], 0
    for entry in entries if isinstance(entries, list) else []:
        review_id, stars, seconds = _at(entry, 0), _at(entry, 2), _at(entry, 5, 0)
        if not isinstance(review_id, str) or not isinstance(stars, int) or not isinstance(seconds, (int, float)):
            rejected += 1
            continue
        posts.append(RawPost(external_id=review_id, text=_at(entry, 4), author=_at(entry, 1, 0) or "",
                             rating=stars, author_reach=_at(entry, 6) or 0, brand=app.brand,
                             created_at=datetime.fromtimestamp(seconds, UTC),
                             url=f"https://play.google.com/store/apps/details?id={app.id}&hl=en&gl={country}"
                                 f"&reviewId={review_id}", ref=f"googleplay:{review_id[:40]}"))
    return posts, rejected, token if isinstance(token, str) else None


@connectors.register("googleplay")
class GooglePlayConnector(AppReviewConnector):
    config_model = GooglePlaySourceConfig
    store_name, default_api = "Google Play", API

    @classmethod
    def app_id_problem(cls, app_id: str) -> str | None:
        return None if _PACKAGE.match(app_id) else "a Google Play id is a package name like com.example.app"

    def read_app(self, app: ReviewAppConfig, country: str, cursor: dict[str, str]) -> Iterator[Batch]:
        key = f"reviews:{app.id}:{country}"
        state = load_state(cursor.get(key))
        newest = float(state.get("newest") or (utcnow() - timedelta(seconds=self.config.backfill)).timestamp())
        at_newest = set(state.get("ids") or [])
        posts, rejected, token = [], 0, None
        for _ in range(self.config.max_pages):
            found, bad, token = self._page(app, country, token)
            self.meter.add(len(found) + bad)
            rejected += bad
            fresh = [p for p in found if p.created_at.timestamp() > newest
                     or (p.created_at.timestamp() == newest and p.external_id not in at_newest)]
            posts += fresh
            if len(fresh) < len(found) or not token:
                break  # reached what the last poll stored, or the last page
        if posts:
            top = max(p.created_at.timestamp() for p in posts)
            ids = [p.external_id for p in posts if p.created_at.timestamp() == top]
            state = {"newest": top, "ids": ids + (list(at_newest) if top == newest else [])}
        else:
            state = {"newest": newest, "ids": list(at_newest)}
        yield from chunked(posts, {key: json.dumps(state)}, self.config.batch_size, rejected)

    def first_page(self, app: ReviewAppConfig, country: str) -> list[RawPost]:
        return self._page(app, country, None)[0]

    def _page(self, app: ReviewAppConfig, country: str, token: str | None) -> tuple[list[RawPost], int, str | None]:
        response = self.http.get(f"/_/PlayStoreUi/data/batchexecute?hl={self.config.language}&gl={country}",
                                 method="POST", data=request_body(app.id, self.config.page_size, token),
                                 headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})
        return parse_page(response.content.decode("utf-8", "replace"), app, country)
