"""The one clock: product code reads the time of day only through monitor/clock.py, and tests set it."""
from __future__ import annotations

import ast
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor import clock
from tests.support import ROOT

# Reads of the wall clock that bypass monitor.clock: (module, attribute chain) as written in the code.
WALL_CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
                    ("time", "time"), ("time", "time_ns"), ("datetime.datetime", "now"),
                    ("datetime.datetime", "utcnow"), ("datetime.date", "today")}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def wall_clock_reads(source: str) -> list[str]:
    """Every call of a wall-clock function in ``source``, as ``line: name``, and imports of ``time.time``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = _dotted(node.func.value)
            if (owner, node.func.attr) in WALL_CLOCK_READS:
                found.append(f"{node.lineno}: {owner}.{node.func.attr}()")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"{node.lineno}: from time import {a.name}" for a in node.names if a.name in ("time", "time_ns")]
    return found


PRODUCT = sorted(p for part in ("monitor", "connectors", "alerts") for p in (ROOT / part).rglob("*.py")
                 if "__pycache__" not in p.parts and p != ROOT / "monitor" / "clock.py")


def test_the_rule_catches_every_spelling_of_a_wall_clock_read():
    probe = ("import time, datetime as dt\nfrom datetime import date, datetime\nfrom time import time as now\n"
             "a = datetime.now(UTC)\nb = time.time()\nc = date.today()\nd = datetime.datetime.utcnow()\n"
             "e = time.monotonic()\nf = clock.utcnow()\n")
    assert wall_clock_reads(probe) == ["3: from time import time", "4: datetime.now()", "5: time.time()",
                                       "6: date.today()", "7: datetime.datetime.utcnow()"]


@pytest.mark.parametrize("path", PRODUCT, ids=[str(p.relative_to(ROOT)) for p in PRODUCT])
def test_product_code_reads_the_time_of_day_only_through_monitor_clock(path: Path):
    # time.monotonic stays allowed: it measures intervals, which no calendar moves.
    assert wall_clock_reads(path.read_text(encoding="utf-8")) == []


def test_a_frozen_clock_moves_only_when_told():
    start = datetime(2031, 3, 30, 0, 59, tzinfo=UTC)  # a fixed instant on purpose: nothing here reads today
    frozen = clock.ManualClock(start)
    with clock.using(frozen):
        time.sleep(0.01)
        assert clock.utcnow() == start
        assert frozen.advance(minutes=2) == start + timedelta(minutes=2)
        assert clock.timestamp() == (start + timedelta(minutes=2)).timestamp()
        # Two minutes on, Europe/London has sprung forward: 01:01 UTC is 02:01 local.
        assert clock.now("Europe/London").hour == 2 and clock.today("Pacific/Pago_Pago").day == 29
    assert clock.utcnow() != start + timedelta(minutes=2)  # the system clock is back


def test_a_ticking_clock_runs_on_from_where_it_was_set():
    start = clock.SYSTEM.utcnow() + timedelta(days=400)
    ticking = clock.ManualClock(start, tick=True)
    time.sleep(0.02)
    assert start + timedelta(seconds=0.02) <= ticking.utcnow() < start + timedelta(seconds=30)


def test_a_manual_clock_refuses_a_naive_instant_and_keeps_utc():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.ManualClock(datetime(2031, 1, 1))  # noqa: DTZ001 - the naive instant is the point
    east = timezone(timedelta(hours=5))
    assert clock.ManualClock(datetime(2031, 1, 1, 5, tzinfo=east)).utcnow() == datetime(2031, 1, 1, tzinfo=UTC)


def test_the_clock_fixture_is_installed_and_removed(clock_at):
    at = clock_at(clock.SYSTEM.utcnow() - timedelta(days=90))
    assert clock.utcnow() == at.utcnow()
