"""Mastodon replies through Mastodon.py: ``POST /api/v1/statuses`` with ``in_reply_to_id`` on the brand
account's own instance, public, with an ``Idempotency-Key`` so a retried request posts once.

A post read on another instance has another id here, so the post is first looked up by its URL
(``/api/v2/search`` with ``resolve=true``), which also proves it still exists. The length limit is the
instance's own (``configuration.statuses.max_characters``, 500 when it does not say); links count 23 and a
mention @user@domain counts as @user, as Mastodon counts them.
"""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from monitor.components import Replier, ReplyError
from monitor.config.replies import ReplyAccountConfig
from monitor.markup import html_to_text
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers
from replies._counting import mastodon_length

DEFAULT_LIMIT = 500


class MastodonAccountConfig(ReplyAccountConfig):
    instance: str = Field(description="the brand account's instance, e.g. https://mastodon.social")
    access_token: SecretStr = Field(description="the account's token with write:statuses and read: write "
                                    "${ACME_MASTODON_TOKEN}")

    @field_validator("instance")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or " " in value:
            raise ValueError(f"expected the instance's http(s) URL, got {value!r}")
        return value.rstrip("/")


@repliers.register("mastodon")
class MastodonReplier(Replier):
    config_model = MastodonAccountConfig

    def __init__(self, config: MastodonAccountConfig) -> None:
        super().__init__(config)
        from mastodon import Mastodon

        self.client = Mastodon(api_base_url=config.instance, access_token=config.access_token.get_secret_value(),
                               request_timeout=config.timeout, ratelimit_method="throw", version_check_mode="none")
        self._limit: int | None = None
        self._me: dict | None = None

    def account(self) -> str:
        me = self._account()
        return f"@{me.get('acct')} on {self.config.instance.split('://', 1)[-1]}"

    def limit(self) -> int:
        if self._limit is None:
            self._limit = self._instance_limit()
        return self._limit

    def _instance_limit(self) -> int:
        """The instance's own limit (GET /api/v2/instance, public); Mastodon's default when it does not say."""
        try:
            response = self.client.session.get(f"{self.config.instance}/api/v2/instance", timeout=self.config.timeout)
            found = response.json()["configuration"]["statuses"]["max_characters"]
        except Exception:  # noqa: BLE001 - an instance that does not say has the default
            return DEFAULT_LIMIT
        return found if isinstance(found, int) and found > 0 else DEFAULT_LIMIT

    def length(self, text: str) -> int:
        return mastodon_length(text)

    def check(self, target: ReplyTarget) -> None:
        self._local_id(target)

    def _local_id(self, target: ReplyTarget) -> str:
        """The post's id on the brand account's instance."""
        query = target.url or target.external_id
        found = self._call(lambda: self.client.search_v2(
            query, resolve=True, result_type="statuses", exclude_unreviewed=False))
        statuses = found.get("statuses") if isinstance(found, dict) else None
        if not statuses:
            raise ReplyError(f"{self.config.instance} cannot find the post any more ({query}): it may have been "
                             "deleted")
        return str(statuses[0]["id"])

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        status_id = self._local_id(target)
        status = self._call(lambda: self.client.status_post(text, in_reply_to_id=status_id, visibility="public",
                                                            idempotency_key=key), sending=True)
        return SentReply(str(status["id"]), status.get("url") or status.get("uri"))

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        status_id = self._local_id(target)
        me = self._account()
        for status in self._call(lambda: self.client.account_statuses(me["id"], exclude_reblogs=True, limit=40)):
            if str(status.get("in_reply_to_id")) == status_id and \
                    " ".join(html_to_text(status.get("content") or "").split()) == " ".join(text.split()):
                return SentReply(str(status["id"]), status.get("url") or status.get("uri"))
        return None

    def _account(self) -> dict:
        if self._me is None:
            self._me = dict(self._call(self.client.account_verify_credentials))
        return self._me

    def probe(self) -> str:
        me = self._account()
        return f"signed in as @{me.get('acct')} on {self.config.instance}; replies up to {self.limit()} characters"

    def _call(self, request, sending: bool = False):
        from mastodon import MastodonAPIError, MastodonNetworkError, MastodonUnauthorizedError

        try:
            return request()
        except MastodonUnauthorizedError as exc:
            raise ReplyError(f"{self.config.instance} refused the account's token ({_said(exc)}): check "
                             "access_token (it needs write:statuses)", off_platform=True) from None
        except MastodonNetworkError as exc:
            raise ReplyError(f"{self.config.instance} did not answer: {exc}"[:300], unknown=sending) from None
        except MastodonAPIError as exc:
            raise ReplyError(f"{self.config.instance} refused it: {_said(exc)}") from None


def _said(exc: Exception) -> str:
    """The instance's own error text (Mastodon.py passes status, reason, error) without the Python noise."""
    args = [a for a in getattr(exc, "args", ()) if isinstance(a, (str, int))]
    return " ".join(str(a) for a in args[1:]) or str(exc)
