"""Daily digest figures per brand, for marketing: volume, sentiment and its movement, complaints,
topics ranked, the most-read negative posts, spikes, alert delivery, and a 14-day trend.

A day is a calendar day in the digest's timezone; every figure is counted from the database, so
the digest always matches what `monitor export` returns for the same day.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from monitor.config.sections import SlaConfig
from monitor.digest.responses import ResponseFigures, response_figures
from monitor.digest.to_label import posts_to_label
from monitor.store.database import Database
from monitor.store.schema import bursts, mentions, outbox

SENTIMENTS = ("positive", "neutral", "negative")
TREND_DAYS = 14
BASELINE_DAYS = 7


@dataclass
class DayPoint:
    day: date
    volume: int = 0
    negative: int = 0

    @property
    def negative_share(self) -> Optional[float]:
        return self.negative / self.volume if self.volume else None


@dataclass
class BrandDay:
    brand: str
    day: date
    timezone: str
    volume_by_source: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))
    previous_shares: Optional[dict[str, float]] = None   # the day before
    baseline_shares: Optional[dict[str, float]] = None   # the 7 days before, pooled
    complaints: int = 0
    topics: list[tuple[str, int]] = field(default_factory=list)
    top_negative: list[dict] = field(default_factory=list)
    spikes: list[dict] = field(default_factory=list)
    alerts_delivered: int = 0
    alerts_pending: int = 0
    alerts_dead: int = 0
    median_alert_delay: Optional[float] = None  # seconds from publication to delivered alert
    trend: list[DayPoint] = field(default_factory=list)
    responses: Optional[ResponseFigures] = None
    to_label: list[dict] = field(default_factory=list)  # possible misses and uncertain alerts, unlabelled

    @property
    def volume(self) -> int:
        return sum(self.volume_by_source.values())

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.volume if self.volume else 0.0

    def shares(self) -> dict[str, float]:
        return _shares(self.sentiment)

    def pareto(self) -> list[tuple[str, int, float]]:
        """Topics with their cumulative share of complaints: the few that make most of them."""
        out, running = [], 0
        for topic, count in self.topics:
            running += count
            out.append((topic, count, running / self.complaints if self.complaints else 0.0))
        return out


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: counts.get(k, 0) / total for k in SENTIMENTS} if total else {}


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """A calendar day in the configured timezone, as instants [start, end)."""
    zone = ZoneInfo(tz)
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def _sentiment(compound, negative_threshold: float, positive_threshold: float):
    """The sentiment class of a compound score, as a SQL expression (counted in the database)."""
    return case((compound <= negative_threshold, "negative"), (compound >= positive_threshold, "positive"),
                else_="neutral")


def brand_day(db: Database, brand: str, day: date, tz: str,
              negative_threshold: float = -0.05, positive_threshold: float = 0.05, top: int = 5,
              slas: Optional[dict[str, SlaConfig]] = None) -> BrandDay:
    """The day's figures, each aggregated in the database, so a day of any size costs a few small queries."""
    result = BrandDay(brand, day, tz)
    start, end = day_bounds(day, tz)
    of_day = (mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < end)
    kind = _sentiment(mentions.c.compound, negative_threshold, positive_threshold)
    with db.engine.connect() as conn:
        result.volume_by_source = dict(conn.execute(select(mentions.c.source, func.count()).where(*of_day)
                                                    .group_by(mentions.c.source)).all())
        for name, count in conn.execute(select(kind, func.count()).where(*of_day).group_by(kind)):
            result.sentiment[name] = count
        topics = conn.execute(select(mentions.c.topic, func.count()).where(*of_day, mentions.c.is_complaint.is_(True))
                              .group_by(mentions.c.topic)).all()
        negatives = conn.execute(
            select(mentions.c.author, mentions.c.author_reach, mentions.c.url, mentions.c.text, mentions.c.compound)
            .where(*of_day, mentions.c.compound <= negative_threshold)
            .order_by(mentions.c.author_reach.desc(), mentions.c.compound, mentions.c.id).limit(top)).all()
    result.topics = sorted(topics, key=lambda kv: (-kv[1], kv[0]))
    result.complaints = sum(n for _, n in result.topics)
    result.top_negative = [{"author": r.author, "reach": r.author_reach, "url": r.url, "text": r.text[:280],
                            "compound": r.compound} for r in negatives]
    _history(db, result, negative_threshold, positive_threshold)
    _delivery(db, result, start, end)
    _spikes(db, result, start, end)
    result.responses = response_figures(db, brand, start, end, slas or {})
    result.to_label = posts_to_label(db, brand, start, end)
    return result


def _history(db: Database, result: BrandDay, negative_threshold: float, positive_threshold: float) -> None:
    """Previous day, the 7-day baseline and the 14-day trend, bucketed by local calendar day in SQL: the
    local midnights are computed here (DST included) and each mention falls into the bucket between two."""
    days = [result.day - timedelta(days=offset) for offset in range(max(TREND_DAYS - 1, BASELINE_DAYS), -1, -1)]
    edges = [day_bounds(d, result.timezone)[0] for d in days] + [day_bounds(result.day, result.timezone)[1]]
    bucket = case(*((mentions.c.created_at < edge, i) for i, edge in enumerate(edges[1:])), else_=len(days))
    kind = _sentiment(mentions.c.compound, negative_threshold, positive_threshold)
    stmt = (select(bucket, kind, func.count())
            .where(mentions.c.brand == result.brand, mentions.c.created_at >= edges[0],
                   mentions.c.created_at < edges[-1])
            .group_by(bucket, kind))
    per_day: dict[date, dict[str, int]] = {}
    with db.engine.connect() as conn:
        for index, name, count in conn.execute(stmt):
            per_day.setdefault(days[index], dict.fromkeys(SENTIMENTS, 0))[name] = count
    previous = per_day.get(result.day - timedelta(days=1))
    result.previous_shares = _shares(previous) if previous else None
    baseline = dict.fromkeys(SENTIMENTS, 0)
    for offset in range(1, BASELINE_DAYS + 1):
        for k, v in per_day.get(result.day - timedelta(days=offset), {}).items():
            baseline[k] += v
    result.baseline_shares = _shares(baseline) or None
    result.trend = []
    for offset in range(TREND_DAYS - 1, -1, -1):
        d = result.day - timedelta(days=offset)
        counts = per_day.get(d, {})
        result.trend.append(DayPoint(d, sum(counts.values()), counts.get("negative", 0)))


def _delivery(db: Database, result: BrandDay, start: datetime, end: datetime) -> None:
    stmt = (select(outbox.c.status, outbox.c.delivered_at, mentions.c.created_at)
            .join(mentions, mentions.c.id == outbox.c.mention_id)
            .where(mentions.c.brand == result.brand, mentions.c.created_at >= start, mentions.c.created_at < end))
    delays = []
    with db.engine.connect() as conn:
        for status, delivered_at, created_at in conn.execute(stmt):
            if status == "delivered":
                result.alerts_delivered += 1
                if delivered_at and created_at:
                    delays.append(max(0.0, (delivered_at - created_at).total_seconds()))
            elif status == "folded":
                result.alerts_delivered += 1  # reached the team inside a burst's spike, not as its own message
            elif status == "dead":
                result.alerts_dead += 1
            else:
                result.alerts_pending += 1
    result.median_alert_delay = statistics.median(delays) if delays else None


def _spikes(db: Database, result: BrandDay, start: datetime, end: datetime) -> None:
    stmt = (select(bursts.c.id, bursts.c.route, bursts.c.started_at, bursts.c.last_at)
            .where(bursts.c.brand == result.brand, bursts.c.started_at >= start, bursts.c.started_at < end)
            .order_by(bursts.c.started_at))
    zone = ZoneInfo(result.timezone)
    with db.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [row.id for row in rows]
        counts = dict(conn.execute(select(outbox.c.burst_id, func.count()).where(outbox.c.burst_id.in_(ids))
                                   .group_by(outbox.c.burst_id)).all()) if ids else {}
    for row in rows:
        result.spikes.append({"route": row.route, "started": row.started_at.astimezone(zone),
                              "ended": row.last_at.astimezone(zone), "complaints": counts.get(row.id, 0)})
