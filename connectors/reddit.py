"""Reddit search and comment scans through praw (read-only, app-only OAuth).

For each brand, a search sorted by newest in the configured subreddits (or all
of Reddit); optionally the newest comments of some subreddits, kept when they
name a brand. Listings are newest first and praw's own de-duplication lives in
memory only, so the cursor per query is the newest (created time, fullname)
stored; each poll reads back to that point minus an overlap window (Reddit's
search index lags) and the database drops the repeats. Comment listings have
no such lag: their scan stops at the cursor. A query's cursor is saved with its
last batch only, so an interrupted poll re-reads rather than skips.

Rate limits: prawcore (4.x) paces itself by sleeping before a request when
Reddit's window runs low, up to the window's reset. The connector reads the
x-ratelimit-* headers of every answer on its own requests session and, when
fewer than PAUSE_BELOW requests are left, stops the poll from that answer's
hook, before prawcore's sleep, and pauses the source until the reset.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import Field, SecretStr, field_validator

from monitor.clock import utcnow
from monitor.components import Connector, SourceError, chunked, load_state
from monitor.config import BrandConfig, Duration, NetworkSourceConfig
from monitor.http_clients import praw_requestor
from monitor.model import Batch, RawPost
from monitor.registry import connectors
from monitor.terms import term_pattern

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "server:complaint-monitor:1.0 (self-hosted brand complaint monitor)"
PAUSE_BELOW = 10  # requests left in the window: below this prawcore would sleep between pages


class _WindowNearlyUsed(Exception):
    def __init__(self, remaining: float, reset_in: float) -> None:
        super().__init__(f"{remaining:.0f} requests left")
        self.remaining, self.reset_in = remaining, reset_in


class RedditTraffic:
    """What Reddit's answers say, read on the connector's own requests session: the rate-limit window, and
    the requests made and items fetched (what the monthly budget counts, kept or not)."""

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.reset_at: float | None = None
        self.requests = self.items = 0

    def on_response(self, response, *args, **kwargs):
        if response.request.method == "POST" and response.url.endswith("/access_token"):
            return response  # the OAuth token: not a read
        self.requests += 1
        try:
            self.items += len(response.json()["data"]["children"])
        except (ValueError, KeyError, TypeError):
            pass  # not a listing: prawcore reports it
        headers = response.headers
        try:
            self.remaining = float(headers["x-ratelimit-remaining"])
            self.reset_at = time.monotonic() + float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            pass
        reset_in = self.nearly_used()
        if reset_in is not None:
            raise _WindowNearlyUsed(self.remaining, reset_in)
        return response

    def nearly_used(self) -> float | None:
        """Seconds until the window resets when too few requests are left for a poll, else None."""
        if self.remaining is None or self.remaining >= PAUSE_BELOW or not self.reset_at:
            return None
        left = self.reset_at - time.monotonic()
        return left if left > 0 else None

    def take(self) -> tuple[int, int]:
        """Items fetched and requests made since the last call."""
        counts, self.items, self.requests = (self.items, self.requests), 0, 0
        return counts


class RedditSourceConfig(NetworkSourceConfig):
    client_id: SecretStr = Field(description="app client id: write ${REDDIT_CLIENT_ID}")
    client_secret: SecretStr = Field(description="app secret: write ${REDDIT_CLIENT_SECRET}")
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=10,
                            description="honest user agent, e.g. 'server:acme-monitor:1.0 (by /u/acme_support)'")
    subreddits: list[str] = Field(default_factory=list, description="search only these; empty = all of Reddit")
    comment_subreddits: list[str] = Field(default_factory=list,
                                          description="also scan the newest comments of these for brand terms")
    max_items: int = Field(250, ge=1, le=1000, description="items read per query per poll at most")
    overlap: Duration = Field(600.0, ge=0, description="re-check this far behind the cursor (search index lag)")
    backfill: Duration = Field(3600.0, ge=0, description="first run: how far back to read")
    own_replies: bool = Field(True, description="also read the newest comments of each brand's own accounts "
                              "(one request per account per poll): a reply there answers its case publicly")

    @field_validator("subreddits", "comment_subreddits")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        names = [v.strip().removeprefix("/").removeprefix("r/") for v in values]
        bad = [n for n in names if not n.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"not a subreddit name: {bad[0]!r}")
        return names


def build_query(brand: BrandConfig) -> str:
    terms = []
    for term in brand.terms:
        word = term.replace('"', "").strip().lstrip("@#")
        terms.append(word if word.replace("_", "").isalnum() else f'"{word}"')
    return " OR ".join(dict.fromkeys(terms))


def _field(item: Any, name: str) -> Any:
    # Read what the listing carried; a missing praw attribute would trigger a lazy fetch (an extra request).
    fields = getattr(item, "__dict__", None)
    return fields.get(name) if isinstance(fields, dict) else None


def _count(item: Any, name: str) -> int:
    value = _field(item, name)
    return max(0, value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _raw(item: Any, brand: str | None) -> RawPost:
    fullname = _field(item, "name")
    if str(fullname or "").startswith("t1_"):  # a comment
        text = _field(item, "body")
    else:
        title, body = _field(item, "title"), _field(item, "selftext")
        text = f"{title}\n\n{body}".strip() if isinstance(title, str) and isinstance(body, str) and body else title
    reach = _count(item, "score") + _count(item, "num_comments")
    author = _field(item, "author")
    permalink = _field(item, "permalink")
    parent = _field(item, "parent_id")
    return RawPost(external_id=fullname, text=text, author=str(author) if author else "[deleted]",
                   author_reach=reach, url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
                   created_at=_field(item, "created_utc"), brand=brand, ref=f"reddit:{fullname}",
                   in_reply_to=parent if isinstance(parent, str) else None)


@connectors.register("reddit")
class RedditConnector(Connector):
    config_model = RedditSourceConfig
    required_env = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")

    def __init__(self, name: str, config: RedditSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        import praw  # heavy: only when a Reddit source is enabled
        import prawcore

        from monitor.http_deadline import deadline_session

        self._errors = prawcore.exceptions
        self._session = deadline_session(config.deadline)
        self.traffic = RedditTraffic()
        self._session.hooks["response"].append(self.traffic.on_response)
        urls = {"oauth_url": config.api_base_url, "reddit_url": config.api_base_url} if config.api_base_url else {}
        self.reddit = praw.Reddit(
            client_id=config.client_id.get_secret_value(), client_secret=config.client_secret.get_secret_value(),
            user_agent=config.user_agent, check_for_async=False, check_for_updates=False,
            requestor_class=praw_requestor(), requestor_kwargs={"timeout": config.timeout, "session": self._session},
            **urls)
        self.reddit.read_only = True
        self._brand_patterns = [(b.name, term_pattern(b.terms)) for b in brands]

    def describe(self) -> str:
        where = "+".join(self.config.subreddits) or "all"
        return f"Reddit search in r/{where} for {len(self.brands)} brand(s)"

    def probe(self) -> str:
        # The app-only token request (POST /api/v1/access_token) is exactly what client id and secret are for.
        def token() -> Iterator[set[str]]:
            yield self.reddit.auth.scopes()

        scopes = next(self._guarded(token()))
        return f"app credentials accepted (app-only token, scopes {', '.join(sorted(scopes)) or 'none'})"

    lookup_batch = 100  # /api/info?id=: up to 100 fullnames a request

    def gone(self, external_ids: list[str]) -> set[str]:
        def lookup() -> Iterator[list]:
            yield list(self.reddit.info(fullnames=external_ids))

        present = set()
        for item in next(self._guarded(lookup())):
            removed = _field(item, "removed_by_category") or _field(item, "author") in (None, "[deleted]") or \
                _field(item, "body" if str(_field(item, "name")).startswith("t1_") else "selftext") in (
                    "[deleted]", "[removed]")
            if not removed:
                present.add(_field(item, "name"))
        self.meter.add(len(external_ids))
        return {i for i in external_ids if i not in present}

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        where = "+".join(self.config.subreddits) or "all"
        for brand in self.brands:
            query = build_query(brand)
            yield from self._read(f"search:{brand.name}", cursor, lambda limit, q=query: self.reddit.subreddit(where)
                                  .search(q, sort="new", time_filter="week", limit=limit), brand.name,
                                  self.config.overlap)
        if self.config.comment_subreddits:
            subs = "+".join(self.config.comment_subreddits)
            yield from self._read(f"comments:{subs}", cursor,
                                  lambda limit: self.reddit.subreddit(subs).comments(limit=limit), None, 0.0)
        for brand in self.brands if self.config.own_replies else []:
            for account in dict.fromkeys(a.lstrip("@").removeprefix("u/") for a in brand.own_accounts):
                yield from self._read(f"replies:{account}", cursor, lambda limit, a=account: self.reddit.redditor(a)
                                      .comments.new(limit=limit), brand.name, 0.0)

    def _read(self, key: str, cursor: dict[str, str], listing, brand: str | None,
              overlap: float) -> Iterator[Batch]:
        """``overlap``: how far behind the cursor to read again (search lags; comment listings do not)."""
        state = load_state(cursor.get(key))
        newest = float(state.get("created") or 0)
        stop_at = newest - overlap if newest else utcnow().timestamp() - self.config.backfill
        self._pause_if_window_used()
        posts, rejected, top = [], 0, state
        try:
            for item in self._guarded(listing(self.config.max_items)):
                created = _field(item, "created_utc")
                if not isinstance(created, (int, float)):
                    rejected += 1
                    continue
                if created < stop_at:
                    break  # newest first: everything further down was read before
                if created > float(top.get("created") or 0):
                    top = {"created": created, "fullname": _field(item, "name")}
                raw = _raw(item, brand if brand else self._brand_of(item))
                if raw.brand:
                    posts.append(raw)
        finally:
            fetched, requests = self.traffic.take()
            if requests:
                self.meter.add(fetched, requests=requests)  # billed whether kept or not, failed or not
        yield from chunked(posts, {key: json.dumps(top)}, self.config.batch_size, rejected)

    def _brand_of(self, item: Any) -> str | None:
        body = _field(item, "body") or ""
        if not isinstance(body, str):
            return None
        return next((name for name, pattern in self._brand_patterns if pattern and pattern.search(body)), None)

    def _pause_if_window_used(self) -> None:
        """Pause the source instead of letting prawcore sleep in the scheduler's thread."""
        reset_in = self.traffic.nearly_used()
        if reset_in is not None:
            raise _paused(self.traffic.remaining, reset_in)

    def _guarded(self, items: Iterable[Any]) -> Iterator[Any]:
        """Iterates a praw listing, turning prawcore errors into SourceErrors that say what to do."""
        e = self._errors
        try:
            yield from items
        except e.TooManyRequests as exc:
            headers = exc.response.headers
            wait = float(headers.get("x-ratelimit-reset") or headers.get("retry-after") or 60)
            raise SourceError(f"Reddit rate limit reached (429); paused for {wait:.0f}s", retry_after=wait) from None
        except (e.OAuthException, e.InvalidToken) as exc:
            raise SourceError(f"Reddit rejected the app credentials ({exc}): check REDDIT_CLIENT_ID and "
                              "REDDIT_CLIENT_SECRET (an app at reddit.com/prefs/apps)", unhealthy=True) from None
        except e.Forbidden:
            raise SourceError("Reddit refused access (403): a configured subreddit is private, banned or "
                              "quarantined, or the app is blocked; check sources subreddits", unhealthy=True) from None
        except (e.NotFound, e.Redirect):
            raise SourceError("Reddit has no such subreddit (404/redirect): check the subreddit names",
                              unhealthy=True) from None
        except e.ServerError as exc:
            raise SourceError(f"Reddit server error {exc.response.status_code}; retrying at later runs") from None
        except e.BadJSON:
            raise SourceError("Reddit returned a malformed response (not JSON)") from None
        except e.ResponseException as exc:
            if exc.response.status_code == 401:
                raise SourceError("Reddit rejected the app credentials (401): check REDDIT_CLIENT_ID and "
                                  "REDDIT_CLIENT_SECRET", unhealthy=True) from None
            raise SourceError(f"Reddit answered {exc.response.status_code}: {exc}"[:300]) from None
        except e.RequestException as exc:
            if isinstance(exc.original_exception, _WindowNearlyUsed):
                raise _paused(exc.original_exception.remaining, exc.original_exception.reset_in) from None
            raise SourceError(f"cannot reach Reddit: {exc.original_exception!r}"[:300]) from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise SourceError(f"Reddit returned a malformed listing ({type(exc).__name__}: {exc})"[:300]) from None

    def close(self) -> None:
        self._session.close()


def _paused(remaining: float, reset_in: float) -> SourceError:
    return SourceError(f"Reddit rate limit nearly used ({remaining:.0f} requests left); paused {reset_in:.0f}s "
                       "until the window resets", retry_after=reset_in)
