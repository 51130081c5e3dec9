"""Bluesky posts through the atproto SDK's ``app.bsky.feed.searchPosts`` (an account and an app password).

Bluesky has disabled logged-out search, so the source signs in with a handle and an app password. Signing
in (``createSession``) is limited to 30 times in 5 minutes and 300 a day per account: the session, with
its refresh token, is kept in the database with the source's cursor and refreshed by the SDK when its
access token nears expiry, so the service signs in once, not once per poll or per restart. Only when the
stored session is refused does it sign in again.

One search per brand term, newest first (``sort=latest``), from the newest ``indexedAt`` stored minus a
small overlap (the search index settles for a few seconds); posts already stored within the overlap are
skipped by URI. The link is ``https://bsky.app/profile/<handle>/post/<rkey>``. Search results carry no
follower counts, so reach is the post's likes, reposts and replies (a follower count would cost one
request per author).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, SecretStr

from monitor.clock import utcnow
from monitor.components import Connector, SourceError, chunked, load_state
from monitor.config import BrandConfig, Duration, NetworkSourceConfig
from monitor.http_clients import retry_after
from monitor.model import Batch, RawPost
from monitor.registry import connectors

API = "https://bsky.social"
SESSION_KEY = "session"


class BlueskySourceConfig(NetworkSourceConfig):
    handle: str = Field(description="account handle, e.g. acme-monitor.bsky.social: write ${BLUESKY_HANDLE}")
    app_password: SecretStr = Field(description="an app password (Settings > App passwords), never the account "
                                    "password: write ${BLUESKY_APP_PASSWORD}")
    limit: int = Field(100, ge=1, le=100, description="posts per request")
    max_pages: int = Field(5, ge=1, le=50, description="pages per term per poll; the rest is read next poll")
    overlap: Duration = Field(60.0, ge=0, le=3600, description="re-read this far behind the newest post stored "
                              "(the search index settles for a few seconds)")
    backfill: Duration = Field(3600.0, ge=0, description="first run: how far back to read")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _when(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def post_of(view: Any, brand: str) -> RawPost | None:
    """A search result (PostView) as a post; None when it has no URI or record."""
    uri = getattr(view, "uri", None)
    record = getattr(view, "record", None)
    if not isinstance(uri, str) or record is None:
        return None
    author = getattr(view, "author", None)
    handle = getattr(author, "handle", None) or ""
    reply = getattr(record, "reply", None)
    parent = getattr(getattr(reply, "parent", None), "uri", None)
    engagement = sum(getattr(view, name, None) or 0 for name in ("like_count", "repost_count", "reply_count"))
    langs = getattr(record, "langs", None) or []
    return RawPost(external_id=uri, text=getattr(record, "text", None), author=handle, author_reach=engagement,
                   url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
                   language=langs[0] if langs else None, created_at=getattr(record, "created_at", None),
                   brand=brand, ref=f"bluesky:{uri.rsplit('/', 1)[-1]}", in_reply_to=parent)


@connectors.register("bluesky")
class BlueskyConnector(Connector):
    config_model = BlueskySourceConfig
    required_env = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")

    def __init__(self, name: str, config: BlueskySourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        from atproto import Client  # heavy: only when a Bluesky source is enabled
        from atproto_client.request import Request

        from monitor.http_deadline import deadline_transport

        self.client = Client(base_url=config.api_base_url or API, request=Request(
            timeout=config.timeout, transport=deadline_transport(config.deadline)))
        self.client.on_session_change(self._session_changed)
        self._signed_in = False
        self._new_session: str | None = None

    def describe(self) -> str:
        return f"Bluesky search as {self.config.handle} for {len(self.brands)} brand(s)"

    def probe(self) -> str:
        # A sign-in (createSession) proves handle and app password; it counts against 30 per 5 minutes.
        self._call(lambda: self.client.login(self.config.handle, self.config.app_password.get_secret_value(),
                                             fetch_bsky_profile=False), signing_in=True)
        return f"signed in as {getattr(self.client.me, 'handle', None) or self.config.handle}"

    def _session_changed(self, event, session) -> None:
        self._new_session = session.encode()

    lookup_batch = 25  # app.bsky.feed.getPosts: up to 25 URIs a request

    def gone(self, external_ids: list[str]) -> set[str]:
        self._sign_in(None)  # signed in already, or once: a daily check costs one createSession at most
        found = self._call(lambda: self.client.app.bsky.feed.get_posts({"uris": external_ids}))
        present = {getattr(p, "uri", None) for p in getattr(found, "posts", None) or []}
        self.meter.add(len(present))
        return {i for i in external_ids if i not in present}

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        self._sign_in(cursor.get(SESSION_KEY))
        yield from self._session_batch(cursor)
        for brand in self.brands:
            for term in dict.fromkeys(t.replace('"', "").strip().lstrip("@#") for t in brand.terms):
                try:
                    batches = list(self._read(f"search:{brand.name}:{term}", f'"{term}"', brand.name, cursor))
                except SourceError:
                    yield from self._session_batch(cursor)  # a refreshed session is kept even when a search fails
                    raise
                yield from self._session_batch(cursor)
                yield from batches

    def _session_batch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        """An empty batch that stores a new or refreshed session with the source's cursor."""
        if self._new_session:
            session, self._new_session = self._new_session, None
            cursor[SESSION_KEY] = session
            yield Batch([], {SESSION_KEY: session})

    def _sign_in(self, stored: str | None) -> None:
        if self._signed_in:
            return
        if stored:
            try:
                self.client.login(session_string=stored, fetch_bsky_profile=False)
                self._signed_in = True
                return
            except Exception:  # noqa: BLE001, S110 - an unreadable stored session: sign in afresh
                pass
        self._call(lambda: self.client.login(self.config.handle, self.config.app_password.get_secret_value(),
                                             fetch_bsky_profile=False), signing_in=True)
        self._signed_in = True

    def _read(self, key: str, query: str, brand: str, cursor: dict[str, str]) -> Iterator[Batch]:
        state = load_state(cursor.get(key))
        newest = _when(state.get("newest")) or utcnow() - timedelta(seconds=self.config.backfill)
        since = newest - timedelta(seconds=self.config.overlap if state.get("newest") else 0)
        seen = set(state.get("seen") or [])
        posts, page_cursor, top = [], None, newest
        for _ in range(self.config.max_pages):
            params = {"q": query, "sort": "latest", "since": _iso(since), "limit": self.config.limit}
            if page_cursor:
                params["cursor"] = page_cursor
            page = self._search(params)
            views = getattr(page, "posts", None) or []
            self.meter.add(len(views))
            for view in views:
                post = post_of(view, brand)
                indexed = _when(getattr(view, "indexed_at", None))
                if post and post.external_id not in seen:
                    posts.append(post)
                    top = max(top, indexed or top)
            page_cursor = getattr(page, "cursor", None)
            if not page_cursor or len(views) < self.config.limit:
                break
        recent = [p.external_id for p in posts] + list(seen)
        state = {"newest": _iso(top), "seen": recent[:500]}
        yield from chunked(posts, {key: json.dumps(state)}, self.config.batch_size)

    def _search(self, params: dict) -> Any:
        page = self._call(lambda: self.client.app.bsky.feed.search_posts(params))
        if not isinstance(getattr(page, "posts", None), list):
            raise SourceError("Bluesky returned a malformed search page (no posts list)")
        return page

    def _call(self, request, signing_in: bool = False) -> Any:
        from atproto_client import exceptions as e

        try:
            return request()
        except e.RateLimitExceededError as exc:
            wait = retry_after(exc.response.headers if exc.response else {}) or 300.0
            what = "sign-in (createSession: 30 per 5 minutes, 300 a day)" if signing_in else "search"
            raise SourceError(f"Bluesky rate limit reached for {what}; paused for {wait:.0f}s",
                              retry_after=wait) from None
        except (e.UnauthorizedError, e.BadRequestError) as exc:
            if signing_in or not self._expired(exc):
                raise SourceError(f"Bluesky refused {'the sign-in' if signing_in else 'the request'} ({exc}): "
                                  "check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password)"[:400],
                                  unhealthy=signing_in) from None
            self._signed_in = False  # the stored session is dead: sign in once and try again
            self._sign_in(None)
            return self._call(request)
        except e.InvokeTimeoutError:
            raise SourceError(f"Bluesky did not answer in time (each read within {self.config.timeout:g}s, the "
                              f"whole request within {self.config.deadline:g}s)") from None
        except e.NetworkError as exc:
            raise SourceError(f"cannot reach Bluesky: {type(exc).__name__} {exc}"[:300]) from None
        except e.RequestException as exc:
            raise SourceError(f"Bluesky error ({exc}); retrying at later runs"[:300]) from None
        except (e.ModelError, e.AtProtocolError, ValueError) as exc:
            raise SourceError(f"Bluesky returned a malformed answer ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else exc!r})"[:300]) from None

    @staticmethod
    def _expired(exc) -> bool:
        content = getattr(exc.response, "content", None)
        return getattr(content, "error", None) in ("ExpiredToken", "InvalidToken", "AuthenticationRequired")

    def close(self) -> None:
        self.client.request.close()
