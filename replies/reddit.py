"""Reddit replies through praw: ``POST /api/comment`` under the post or comment (by its fullname, t3_ or
t1_), as the brand's Reddit account through a "script" app (client id and secret plus the account's
username and password; Reddit gives script apps no other way to act as a user).

The target is read first (``/api/info``): a removed or deleted post, or a locked thread, cannot be answered.
Reddit takes comments of up to 10,000 characters.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field, SecretStr

from monitor.components import Replier, ReplyError
from monitor.config.replies import NetworkAccountConfig
from monitor.http_clients import praw_requestor
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers

LIMIT = 10_000


class RedditAccountConfig(NetworkAccountConfig):
    client_id: SecretStr = Field(description="a script app's client id: write ${ACME_REDDIT_CLIENT_ID}")
    client_secret: SecretStr = Field(description="the script app's secret: write ${ACME_REDDIT_CLIENT_SECRET}")
    username: str = Field(min_length=3, description="the brand's Reddit account (a developer of the app)")
    password: SecretStr = Field(description="that account's password: write ${ACME_REDDIT_PASSWORD}")
    user_agent: str = Field("server:complaint-monitor-replies:1.0", min_length=10,
                            description="honest user agent, e.g. 'server:acme-replies:1.0 (by /u/acme_support)'")


@repliers.register("reddit")
class RedditReplier(Replier):
    config_model = RedditAccountConfig

    def __init__(self, config: RedditAccountConfig) -> None:
        super().__init__(config)
        import praw
        import prawcore

        self._errors = prawcore.exceptions
        urls = {"oauth_url": config.api_base_url, "reddit_url": config.api_base_url} if config.api_base_url else {}
        self.reddit = praw.Reddit(
            client_id=config.client_id.get_secret_value(), client_secret=config.client_secret.get_secret_value(),
            username=config.username, password=config.password.get_secret_value(), user_agent=config.user_agent,
            check_for_async=False, check_for_updates=False, requestor_class=praw_requestor(never_retry="/api/comment"),
            requestor_kwargs={"timeout": config.timeout}, **urls)

    def account(self) -> str:
        return f"u/{self.config.username} on Reddit"

    def limit(self) -> int:
        return LIMIT

    def _thing(self, target: ReplyTarget) -> Any:
        if not target.external_id.startswith(("t1_", "t3_")):
            raise ReplyError(f"the stored post has no Reddit fullname ({target.external_id[:40]})", off_platform=True)
        found = self._call(lambda: list(self.reddit.info(fullnames=[target.external_id])))
        if not found:
            raise ReplyError("Reddit no longer has the post")
        thing = found[0]
        fields = vars(thing)
        if fields.get("author") is None or fields.get("removed_by_category") or \
                fields.get("body", fields.get("selftext")) in ("[deleted]", "[removed]"):
            raise ReplyError("the post was deleted or removed on Reddit")
        if fields.get("locked") or fields.get("archived"):
            raise ReplyError("the thread is locked or archived on Reddit: nobody can answer it there")
        return thing

    def check(self, target: ReplyTarget) -> None:
        self._thing(target)

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        thing = self._thing(target)
        comment = self._call(lambda: thing.reply(text), sending=True)
        if comment is None:
            raise ReplyError("Reddit did not post the comment (the thread may be locked)")
        return SentReply(comment.fullname, f"https://www.reddit.com{vars(comment).get('permalink') or ''}"
                         if vars(comment).get("permalink") else None)

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        wanted = " ".join(text.split())
        comments = self._call(lambda: list(self.reddit.redditor(self.config.username).comments.new(limit=50)))
        for comment in comments:
            fields = vars(comment)
            if fields.get("parent_id") == target.external_id and " ".join((fields.get("body") or "").split()) == wanted:
                permalink = fields.get("permalink")
                return SentReply(comment.fullname, f"https://www.reddit.com{permalink}" if permalink else None)
        return None

    def probe(self) -> str:
        me = self._call(lambda: self.reddit.user.me())
        return f"signed in as u/{me}"

    def _call(self, request: Callable[[], Any], sending: bool = False) -> Any:
        import praw.exceptions

        errors = self._errors
        try:
            return request()
        except (errors.OAuthException, errors.Forbidden) as exc:
            raise ReplyError(f"Reddit refused the account ({exc}): check client_id, client_secret, username and "
                             "password of the script app", off_platform=True) from None
        except praw.exceptions.RedditAPIException as exc:
            said = "; ".join(f"{item.error_type}: {item.message}" for item in exc.items)[:300]
            raise ReplyError(f"Reddit refused it ({said})") from None
        except errors.ResponseException as exc:
            raise ReplyError(f"Reddit refused it ({exc.response.status_code})") from None
        except errors.RequestException as exc:
            raise ReplyError(f"Reddit did not answer: {type(exc.original_exception).__name__}",
                             unknown=sending) from None
