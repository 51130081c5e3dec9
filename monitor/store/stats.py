"""The figures `monitor stats` prints and the metrics endpoint reports, read across the tables."""
from __future__ import annotations

from sqlalchemy import case, func, select

from monitor.store.cases import CaseRepository
from monitor.store.database import Database
from monitor.store.outbox import OutboxRepository
from monitor.store.schema import mentions
from monitor.store.sources import SourceRepository
from monitor.store.usage import UsageRepository


class StatsReader:
    def __init__(self, db: Database, sources: SourceRepository, usage: UsageRepository,
                 outbox: OutboxRepository, cases: CaseRepository) -> None:
        self.db, self.sources, self.usage, self.outbox, self.cases = db, sources, usage, outbox, cases

    def summary(self) -> dict:
        with self.db.engine.connect() as conn:
            by_brand = conn.execute(
                select(mentions.c.source, mentions.c.brand, func.count(),
                       func.sum(case((mentions.c.is_complaint, 1), else_=0)),
                       func.sum(case((mentions.c.held_back.is_(True), 1), else_=0)))
                .group_by(mentions.c.source, mentions.c.brand).order_by(mentions.c.source, mentions.c.brand)
            ).all()
            topics = conn.execute(
                select(mentions.c.topic, func.count()).where(mentions.c.is_complaint.is_(True))
                .group_by(mentions.c.topic).order_by(func.count().desc())
            ).all()
        return {
            "mentions": [{"source": s, "brand": b, "mentions": n, "complaints": int(c or 0), "held_back": int(h or 0)}
                         for s, b, n, c, h in by_brand],
            "outbox": self.outbox.counts(),
            "cases": self.cases.counts(),
            "complaint_topics": [{"topic": t, "complaints": n} for t, n in topics],
            "sources": self.sources.health(),
            "usage_this_month": self.usage.month(),
        }
