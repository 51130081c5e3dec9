"""The ``replies`` section: who may post the brand's public answers, saved replies, and the brand accounts
they are posted as. Each account is validated against its platform's own schema (``replies/<platform>.py``)."""
from __future__ import annotations

import re
import string

from pydantic import Field, field_validator

from monitor.config.values import BaseUrl, Duration, StrictModel

PLACEHOLDERS = {"author", "brand"}
APPROVER = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


class ReplyAccountConfig(StrictModel):
    """Keys every reply account shares; each platform adds its credential keys."""

    brand: str = Field(min_length=1, description="the configured brand this account speaks for")
    platform: str = Field(description="x, reddit, bluesky, mastodon, googleplay or appstore")
    enabled: bool = Field(True, description="false keeps the account in the file but never posts with it")
    timeout: Duration = Field(20.0, description="HTTP timeout per request to the network")


class NetworkAccountConfig(ReplyAccountConfig):
    api_base_url: BaseUrl = Field(None, description="override the network API's base URL (proxies, tests)")


class RepliesConfig(StrictModel):
    require_approval: bool | dict[str, bool] = Field(False, description="true: every reply from someone not in "
                                                     "approvers waits for an approver's click; or per brand, "
                                                     "{Acme: true}")
    approvers: list[str] = Field(default_factory=list, description="who may send without approval and approve "
                                 "others' drafts: Slack user ids (U…), Slack user group ids (S…), or names "
                                 "given to the CLI's --as")
    templates: dict[str, str] = Field(default_factory=dict, description="saved replies by name; {author} and "
                                      "{brand} are filled in")
    accounts: list[dict] = Field(default_factory=list, description="the brand accounts replies are posted as: "
                                 "brand, platform and the platform's credential keys")

    @field_validator("templates")
    @classmethod
    def _placeholders(cls, templates: dict[str, str]) -> dict[str, str]:
        for name, text in templates.items():
            if not text.strip():
                raise ValueError(f"template {name!r} is empty")
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as exc:
                raise ValueError(f"template {name!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
            unknown = fields - PLACEHOLDERS
            if unknown:
                raise ValueError(f"template {name!r} uses {{{sorted(unknown)[0]}}}; the placeholders are "
                                 "{author} and {brand}")
        return templates

    @field_validator("approvers")
    @classmethod
    def _approvers(cls, values: list[str]) -> list[str]:
        blank = [v for v in values if not v.strip()]
        if blank:
            raise ValueError("an approver is blank")
        return [v.strip() for v in values]

    def needs_approval(self, brand: str) -> bool:
        if isinstance(self.require_approval, bool):
            return self.require_approval
        return self.require_approval.get(brand, False)

    def slack_approvers(self) -> tuple[list[str], list[str]]:
        """(user ids, user group ids) among the approvers."""
        ids = [a for a in self.approvers if APPROVER.match(a)]
        return [a for a in ids if a[0] in "UW"], [a for a in ids if a[0] == "S"]
