"""API reads per source and calendar month, and the meter that enforces a source's monthly budget."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import source_usage


class UsageRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, source: str, posts: int, requests: int) -> None:
        """Counts API reads at once, in their own transaction: they are billed even if the batch is not stored."""
        period = utcnow().strftime("%Y-%m")
        key = {"source": source, "period": period}
        with self.db.engine.begin() as conn:
            self.db.insert_or_ignore(conn, source_usage, key, {"posts_read": 0, "requests": 0,
                                                               "updated_at": utcnow()})
            conn.execute(update(source_usage).where(source_usage.c.source == source, source_usage.c.period == period)
                         .values(posts_read=source_usage.c.posts_read + posts,
                                 requests=source_usage.c.requests + requests, updated_at=utcnow()))

    def month(self, period: str | None = None) -> dict[str, dict]:
        """{source: {posts_read, requests}} for a month (default: this month, UTC)."""
        period = period or utcnow().strftime("%Y-%m")
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(source_usage).where(source_usage.c.period == period))
            return {r.source: {"posts_read": r.posts_read, "requests": r.requests} for r in rows}


class SourceMeter:
    """A connector's UsageMeter backed by the source_usage table."""

    def __init__(self, usage: UsageRepository, source: str, monthly_budget: int = 0) -> None:
        self.usage, self.source, self.budget = usage, source, monthly_budget

    def used(self) -> int:
        return self.usage.month().get(self.source, {}).get("posts_read", 0)

    def reserve(self, posts: int) -> None:
        if not self.budget:
            return
        used = self.used()
        if used + posts > self.budget:
            now = utcnow()
            next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(
                day=1
            )
            from monitor.components import SourceError

            raise SourceError(f"monthly post budget reached: {used:,} of {self.budget:,} read in {now:%Y-%m}; "
                              f"paused until {next_month:%Y-%m-%d} (raise monthly_post_budget to resume)",
                              retry_after=(next_month - now).total_seconds(), notice=True, pause_reason="budget")

    def add(self, posts: int, requests: int = 1) -> None:
        from monitor.ops.metrics import API_REQUESTS

        API_REQUESTS.labels(self.source).inc(requests)
        self.usage.add(self.source, posts, requests)
