"""X replies through tweepy's API v2 Client: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``, as the
brand account (an OAuth 2.0 user access token with tweet.read, tweet.write and users.read).

X's self-serve plans refuse a reply (403) unless the post's author mentioned or quoted the account, so a
post that does not name the account is offered as an off-platform answer before anything is sent, and a 403
says the same. X counts 280 by weight: most scripts and emoji count 2, Latin 1, every link 23.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import Field, SecretStr

from monitor.components import Replier, ReplyError
from monitor.config.replies import NetworkAccountConfig
from monitor.http_clients import route_session
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers
from replies._counting import URL, x_weighted_length

API = "https://api.twitter.com"
LIMIT = 280
NOT_ENGAGED = ("X only lets the account answer posts that mention or quote it (self-serve API plans); this "
               "post does not")


class XAccountConfig(NetworkAccountConfig):
    access_token: SecretStr = Field(description="the brand account's OAuth 2.0 user access token (tweet.read, "
                                    "tweet.write, users.read): write ${ACME_X_USER_TOKEN}")


@repliers.register("x")
class XReplier(Replier):
    config_model = XAccountConfig

    def __init__(self, config: XAccountConfig) -> None:
        super().__init__(config)
        import tweepy

        self._tweepy = tweepy
        # A user access token rides as the bearer: tweepy sends it with user_auth=False.
        self.client = tweepy.Client(bearer_token=config.access_token.get_secret_value(), return_type=dict,
                                    wait_on_rate_limit=False)
        route_session(self.client.session, API, config.api_base_url, config.timeout)
        self._me: dict | None = None

    def account(self) -> str:
        return f"@{self._account()['username']} on X"

    def limit(self) -> int:
        return LIMIT

    def length(self, text: str) -> int:
        return x_weighted_length(text)

    def _account(self) -> dict:
        if self._me is None:
            self._me = self._call(lambda: self.client.get_me(user_auth=False))["data"]
        return self._me

    def check(self, target: ReplyTarget) -> None:
        body = self._call(lambda: self.client.get_tweet(
            target.external_id, user_auth=False, expansions=["referenced_tweets.id"],
            tweet_fields=["referenced_tweets", "author_id", "in_reply_to_user_id"]))
        if not isinstance(body.get("data"), dict):
            raise ReplyError("X no longer has the post: it was deleted or its author's account is protected")
        if not self._engaged(target, body):
            raise ReplyError(NOT_ENGAGED, off_platform=True)

    def _engaged(self, target: ReplyTarget, body: dict) -> bool:
        """The post mentions the account, answers it, or quotes one of its posts."""
        me = self._account()
        tweet = body["data"]
        if re.search(rf"(?<!\w)@{re.escape(me['username'])}\b", target.text, re.IGNORECASE) or \
                str(tweet.get("in_reply_to_user_id")) == str(me["id"]):
            return True
        quoted = {str(r.get("id")) for r in tweet.get("referenced_tweets") or [] if r.get("type") == "quoted"}
        included = (body.get("includes") or {}).get("tweets") or []
        return any(str(t.get("id")) in quoted and str(t.get("author_id")) == str(me["id"]) for t in included)

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        body = self._call(lambda: self.client.create_tweet(text=text, in_reply_to_tweet_id=target.external_id,
                                                           user_auth=False), sending=True)
        tweet_id = str(body["data"]["id"])
        return SentReply(tweet_id, f"https://x.com/{self._account()['username']}/status/{tweet_id}")

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        me = self._account()
        body = self._call(lambda: self.client.get_users_tweets(me["id"], max_results=50, user_auth=False,
                                                               tweet_fields=["referenced_tweets"]))
        wanted = _words(text)
        for tweet in body.get("data") or []:
            answered = any(r.get("type") == "replied_to" and str(r.get("id")) == target.external_id
                           for r in tweet.get("referenced_tweets") or [])
            if answered and _words(tweet.get("text") or "").endswith(wanted[-40:]):
                return SentReply(str(tweet["id"]), f"https://x.com/{me['username']}/status/{tweet['id']}")
        return None

    def probe(self) -> str:
        return f"signed in as @{self._account()['username']} (users/me with the user token)"

    def _call(self, request: Callable[[], Any], sending: bool = False) -> dict:
        errors = self._tweepy.errors
        try:
            body = request()
        except errors.Unauthorized:
            raise ReplyError("X refused the account's token (401): it expired or was revoked; set a fresh OAuth 2.0 "
                             "user access token", off_platform=True) from None
        except errors.Forbidden as exc:
            said = "; ".join(exc.api_messages)[:300] or "forbidden"
            engaged = "mentioned" in said or "engaged" in said
            raise ReplyError(NOT_ENGAGED + f" (X: {said})" if engaged else f"X refused it (403: {said})",
                             off_platform=engaged) from None
        except errors.TooManyRequests:
            raise ReplyError("X's rate limit for this account is used up (429); try again in a few minutes") from None
        except errors.HTTPException as exc:
            said = "; ".join(exc.api_messages)[:300]
            raise ReplyError(f"X refused it ({exc.response.status_code}: {said})") from None
        except self._network_errors() as exc:
            raise ReplyError(f"X did not answer: {type(exc).__name__}", unknown=sending) from None
        if not isinstance(body, dict):
            raise ReplyError("X returned a malformed answer", unknown=sending)
        return body

    @staticmethod
    def _network_errors() -> tuple[type[Exception], ...]:
        import requests

        return (requests.ConnectionError, requests.Timeout, ValueError)

    def close(self) -> None:
        self.client.session.close()


def _words(text: str) -> str:
    return " ".join(URL.sub("", text).split())
