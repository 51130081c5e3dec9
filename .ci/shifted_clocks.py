"""Prints the clock offsets (seconds, for faketime -f "+N") that CI runs the suite at a second time.

One about 13 months ahead, so no test leans on the month or the year it was written in; one that puts the
run in the week of the next daylight-saving change of the configured digest timezone, starting a few
minutes before the change, so the suite runs across it.
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


def main(config: str = "config.yaml") -> None:
    now = datetime.now(UTC)
    offsets = [AHEAD]
    change = next_offset_change(configured_zone(Path(config)), now)
    if change:
        offsets.append(change - BEFORE_CHANGE - now)
    print(" ".join(str(int(o.total_seconds())) for o in offsets))


if __name__ == "__main__":
    main(*sys.argv[1:])
