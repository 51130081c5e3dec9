"""Value types and the strict base model every configuration section and component schema uses."""
from __future__ import annotations

import difflib
import math
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$|^\d+(?:\.\d+)?$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
# No setting needs more than a year; past that, timers overflow inside the scheduler thread.
MAX_DURATION = 366 * 86400.0


def parse_duration(value: Any) -> float:
    """'90s', '2m', '1.5h', '1h30m', '1d' or a number of seconds -> seconds, finite and at most a year."""
    if isinstance(value, bool):
        raise PydanticCustomError("duration", "expected a duration like 2m, got '{value}'", {"value": value})
    if isinstance(value, (int, float)) and value >= 0:
        seconds = float(value)
    else:
        text = value.replace(" ", "").lower() if isinstance(value, str) else ""
        if not _DURATION.match(text):
            raise PydanticCustomError("duration", "expected a duration like 2m, got '{value}'", {"value": value})
        seconds = sum(float(n) * _UNIT_SECONDS[unit or None] for n, unit in _DURATION_PART.findall(text))
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise PydanticCustomError("duration", "expected a duration of at most 366d, got '{value}'", {"value": value})
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone", "unknown IANA timezone '{value}', e.g. Europe/Berlin", {"value": value}
        ) from None
    return value


TimeZoneName = Annotated[str, BeforeValidator(_check_timezone)]


def _base_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^\s/]+", str(value)):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return str(value).rstrip("/") if value else value


#: an API's base URL (proxies, tests): http(s), without its trailing slash
BaseUrl = Annotated[str | None, BeforeValidator(_base_url)]


def duration_text(seconds: float) -> str:
    """A duration as people say it: "45 s", "2 min", "1 h 30 min", "1 day"."""
    if seconds < 60:
        return f"{seconds:g} s"
    parts, rest = [], round(seconds)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}s" if unit == "day" and count > 1 else f"{count} {unit}")
    return " ".join(parts[:2])


class StrictModel(BaseModel):
    """Rejects unknown keys (each one, beside every other problem of the same entry) instead of ignoring typos;
    ``unknown_key`` says what was probably meant."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @classmethod
    def unknown_key(cls, key: str) -> str:
        allowed = sorted(set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias})
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; allowed: {', '.join(allowed)}"
        return f"unknown key {key!r}{hint}"
