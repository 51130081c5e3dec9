"""Google Play replies through the Android Publisher API: ``POST /androidpublisher/v3/applications/
{packageName}/reviews/{reviewId}:reply`` with ``replyText``, signed in as a service account that has "Reply to
reviews" in the Play Console (its JSON key file; the assertion is exchanged at the key's ``token_uri``).

The app is the one in the review's link (``?id=<package>``). The review is read first (it must still exist),
and after a crash the review's developer comment says whether the reply landed. Google Play takes replies
of up to 350 characters; a second reply replaces the first.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import Field, field_validator

from monitor import clock
from monitor.components import Replier, ReplyError
from monitor.config.replies import NetworkAccountConfig
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers
from replies._http import StoreApi
from replies._signing import google_assertion

API = "https://androidpublisher.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
LIMIT = 350


class GooglePlayAccountConfig(NetworkAccountConfig):
    service_account_file: str = Field(description="path of the service account's JSON key (Play Console > Users "
                                      "and permissions: Reply to reviews)")

    @field_validator("service_account_file")
    @classmethod
    def _key(cls, value: str) -> str:
        try:
            key = json.loads(Path(value).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read a JSON key at {value!r}: {exc}") from None
        missing = [k for k in ("client_email", "private_key", "token_uri") if not isinstance(key.get(k), str)]
        if missing:
            raise ValueError(f"{value!r} is not a service account key (no {', '.join(missing)})")
        return value


@repliers.register("googleplay")
class GooglePlayReplier(Replier):
    config_model = GooglePlayAccountConfig

    def __init__(self, config: GooglePlayAccountConfig) -> None:
        super().__init__(config)
        self.key = json.loads(Path(config.service_account_file).read_text(encoding="utf-8"))
        self.api = StoreApi("Google Play", config.api_base_url or API, config.timeout)
        self._token: tuple[str, float] | None = None

    def account(self) -> str:
        return f"{self.config.brand}'s developer reply on Google Play"

    def limit(self) -> int:
        return LIMIT

    def _bearer(self) -> str:
        if self._token is None or self._token[1] < clock.timestamp() + 60:
            answer = self._exchange()
            self._token = (answer["access_token"], clock.timestamp() + float(answer.get("expires_in") or 3600))
        return self._token[0]

    def _exchange(self) -> dict:
        import requests

        try:
            response = self.api.session.post(self.key["token_uri"], timeout=self.config.timeout, data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": google_assertion(self.key, SCOPE)})
        except requests.RequestException as exc:
            raise ReplyError(f"Google's token service did not answer: {type(exc).__name__}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            raise ReplyError(f"Google refused the service account {self.key['client_email']} "
                             f"({body.get('error_description') or body.get('error') or response.status_code})",
                             off_platform=True)
        return body

    def _review_path(self, target: ReplyTarget) -> str:
        package = re.search(r"[?&]id=([\w.]+)", target.url or "")
        if not package:
            raise ReplyError("the review's link does not name its app", off_platform=True)
        return f"/androidpublisher/v3/applications/{package.group(1)}/reviews/{target.external_id}"

    def check(self, target: ReplyTarget) -> None:
        if self.api.call("GET", self._review_path(target), self._bearer(), missing_ok=True) is None:
            raise ReplyError("Google Play no longer has the review (deleted, or older than the API shows)")

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        self.api.call("POST", self._review_path(target) + ":reply", self._bearer(), {"replyText": text},
                      sending=True)
        return SentReply(f"{target.external_id}:reply", target.url)

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        review = self.api.call("GET", self._review_path(target), self._bearer(), missing_ok=True) or {}
        for comment in review.get("comments") or []:
            developer = comment.get("developerComment") if isinstance(comment, dict) else None
            if isinstance(developer, dict) and " ".join(str(developer.get("text")).split()) == " ".join(text.split()):
                return SentReply(f"{target.external_id}:reply", target.url)
        return None

    def probe(self) -> str:
        self._bearer()
        return f"service account {self.key['client_email']} signed in (token for the androidpublisher scope)"

    def close(self) -> None:
        self.api.close()
