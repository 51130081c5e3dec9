"""Named leases with expiry: one instance polls a source at a time, and a dead instance's lease lapses."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import leases


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Takes or renews the lease ``name`` for ``ttl`` seconds; False while another owner holds it."""
        now = utcnow()
        expires = now + timedelta(seconds=ttl)
        with self.db.engine.begin() as conn:
            taken = conn.execute(self.db.insert_new(leases, ["name"])
                                 .values(name=name, owner=owner, expires_at=expires)
                                 .returning(leases.c.name)).first()
            if taken:
                return True
            return conn.execute(update(leases).where(leases.c.name == name,
                                                     (leases.c.owner == owner) | (leases.c.expires_at < now))
                                .values(owner=owner, expires_at=expires)).rowcount == 1

    def release(self, name: str, owner: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.owner == owner))
