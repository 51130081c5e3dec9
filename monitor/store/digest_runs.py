"""Digest runs: each brand's digest for a day goes to each target once, from one instance."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import digest_runs

STALE_RESERVATION = timedelta(hours=1)  # a sender that died mid-send


class DigestRunRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, brand: str, day: date, target: str, force: bool = False) -> bool:
        """Reserves a digest run so that one instance sends it, once; ``force`` takes it over."""
        where = [digest_runs.c.brand == brand, digest_runs.c.day == day, digest_runs.c.target == target]
        with self.db.engine.begin() as conn:
            if force:
                conn.execute(digest_runs.delete().where(*where))
            else:
                conn.execute(digest_runs.delete().where(*where, digest_runs.c.status == "sending",
                                                        digest_runs.c.created_at < utcnow() - STALE_RESERVATION))
            stmt = self.db.insert_new(digest_runs, ["brand", "day", "target"]).values(
                brand=brand, day=day, target=target, status="sending", created_at=utcnow(), detail="")
            return conn.execute(stmt.returning(digest_runs.c.id)).first() is not None

    def finish(self, brand: str, day: date, target: str, detail: str | None) -> None:
        """Marks the run sent, or (detail None) removes the reservation so the next run retries."""
        where = [digest_runs.c.brand == brand, digest_runs.c.day == day, digest_runs.c.target == target]
        with self.db.engine.begin() as conn:
            if detail is None:
                conn.execute(digest_runs.delete().where(*where))
            else:
                conn.execute(update(digest_runs).where(*where).values(status="sent", detail=detail[:2000]))

    def written(self, brand: str, first: date, last: date) -> list[tuple[date, bool]]:
        """(day, weekly) of the digests written to files for ``brand`` whose period touches first..last: a
        daily one of those days, or a weekly one ending up to 6 days after."""
        stmt = select(digest_runs.c.day, digest_runs.c.target).where(
            digest_runs.c.brand == brand, digest_runs.c.target.in_(("file", "weekly:file")),
            digest_runs.c.day >= first, digest_runs.c.day <= last + timedelta(days=6))
        with self.db.engine.connect() as conn:
            found = {(row.day, row.target == "weekly:file") for row in conn.execute(stmt)
                     if row.target == "weekly:file" or row.day <= last}
        return sorted(found)
