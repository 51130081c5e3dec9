"""The one clock every stage reads.

Product code asks this module for the time of day: ``utcnow()`` (timezone-aware UTC), ``timestamp()``
(epoch seconds), ``now(tz)`` and ``today(tz)``. Intervals and pacing use ``time.monotonic``, which no
calendar moves. Which clock answers is swappable (``install``/``using``): tests set the instant they
need with a ``ManualClock`` instead of depending on the day they run.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def utcnow(self) -> datetime: ...


class SystemClock:
    """The machine's wall clock."""

    def utcnow(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that shows a chosen instant.

    Frozen, it moves only when told (``set``, ``advance``); ticking, it runs on from the instant it was
    set at by the real time that passes, so code that waits for a deadline still gets there.
    """

    def __init__(self, start: datetime, tick: bool = False) -> None:
        self._lock = threading.Lock()
        self.tick = tick
        self.set(start)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware instant")
        with self._lock:
            self._at = when.astimezone(UTC)
            self._set_at = time.monotonic()

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        with self._lock:
            self._at += timedelta(seconds=seconds, **delta)
        return self.utcnow()

    def utcnow(self) -> datetime:
        with self._lock:
            if not self.tick:
                return self._at
            return self._at + timedelta(seconds=time.monotonic() - self._set_at)


SYSTEM = SystemClock()
_current: Clock = SYSTEM


def install(clock: Clock) -> Clock:
    """Make ``clock`` the one every stage reads; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)


def utcnow() -> datetime:
    return _current.utcnow()


def timestamp() -> float:
    """Seconds since the epoch, for APIs that speak in them (rate-limit resets, Slack's ``oldest``)."""
    return utcnow().timestamp()


def now(tz: str | tzinfo) -> datetime:
    return utcnow().astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)


def today(tz: str | tzinfo) -> date:
    """The calendar day it is now in ``tz``."""
    return now(tz).date()
