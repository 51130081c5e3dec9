"""Turns connector output into clean mentions, and decides which brand they belong to.

Post text is hostile input: it may be empty, huge, binary garbage, carry
terminal escape sequences or bidi overrides, or lone surrogates that break
database drivers. Everything here either repairs a field or rejects the post
with a reason; nothing raises anything but Rejected.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.markup import UNSAFE_CHARS, strip_controls
from monitor.model import Mention, RawPost

MAX_TEXT_CHARS = 20_000
TRUNCATION_MARK = " …[truncated]"
MAX_ID_CHARS = 128
# More followers than people on Earth is not a reach, it is bad data: it would top every most-read list.
MAX_REACH = 10**10
# Nothing on these sources was posted before this; older (or negative) times are bad data.
EARLIEST_POST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(minutes=5)

_SPACE_RUNS = re.compile(r"[ \t]{3,}")
_BLANK_LINES = re.compile(r"\n{3,}")
_WEB_URL = re.compile(r"^https?://[^\s<>\"]+$", re.I)


class Rejected(Exception):
    """The post cannot be stored; the message says why."""


def clean_text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise Rejected(f"text is {type(value).__name__}, not a string")
    plain = value.isascii()  # most posts: no surrogates, nothing for NFC to do, nothing unreadable
    if not plain:
        # Lone surrogates (from JSON \ud800 escapes) cannot be encoded for storage.
        value = value.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not plain:
        value = unicodedata.normalize("NFC", value)
    value = strip_controls(value)
    value = _BLANK_LINES.sub("\n\n", _SPACE_RUNS.sub("  ", value)).strip()
    if not value:
        raise Rejected("empty text")
    if len(value) > MAX_TEXT_CHARS:
        value = value[:MAX_TEXT_CHARS] + TRUNCATION_MARK
    if plain:
        return value
    sample = value[:2000]
    unreadable = sum(1 for ch in sample if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cs"))
    if unreadable > max(8, len(sample) * 0.3):
        raise Rejected("text is not readable (binary data?)")
    return value


def _clean_short(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = UNSAFE_CHARS.sub("", value).strip()
    return value[:limit] or None


def _external_id(raw: RawPost, text: str, author: str, created: str) -> str:
    ident = _clean_short(raw.external_id, 10_000)
    if ident and len(ident) <= MAX_ID_CHARS:
        return ident
    # No usable id: a content hash keeps re-imports of the same post deduplicated.
    basis = ident or f"{author}\x00{created}\x00{text}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:40]


def _reach(value: Any, repairs: list[str]) -> int:
    if value is None or value == "":
        return 0  # unknown reach is normal
    try:
        reach = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        reach = math.nan
    if not math.isfinite(reach) or reach < 0 or reach > MAX_REACH:
        repairs.append("implausible author_reach, counted as 0")
        return 0
    return int(reach)


def _url(value: Any) -> str | None:
    url = _clean_short(value, 2048)
    # Only web links: a javascript: or data: URL must never become a clickable alert link.
    if url and _WEB_URL.match(url):
        return url
    return None


def parse_time(value: Any, now: datetime) -> datetime | None:
    """A post time in UTC, at most a few minutes ahead of ``now``; None when unreadable."""
    when = _read_time(value)
    # A clock far in the future would pin a post to the top of every digest.
    return min(when, now + FUTURE_SLACK) if when else None


def _read_time(value: Any) -> datetime | None:
    when: datetime | None = None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds since the epoch
        try:
            when = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _created(value: Any, now: datetime, repairs: list[str]) -> datetime:
    """The post's time; unreadable or impossible ones become the fetch time, and say so."""
    if value is None or value == "":
        return now
    when = _read_time(value)
    if when is None or when < EARLIEST_POST:
        repairs.append("unreadable or impossible created_at, used the fetch time")
        return now
    if when > now + FUTURE_SLACK:
        repairs.append("created_at in the future, used the fetch time")
        return now
    return when


def normalize(raw: RawPost, source: str, now: datetime) -> Mention:
    text = clean_text(raw.text)
    author = _clean_short(raw.author, 256) or ""
    repairs: list[str] = []
    created = _created(raw.created_at, now, repairs)
    return Mention(
        source=source,
        external_id=_external_id(raw, text, author, created.isoformat()),
        brand=_clean_short(raw.brand, 128) or "",
        text=text,
        author=author.lstrip("@") if author.startswith("@") else author,
        author_reach=_reach(raw.author_reach, repairs),
        url=_url(raw.url),
        language=(_clean_short(raw.language, 16) or "").lower() or None,
        created_at=created,
        fetched_at=now,
        ref=raw.ref,
        repairs=repairs,
        in_reply_to=_clean_short(raw.in_reply_to, MAX_ID_CHARS),
        rating=_rating(raw.rating, repairs),
    )


def _rating(value: Any, repairs: list[str]) -> int | None:
    """A review's stars, 1-5; anything else is dropped (and counted) rather than trusted."""
    if value is None:
        return None
    try:
        stars = float(value)
    except (TypeError, ValueError):
        stars = 0.0
    if stars != stars or not 1 <= stars <= 5 or stars != int(stars):  # NaN, out of range, fractional
        repairs.append("rating")
        return None
    return int(stars)
