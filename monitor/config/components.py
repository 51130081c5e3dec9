"""The keys every source and sink entry shares; each component's own schema extends one of these."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from monitor.config.values import BaseUrl, Duration, StrictModel


class ComponentConfig(StrictModel):
    """Common keys of every source and sink entry."""

    type: str | None = Field(None, description="component type; defaults to the entry's name")
    enabled: bool = Field(True, description="false keeps the entry in the file but never runs it")


class SourceConfig(ComponentConfig):
    interval: Duration = Field(60.0, ge=0.01, description="time between polls, e.g. 30s, 2m")
    jitter: Duration = Field(0.0, description="random delay added to each poll so sources spread out")
    batch_size: int = Field(500, ge=1, le=10_000, description="posts stored per transaction")
    monthly_post_budget: int = Field(0, ge=0, description="posts the source may read per calendar month "
                                     "(UTC) before it pauses; 0 = no limit")


class HttpSourceConfig(SourceConfig):
    timeout: Duration = Field(20.0, description="HTTP timeout per read: connecting, or waiting for more bytes")
    deadline: Duration = Field(60.0, ge=0.1, le=3600, description="the longest one HTTP request may take, from "
                               "connecting to its last byte; a server that answers slower fails the poll, and the "
                               "source is paused and reported like any failure")


class NetworkSourceConfig(HttpSourceConfig):
    api_base_url: BaseUrl = Field(None, description="override the API's base URL (proxies, tests)")


class ReviewAppConfig(StrictModel):
    """One app whose store reviews a review source reads; every review is about ``brand``."""

    id: str = Field(min_length=1, max_length=200, description="the store's app id (App Store: digits; "
                    "Google Play: the package name, e.g. com.example.app)")
    brand: str = Field(min_length=1, description="the brand the app belongs to (a configured brand's name)")
    countries: list[str] = Field(["us"], min_length=1, description="store countries to read (two-letter codes)")

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        codes = [v.strip().lower() for v in values]
        bad = [c for c in codes if not re.fullmatch(r"[a-z]{2}", c)]
        if bad:
            raise ValueError(f"not a two-letter country code: {bad[0]!r}")
        return list(dict.fromkeys(codes))


class SinkConfig(ComponentConfig):
    pass


def review_app_problems(source: str, apps: list[ReviewAppConfig], brands: list) -> list[str]:
    """Each app must belong to a configured brand: its reviews never name the brand themselves."""
    names = {b.name for b in brands}
    return [f"sources.{source}.apps[{i}].brand: {app.brand!r} is not a configured brand ({', '.join(sorted(names))})"
            for i, app in enumerate(apps) if app.brand not in names]
