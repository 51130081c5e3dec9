"""X (Twitter) recent search and mentions timeline through tweepy's API v2 Client.

One query per brand: its terms OR'ed, ``-is:retweet``, exclusions as
``-term``, ``lang:`` when the brand lists languages. ``since_id`` per query is
the cursor, saved with each stored page, so a post is read from the API once
across polls and restarts. Pagination that hits the per-poll page cap resumes
on the next poll before newer posts are read. X bills reads, so each response
is counted against the source's monthly budget before the next request.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from pydantic import Field, SecretStr

from monitor import clock
from monitor.clock import utcnow
from monitor.components import Connector, SourceError, load_state
from monitor.config import BrandConfig, Duration, NetworkSourceConfig
from monitor.http_clients import route_session
from monitor.model import Batch, RawPost
from monitor.registry import connectors

log = logging.getLogger(__name__)

API = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "lang", "public_metrics", "conversation_id", "author_id", "referenced_tweets"]
USER_FIELDS = ["username", "public_metrics"]


class XSourceConfig(NetworkSourceConfig):
    bearer_token: SecretStr = Field(description="app-only bearer token: write ${X_BEARER_TOKEN}")
    max_results: int = Field(100, ge=10, le=100, description="posts per API page (10-100)")
    max_pages: int = Field(5, ge=1, le=100, description="pages per query per poll; the rest is read next poll")
    backfill: Duration = Field(3600.0, ge=10, le=6 * 86400,
                               description="first run: how far back to read (recent search reaches 7 days)")
    query_limit: int = Field(512, ge=64, le=4096, description="query length your X plan allows (512 on Basic)")
    own_mentions: bool = Field(False, description="also read the mentions timeline of each brand's first "
                                                  "own account")


def _term(term: str) -> str:
    term = term.replace('"', "").strip()
    if term[:1] in "@#" and term[1:].replace("_", "").isalnum():
        return term
    return term if term.replace("_", "").isalnum() else f'"{term}"'


def build_query(brand: BrandConfig) -> str:
    # The brand's own replies ride in the same query (no extra request): they answer complaints publicly.
    terms = [_term(t) for t in brand.terms] + [f"(from:{a.lstrip('@')} is:reply)" for a in brand.own_accounts]
    query = terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"
    query += " -is:retweet"
    query += "".join(f" -{_term(x)}" for x in brand.exclude)
    if brand.languages:
        langs = [f"lang:{code}" for code in brand.languages]
        query += " " + (langs[0] if len(langs) == 1 else "(" + " OR ".join(langs) + ")")
    return query


@connectors.register("x")
class XConnector(Connector):
    config_model = XSourceConfig
    required_env = ("X_BEARER_TOKEN",)

    @classmethod
    def check_config(cls, name: str, config: XSourceConfig, brands: list[BrandConfig]) -> list[str]:
        problems = []
        for i, brand in enumerate(brands):
            query = build_query(brand)
            if len(query) > config.query_limit:
                problems.append(f"brands[{i}].terms: the X query for {brand.name} is {len(query)} characters, over "
                                f"sources.{name}.query_limit ({config.query_limit}); use fewer or shorter terms")
        return problems

    def __init__(self, name: str, config: XSourceConfig, brands: list[BrandConfig]) -> None:
        super().__init__(name, config, brands)
        import tweepy  # heavy: only when an X source is enabled

        self._tweepy = tweepy
        self.client = tweepy.Client(bearer_token=config.bearer_token.get_secret_value(), return_type=dict,
                                    wait_on_rate_limit=False)
        route_session(self.client.session, API, config.api_base_url, config.timeout, config.deadline)

    def describe(self) -> str:
        return f"X recent search for {len(self.brands)} brand(s)" + (" + mentions" if self.config.own_mentions else "")

    def probe(self) -> str:
        # /2/users/me refuses app-only bearer tokens, so the proof is the call the source lives on: one recent
        # search of the smallest page, which also shows whether the app's X plan includes recent search.
        body = self._call(lambda: self.client.search_recent_tweets(build_query(self.brands[0]), max_results=10))
        found = body.get("data") if isinstance(body.get("data"), list) else []
        return (f"bearer token accepted; recent search for {self.brands[0].name} answered with {len(found)} "
                "post(s) (counted by X against the plan's monthly reads)")

    lookup_batch = 100  # GET /2/tweets?ids=: up to 100 a request

    def gone(self, external_ids: list[str]) -> set[str]:
        self.meter.reserve(len(external_ids))
        body = self._call(lambda: self.client.get_tweets(external_ids, tweet_fields=["id"]))
        found = {str(t.get("id")) for t in body.get("data") or [] if isinstance(t, dict)}
        self.meter.add(len(found))
        # Missing ids come back as errors: "Not Found Error" (deleted) or "Authorization Error" (the author is
        # suspended or protected); either way the post is no longer public.
        return {i for i in external_ids if i not in found}

    def fetch(self, cursor: dict[str, str]) -> Iterator[Batch]:
        for brand in self.brands:
            query = build_query(brand)
            yield from self._pages(f"search:{brand.name}", cursor, brand, "next_token",
                                   lambda **kw: self.client.search_recent_tweets(query, **kw))  # noqa: B023 - used up in this iteration
            if self.config.own_mentions and brand.own_accounts:
                handle = brand.own_accounts[0].lstrip("@")
                user_id = cursor.get(f"user:{handle}") or self._user_id(handle)
                cursor[f"user:{handle}"] = user_id
                yield from self._pages(f"mentions:{handle}", cursor, brand, "pagination_token",
                                       lambda **kw: self.client.get_users_mentions(user_id, **kw),  # noqa: B023 - as above
                                       extra={f"user:{handle}": user_id})

    def _user_id(self, handle: str) -> str:
        body = self._call(lambda: self.client.get_user(username=handle))
        user = body.get("data") if isinstance(body, dict) else None
        if not isinstance(user, dict) or not user.get("id"):
            raise SourceError(f"X has no account @{handle} (brands own_accounts)", unhealthy=True)
        return str(user["id"])

    def _pages(self, key: str, cursor: dict[str, str], brand: BrandConfig, token_param: str,
               call: Callable[..., Any], extra: dict[str, str] | None = None) -> Iterator[Batch]:
        state = load_state(cursor.get(key))
        if not state.get("since_id") and not state.get("start_time"):
            state["start_time"] = (utcnow() - timedelta(seconds=self.config.backfill)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(self.config.max_pages):
            params: dict[str, Any] = {"max_results": self.config.max_results, "tweet_fields": TWEET_FIELDS,
                                      "expansions": ["author_id"], "user_fields": USER_FIELDS}
            if state.get("since_id"):
                params["since_id"] = state["since_id"]
            else:
                # Recent search reaches back 7 days: a first run that found nothing for a week starts fresh.
                oldest = (utcnow() - timedelta(days=6, hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")
                params["start_time"] = max(state["start_time"], oldest)
            if state.get("next_token"):
                params[token_param] = state["next_token"]
            self.meter.reserve(self.config.max_results)
            body = self._call(lambda: call(**params))  # noqa: B023 - called at once
            posts, rejected = _posts(body, brand)
            self.meter.add(len(posts) + rejected)
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            newest = state.get("pending_newest") or meta.get("newest_id")
            if meta.get("next_token"):
                state = {**state, "next_token": meta["next_token"], "pending_newest": newest}
            else:
                state = {"since_id": newest or state.get("since_id"), "start_time": state.get("start_time")}
            cursor[key] = json.dumps(state)
            yield Batch(posts, {key: cursor[key], **(extra or {})}, rejected)
            if not state.get("next_token"):
                return

    def _call(self, request: Callable[[], Any]) -> dict:
        errors = self._tweepy.errors
        try:
            body = request()
        except errors.TooManyRequests as exc:
            reset = exc.reset_time or int(exc.response.headers.get("x-rate-limit-reset", 0) or 0)
            wait = max(1.0, reset - clock.timestamp()) if reset else 900.0
            raise SourceError(f"X rate limit reached (429); paused for {wait:.0f}s until the window resets",
                              retry_after=wait) from None
        except errors.Unauthorized:
            raise SourceError("X rejected the bearer token (401 Unauthorized): set X_BEARER_TOKEN to the app's "
                              "current bearer token (developer portal > project > app > keys and tokens)",
                              unhealthy=True) from None
        except errors.Forbidden as exc:
            detail = "; ".join(exc.api_messages)[:300] or "forbidden"
            raise SourceError(f"X refused access (403: {detail}): recent search needs an app inside a project "
                              "on an X API plan that includes it", unhealthy=True) from None
        except errors.TwitterServerError as exc:
            raise SourceError(f"X server error {exc.response.status_code}; retrying at later runs") from None
        except errors.HTTPException as exc:
            detail = "; ".join(exc.api_messages)[:300]
            raise SourceError(f"X rejected the request ({exc.response.status_code}: {detail})") from None
        except self._requests_errors() as exc:
            raise SourceError(f"cannot reach the X API: {type(exc).__name__}: {exc}"[:400]) from None
        except ValueError as exc:  # requests' JSONDecodeError
            raise SourceError(f"X returned a malformed response (not JSON: {exc})"[:300]) from None
        if not isinstance(body, dict):
            raise SourceError(f"X returned a malformed response (expected an object, got {type(body).__name__})")
        return body

    @staticmethod
    def _requests_errors() -> tuple[type[Exception], ...]:
        import requests

        return (requests.ConnectionError, requests.Timeout)

    def close(self) -> None:
        self.client.session.close()


def _replied_to(tweet: dict) -> str | None:
    refs = tweet.get("referenced_tweets") if isinstance(tweet.get("referenced_tweets"), list) else []
    return next((str(r.get("id")) for r in refs if isinstance(r, dict) and r.get("type") == "replied_to"), None)


def _posts(body: dict, brand: BrandConfig) -> tuple[list[RawPost], int]:
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
    data = body.get("data") or []
    if not isinstance(data, list):
        raise SourceError(f"X returned a malformed response (data is {type(data).__name__})")
    posts, rejected = [], 0
    for tweet in data:
        if not isinstance(tweet, dict) or not tweet.get("id"):
            rejected += 1
            continue
        user = users.get(tweet.get("author_id")) or {}
        username = user.get("username") or ""
        metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
        posts.append(RawPost(
            external_id=tweet["id"], text=tweet.get("text"), author=username,
            author_reach=metrics.get("followers_count"),
            url=f"https://x.com/{username}/status/{tweet['id']}" if username else f"https://x.com/i/status/{tweet['id']}",
            language=tweet.get("lang"), created_at=tweet.get("created_at"), brand=brand.name, ref=f"x:{tweet['id']}",
            in_reply_to=_replied_to(tweet)))
    return posts, rejected
