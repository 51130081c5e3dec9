"""Prints a clock offset in seconds, for faketime -f "+N", that CI runs the suite again at.

    python .ci/shifted_clocks.py ahead [config.yaml]  # about 13 months ahead: no test leans on the month
                                                      # or the year it was written in
    python .ci/shifted_clocks.py dst [config.yaml]    # a few minutes before the next daylight-saving change
                                                      # of the configured digest timezone: the run crosses it

Computed from the real clock when called, so call it right before the run it is for. `dst` prints nothing
for a timezone without daylight saving.
"""
from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

AHEAD = timedelta(days=395)
BEFORE_CHANGE = timedelta(minutes=3)


def configured_zone(config: Path) -> ZoneInfo:
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return ZoneInfo((raw.get("digest") or {}).get("timezone") or "UTC")


def next_offset_change(zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first instant within two years after ``after`` at which the zone's UTC offset changes."""
    step, at = timedelta(hours=1), after.replace(minute=0, second=0, microsecond=0)
    offset = at.astimezone(zone).utcoffset()
    for _ in range(2 * 366 * 24):
        at += step
        if at.astimezone(zone).utcoffset() != offset:
            return at
    return None


def main(kind: str = "ahead", config: str = "config.yaml") -> None:
    if kind == "ahead":
        print(int(AHEAD.total_seconds()))
        return
    if kind != "dst":
        sys.exit(f"unknown offset {kind!r}: ahead or dst")
    now = datetime.now(UTC)
    change = next_offset_change(configured_zone(Path(config)), now)
    if change:
        print(int((change - BEFORE_CHANGE - now).total_seconds()))


if __name__ == "__main__":
    main(*sys.argv[1:])
