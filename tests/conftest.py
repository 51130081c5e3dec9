"""Fixtures: stores on SQLite and, when MONITOR_TEST_DATABASE_URL is set, PostgreSQL."""
from __future__ import annotations

import os
import uuid

import pytest

from monitor import clock
from monitor.store import Store
from tests.support import PG_SKIP, PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh empty database: a SQLite file, or a private schema on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.schema.upgrade()
    yield s
    s.close()


@pytest.fixture
def clock_at():
    """Sets the clock every stage reads: ``clock_at(when, tick=False)`` returns the installed ManualClock.

    Frozen, time moves only by ``advance``; ticking, it runs on from ``when`` as real time passes (for code
    that waits on deadlines). The clock in force before the test is back afterwards.
    """
    previous = []

    def install(when, tick: bool = False) -> clock.ManualClock:
        manual = clock.ManualClock(when, tick=tick)
        previous.append(clock.install(manual))
        return manual

    yield install
    if previous:
        clock.install(previous[0])


# libfaketime (CI's shifted-clock runs) fakes the monotonic clock, but Python's timed lock waits use
# sem_clockwait, which libfaketime 0.9.10 does not intercept: Event.wait(timeout), Queue.get(timeout) and the
# like then never time out. Tests whose scenario needs such a wait to expire are marked `timed_waits`; under
# libfaketime they are skipped, saying why, instead of hanging. time.sleep and everything else still run.
UNDER_LIBFAKETIME = "libfaketime" in os.environ.get("LD_PRELOAD", "")


def pytest_collection_modifyitems(config, items):
    if not UNDER_LIBFAKETIME:
        return
    skip = pytest.mark.skip(reason="needs timed thread waits to expire, which libfaketime's monotonic clock "
                                   "stops (sem_clockwait is not intercepted); runs in the unshifted run")
    for item in items:
        if "timed_waits" in item.keywords:
            item.add_marker(skip)
