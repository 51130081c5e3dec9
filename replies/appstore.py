"""App Store replies through the App Store Connect API: ``POST /v1/customerReviewResponses`` with the
response body and the review it answers, signed with an API key (an ES256 JWT of 15 minutes made from the
key's .p8 file, its key id and the team's issuer id; the key needs the Customer Support role or higher).

The public review feed's ids are not App Store Connect's, so the review is found among the app's newest
reviews (``/v1/apps/{id}/customerReviews``, the app from the review's link) by its author and title; one
that cannot be found is offered as an off-platform answer. After a crash the review's ``response`` says
whether the reply landed. App Store Connect takes responses of up to 5,970 characters.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from monitor.components import Replier, ReplyError
from monitor.config.replies import NetworkAccountConfig
from monitor.model import ReplyTarget, SentReply
from monitor.registry import repliers
from replies._http import StoreApi
from replies._signing import app_store_token

API = "https://api.appstoreconnect.apple.com"
LIMIT = 5970


class AppStoreAccountConfig(NetworkAccountConfig):
    key_id: str = Field(pattern=r"^[A-Z0-9]{8,16}$", description="the API key's id (Users and Access > "
                        "Integrations > App Store Connect API)")
    issuer_id: str = Field(min_length=8, description="the team's issuer id shown above the keys")
    private_key_file: str = Field(description="path of the key's AuthKey_<key_id>.p8 file")

    @field_validator("private_key_file")
    @classmethod
    def _readable(cls, value: str) -> str:
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read the .p8 key at {value!r}: {exc.strerror}") from None
        if "PRIVATE KEY" not in text:
            raise ValueError(f"{value!r} is not a PEM private key (the AuthKey_….p8 file)")
        return value


@repliers.register("appstore")
class AppStoreReplier(Replier):
    config_model = AppStoreAccountConfig

    def __init__(self, config: AppStoreAccountConfig) -> None:
        super().__init__(config)
        self.pem = Path(config.private_key_file).read_bytes()
        self.api = StoreApi("App Store Connect", config.api_base_url or API, config.timeout)

    def account(self) -> str:
        return f"{self.config.brand}'s developer response on the App Store"

    def limit(self) -> int:
        return LIMIT

    def _token(self) -> str:
        try:
            return app_store_token(self.config.key_id, self.config.issuer_id, self.pem)
        except ValueError as exc:
            raise ReplyError(f"cannot sign with {self.config.private_key_file}: {exc}", off_platform=True) from None

    def _review_id(self, target: ReplyTarget) -> str:
        app = re.search(r"/id(\d+)", target.url or "")
        if not app:
            raise ReplyError("the review's link does not name its app", off_platform=True)
        page = self.api.call("GET", f"/v1/apps/{app.group(1)}/customerReviews?sort=-createdDate&limit=200",
                             self._token())
        title = target.text.split("\n\n", 1)[0].strip()
        for review in page.get("data") or []:
            attributes = review.get("attributes") or {}
            if attributes.get("reviewerNickname") == target.author and \
                    (attributes.get("title") or "").strip() == title:
                return str(review["id"])
        raise ReplyError("App Store Connect does not list this review among the app's newest 200 (deleted, or "
                         "too old)", off_platform=True)

    def check(self, target: ReplyTarget) -> None:
        self._review_id(target)

    def send(self, target: ReplyTarget, text: str, key: str) -> SentReply:
        review = self._review_id(target)
        body = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": text},
                         "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}}}}
        created = self.api.call("POST", "/v1/customerReviewResponses", self._token(), body, sending=True)
        return SentReply(str((created.get("data") or {}).get("id") or review), target.url)

    def find_sent(self, target: ReplyTarget, text: str, key: str) -> SentReply | None:
        review = self._review_id(target)
        found = self.api.call("GET", f"/v1/customerReviews/{review}/response", self._token(), missing_ok=True)
        data = (found or {}).get("data") or {}
        body = (data.get("attributes") or {}).get("responseBody") or ""
        return SentReply(str(data.get("id")), target.url) if " ".join(body.split()) == " ".join(text.split()) else None

    def probe(self) -> str:
        self.api.call("GET", "/v1/apps?limit=1", self._token())
        return f"API key {self.config.key_id} accepted (listed the team's apps)"

    def close(self) -> None:
        self.api.close()
