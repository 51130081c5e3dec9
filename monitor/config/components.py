"""The keys every source and sink entry shares; each component's own schema extends one of these."""
from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, field_validator

from monitor.config.values import Duration, StrictModel


class ComponentConfig(StrictModel):
    """Common keys of every source and sink entry."""

    type: Optional[str] = Field(None, description="component type; defaults to the entry's name")
    enabled: bool = Field(True, description="false keeps the entry in the file but never runs it")


class SourceConfig(ComponentConfig):
    interval: Duration = Field(60.0, ge=0.01, description="time between polls, e.g. 30s, 2m")
    jitter: Duration = Field(0.0, description="random delay added to each poll so sources spread out")
    batch_size: int = Field(500, ge=1, le=10_000, description="posts stored per transaction")
    monthly_post_budget: int = Field(0, ge=0, description="posts the source may read per calendar month "
                                     "(UTC) before it pauses; 0 = no limit")


class NetworkSourceConfig(SourceConfig):
    api_base_url: Optional[str] = Field(None, description="override the API's base URL (proxies, tests)")
    timeout: Duration = Field(20.0, description="HTTP timeout per request")

    @field_validator("api_base_url")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else value


class SinkConfig(ComponentConfig):
    pass
