"""The figures `monitor stats` prints and the metrics endpoint reports, read across the tables."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select

from monitor.clock import utcnow
from monitor.model import LIVE_READ
from monitor.store.cases import CaseRepository
from monitor.store.database import Database
from monitor.store.outbox import OutboxRepository
from monitor.store.schema import mentions, outbox
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
            "time_to_alert_last_hour": self.time_to_alert(timedelta(hours=1)),
        }

    def time_to_alert(self, within: timedelta) -> dict[str, dict]:
        """Per source, seconds from publication to the sink accepting the alert, for the alerts delivered
        within the last ``within`` of posts read live: how many, p50 and p95 (nearest rank)."""
        since = utcnow() - within
        stmt = (select(mentions.c.source, mentions.c.created_at, mentions.c.fetched_at, outbox.c.delivered_at)
                .join(mentions, mentions.c.id == outbox.c.mention_id)
                .where(outbox.c.status == "delivered", outbox.c.delivered_at >= since))
        delays: dict[str, list[float]] = {}
        with self.db.engine.connect() as conn:
            for source, created, fetched, delivered in conn.execute(stmt):
                if created and fetched and delivered and fetched - created <= LIVE_READ:
                    delays.setdefault(source, []).append(max(0.0, (delivered - created).total_seconds()))
        return {source: {"alerts": len(d), "p50": round(nearest_rank(d, 50), 3), "p95": round(nearest_rank(d, 95), 3)}
                for source, d in sorted(delays.items())}


def nearest_rank(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank: a value that really occurred."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]
