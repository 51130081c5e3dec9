"""What the service remembers per source: read cursors, health (successes, failures, pauses) and whether
the ops channel was told it is failing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import cursors, source_health


class SourceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- cursors -----------------------------------------------------------------

    def load_cursor(self, source: str) -> dict[str, str]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(cursors.c.key, cursors.c.value).where(cursors.c.source == source))
            return {key: value for key, value in rows}

    def save_cursor(self, conn: Connection, source: str, cursor: dict[str, str]) -> None:
        """Part of the caller's transaction: the cursor moves with the posts it covers."""
        now = utcnow()
        for key, value in cursor.items():
            self.db.upsert(conn, cursors, {"source": source, "key": key}, {"value": value, "updated_at": now})

    # -- health --------------------------------------------------------------------

    def count_batch(self, conn: Connection, source: str, read: int, stored: int, rejected: int) -> None:
        """Part of the caller's transaction: the counters move with the batch they count."""
        self._ensure_row(conn, source)
        conn.execute(update(source_health).where(source_health.c.source == source).values(
            posts_read=source_health.c.posts_read + read,
            posts_stored=source_health.c.posts_stored + stored,
            posts_rejected=source_health.c.posts_rejected + rejected,
            updated_at=utcnow()))

    def _ensure_row(self, conn: Connection, source: str) -> None:
        self.db.insert_or_ignore(conn, source_health, {"source": source}, {
            "consecutive_failures": 0, "posts_read": 0, "posts_stored": 0, "posts_rejected": 0,
            "unhealthy": False, "updated_at": utcnow()})

    def record_success(self, source: str) -> bool:
        """Returns True when the source was failing before (it recovered)."""
        with self.db.engine.begin() as conn:
            self._ensure_row(conn, source)
            before = conn.execute(select(source_health.c.consecutive_failures)
                                  .where(source_health.c.source == source)).scalar_one()
            conn.execute(update(source_health).where(source_health.c.source == source).values(
                last_success_at=utcnow(), consecutive_failures=0, unhealthy=False, paused_until=None,
                updated_at=utcnow()))
        return before > 0

    def record_failure(self, source: str, error: str, *, unhealthy: bool = False) -> int:
        """Returns the number of consecutive failures including this one."""
        with self.db.engine.begin() as conn:
            self._ensure_row(conn, source)
            conn.execute(update(source_health).where(source_health.c.source == source).values(
                last_error_at=utcnow(), last_error=error[:2000],
                consecutive_failures=source_health.c.consecutive_failures + 1,
                unhealthy=unhealthy, updated_at=utcnow()))
            return conn.execute(select(source_health.c.consecutive_failures)
                                .where(source_health.c.source == source)).scalar_one()

    def health(self) -> list[dict]:
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(source_health).order_by(source_health.c.source))]

    # -- pauses -----------------------------------------------------------------------

    def set_paused(self, source: str, until: datetime | None) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(source_health).where(source_health.c.source == source).values(paused_until=until))

    def paused_sources(self) -> dict[str, datetime]:
        """Sources paused past now (rate limit, budget, backoff): a restart honours them."""
        now = utcnow()
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(source_health.c.source, source_health.c.paused_until)
                                .where(source_health.c.paused_until > now))
            return {r.source: r.paused_until for r in rows}

    # -- ops notices ----------------------------------------------------------------------

    def set_ops_notified(self, source: str, notified: bool) -> None:
        with self.db.engine.begin() as conn:
            self._ensure_row(conn, source)
            conn.execute(update(source_health).where(source_health.c.source == source)
                         .values(ops_notified=notified))

    def ops_notified(self, source: str) -> bool:
        with self.db.engine.connect() as conn:
            return bool(conn.execute(select(source_health.c.ops_notified)
                                     .where(source_health.c.source == source)).scalar())
