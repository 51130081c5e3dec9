"""The ``web`` section: the team's inbox in a browser (cases by deadline, search, labels, the digest)."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from monitor.config.values import BaseUrl, Duration, StrictModel


class WebConfig(StrictModel):
    enabled: bool = Field(False, description="serve the web inbox from `monitor run` (`monitor web` serves it "
                          "on its own)")
    listen: str = Field("127.0.0.1:8090", description="HOST:PORT to bind; put a TLS-terminating proxy in front "
                        "before exposing it beyond this machine")
    base_url: BaseUrl = Field(None, description="the address people open (https://inbox.example.com): links from "
                              "Slack alerts and the digest point here; https makes the session cookie Secure")
    session_lifetime: Duration = Field(43200.0, ge=300, description="a sign-in lasts this long (12h)")
    max_failed_logins: int = Field(5, ge=1, le=100, description="failed sign-ins in a row that lock a user name")
    lockout: Duration = Field(900.0, ge=1, description="how long a locked user name is refused, even with the "
                              "right password")
    refresh: Duration = Field(3.0, ge=1, le=300, description="how often open pages check for changes made in "
                              "Slack, the CLI or another browser")
    page_size: int = Field(50, ge=10, le=500, description="cases or search results a page shows")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        match = re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})", value.strip())
        if not match or int(match.group(2)) > 65535:
            raise ValueError(f"expected HOST:PORT like 127.0.0.1:8090, got {value!r}")
        return value.strip()

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def secure_cookies(self) -> bool:
        return bool(self.base_url and self.base_url.startswith("https://"))

    def case_link(self, case_id: int) -> str | None:
        """The case's page, for links from Slack and the digest; None without a base_url."""
        return f"{self.base_url}/cases/{case_id}" if self.base_url else None
