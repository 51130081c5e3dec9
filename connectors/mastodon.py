"""Mastodon hashtag timelines through Mastodon.py, on the instances you list.

Mastodon has no full-text search of other people's posts, so the source reads the hashtag timelines of
each brand's tags (its ``#terms``, or ``tags``) on each instance, which include posts federated from
elsewhere. The cursor per instance and tag is ``min_id``: a poll asks only for newer statuses, page by page
up to ``max_pages``. A status is stored under its ActivityPub URI, so one seen on two instances is kept once.
Content arrives as HTML and is stored as plain text with its links. Rate limits come from the
X-RateLimit-* headers: when few requests are left the source pauses until the reset instead of letting
the client sleep in the scheduler's thread.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import Field, SecretStr, field_validator

from monitor import clock
from monitor.components import Connector, SourceError, chunked, load_state
from monitor.config import BrandConfig, Duration, HttpSourceConfig, StrictModel
from monitor.markup import html_to_text
from monitor.model import Batch, RawPost
from monitor.registry import connectors

PAUSE_BELOW = 5  # requests left in the window: pause rather than spend the last ones
MAX_ID = 128


class MastodonInstanceConfig(StrictModel):
    url: str = Field(description="instance base URL, e.g. https://mastodon.social")
    access_token: SecretStr | None = Field(None, description="token for instances whose public timelines "
                                              "need one: write ${MASTODON_TOKEN}")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")


class MastodonSourceConfig(HttpSourceConfig):
    instances: list[MastodonInstanceConfig] = Field(min_length=1, description="instances to read: url, "
                                                    "access_token (optional)")
    tags: dict[str, list[str]] = Field(default_factory=dict, description="hashtags per brand name, without #; "
                                       "default: the brand's #terms, else its name")
    max_pages: int = Field(5, ge=1, le=50, description="pages of 40 per instance and tag per poll")
    interval: Duration = Field(120.0, ge=1, description="time between polls")


def brand_tags(brand: BrandConfig, configured: dict[str, list[str]]) -> list[str]:
    tags = configured.get(brand.name) or [t[1:] for t in brand.terms if t.startswith("#")] or \
        [re.sub(r"\W", "", brand.name)]
    return list(dict.fromkeys(t.lstrip("#").lower() for t in tags if t.lstrip("#")))


def status_post(status: Any, brand: str) -> RawPost | None:
    """A status as a post; None for boosts, which repeat someone else's post."""
    if not isinstance(status, dict) or status.get("reblog") or not status.get("id"):
        return None
    uri = str(status.get("uri") or status.get("url") or status["id"])
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    text = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    reply_to = status.get("in_reply_to_id")
    # A digest of the URI, not a secret: it only keeps an overlong id inside the column.
    digest = hashlib.sha1(uri.encode(), usedforsecurity=False).hexdigest()
    return RawPost(external_id=uri if len(uri) <= MAX_ID else "sha1:" + digest,
                   text=f"{warning}\n\n{text}" if warning else text, author=account.get("acct") or "",
                   author_reach=account.get("followers_count"), url=status.get("url") or uri,
                   language=status.get("language"), created_at=status.get("created_at"), brand=brand,
                   ref=f"mastodon:{status['id']}", in_reply_to=str(reply_to) if reply_to else None)


@connectors.register("mastodon")
class MastodonConnector(Connector):
    config_model = MastodonSourceConfig

    def __init__(self, name: str, config: MastodonSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        from mastodon import Mastodon  # only when a Mastodon source is enabled

        from monitor.http_deadline import deadline_session

        self.clients = {
            instance.url: Mastodon(api_base_url=instance.url, request_timeout=config.timeout,
                                   access_token=(instance.access_token.get_secret_value()
                                                 if instance.access_token else None),
                                   ratelimit_method="throw", version_check_mode="none",
                                   session=deadline_session(config.deadline))
            for instance in config.instances}

        # A stored post is looked up by its URI (search with resolve), which instances answer only with a token.
        self.lookup_batch = 20 if any(i.access_token for i in config.instances) else 0

    def gone(self, external_ids: list[str]) -> set[str]:
        """One search per post on the first instance with a token: a post the instance can no longer resolve
        (deleted at its origin) is gone. An overlong URI stored as a digest cannot be looked up and stays."""
        url, client = next((i.url, self.clients[i.url]) for i in self.config.instances if i.access_token)
        missing = set()
        for uri in (i for i in external_ids if i.startswith(("https://", "http://"))):
            found = self._call(url, lambda u=uri: [client.search_v2(u, resolve=True, result_type="statuses",
                                                                    exclude_unreviewed=False)])[0]
            if not (found.get("statuses") if isinstance(found, dict) else None):
                missing.add(uri)
        self.meter.add(len(external_ids) - len(missing), requests=len(external_ids))
        return missing

    def describe(self) -> str:
        tags = sum(len(brand_tags(b, self.config.tags)) for b in self.brands)
        return f"Mastodon: {tags} hashtag(s) on {len(self.clients)} instance(s)"

    def probe(self) -> str:
        tag = next((t for b in self.brands for t in brand_tags(b, self.config.tags)), None)
        if tag is None:
            return "no hashtags to read: nothing to ask the instances"
        answers = []
        for url, client in self.clients.items():  # the token, when set, rides on the request
            page = self._call(url, lambda c=client: c.timeline_hashtag(tag, limit=1))
            answers.append(f"{url} (#{tag}: {len(page)} post(s))")
        return "hashtag timelines readable on " + ", ".join(answers)

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for url, client in self.clients.items():
            for brand in self.brands:
                for tag in brand_tags(brand, self.config.tags):
                    yield from self._read(client, url, tag, brand.name, cursor)

    def _read(self, client, url: str, tag: str, brand: str, cursor: dict[str, str]) -> Iterator[Batch]:
        key = f"tag:{url}:{tag}"
        state = load_state(cursor.get(key))
        min_id, posts = state.get("min_id"), []
        for _ in range(self.config.max_pages):
            self._pause_if_window_used(client, url)
            page = self._call(url, lambda: client.timeline_hashtag(tag, min_id=min_id, limit=40))  # noqa: B023 - called at once
            self.meter.add(len(page))
            if not page:
                break
            min_id = str(max((s["id"] for s in page if isinstance(s, dict) and s.get("id")), key=_id_order))
            posts += [p for p in (status_post(s, brand) for s in page) if p]
            if len(page) < 40:
                break
        if min_id is None:
            return  # nothing ever seen: nothing to remember
        yield from chunked(posts, {key: json.dumps({"min_id": min_id})}, self.config.batch_size)

    @staticmethod
    def _pause_if_window_used(client, url: str) -> None:
        remaining, reset = getattr(client, "ratelimit_remaining", None), getattr(client, "ratelimit_reset", None)
        now = clock.timestamp()
        if remaining is not None and remaining < PAUSE_BELOW and reset and reset > now:
            raise SourceError(f"Mastodon rate limit nearly used on {url} ({remaining} requests left); paused "
                              f"{reset - now:.0f}s until the window resets", retry_after=reset - now)

    @staticmethod
    def _call(url: str, request) -> list:
        from mastodon import errors as e

        try:
            page = request()
        except e.MastodonRatelimitError:
            raise SourceError(f"Mastodon rate limit reached on {url}; paused for 300s", retry_after=300.0) from None
        except e.MastodonUnauthorizedError:
            raise SourceError(f"{url} refused to show its hashtag timeline (401): the instance needs an "
                              "access token for it, or the configured one is wrong", unhealthy=True) from None
        except e.MastodonNotFoundError:
            raise SourceError(f"{url} has no Mastodon API (404): check the instance URL", unhealthy=True) from None
        except e.MastodonNetworkError as exc:
            raise SourceError(f"cannot reach {url}: {exc}"[:300]) from None
        except e.MastodonServerError as exc:
            raise SourceError(f"{url} server error ({exc.args[1] if len(exc.args) > 1 else exc}); retrying "
                              "at later runs"[:300]) from None
        except e.MastodonError as exc:
            raise SourceError(f"{url} returned a malformed or refused answer: {exc}"[:300]) from None
        if not isinstance(page, list):
            raise SourceError(f"{url} returned a malformed timeline (expected a list)")
        return page


def _id_order(status_id: Any) -> tuple[int, Any]:
    """Mastodon ids are numeric strings of growing length: order by length, then value."""
    text = str(status_id)
    return (len(text), text) if not isinstance(status_id, datetime) else (0, text)
