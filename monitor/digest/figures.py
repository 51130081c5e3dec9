"""Daily digest figures per brand, for marketing: volume, sentiment and its movement, complaints,
topics ranked, the most-read negative posts, spikes, alert delivery, and a 14-day trend.

A day is a calendar day in the digest's timezone; every figure is counted from the database, so
the digest always matches what `monitor export` returns for the same day.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from monitor.config.sections import SlaConfig
from monitor.digest.movement import Movement, history_edges, movement
from monitor.digest.responses import ResponseFigures, response_figures
from monitor.digest.to_label import posts_to_label
from monitor.model import LIVE_READ
from monitor.store.database import Database
from monitor.store.schema import bursts, mentions, outbox
from monitor.store.stats import nearest_rank

SENTIMENTS = ("positive", "neutral", "negative")
TREND_DAYS = 14
BASELINE_DAYS = 7


@dataclass
class DayPoint:
    day: date
    volume: int = 0
    negative: int = 0
    complaints: int = 0

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.volume if self.volume else None


@dataclass
class BrandDay:
    brand: str
    day: date            # the last day of the period
    timezone: str
    days: int = 1        # 1: a daily digest; 7: the weekly one (the 7 days ending with ``day``)
    volume_by_source: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))
    previous_shares: dict[str, float] | None = None   # the period before (day or week)
    baseline_shares: dict[str, float] | None = None   # the 7 days (or 4 weeks) before, pooled
    complaints: int = 0
    topics: list[tuple[str, int]] = field(default_factory=list)
    top_complaints: list[dict] = field(default_factory=list)  # the detector's complaints, highest priority first
    top_positive: list[dict] = field(default_factory=list)    # the most-read positive posts
    examples: dict[str, list[dict]] = field(default_factory=dict)  # two complaints per top topic, by priority
    movement: Movement | None = None  # complaint rates, topics against their usual level, the headline
    spikes: list[dict] = field(default_factory=list)
    alerts_delivered: int = 0
    alerts_pending: int = 0
    alerts_dead: int = 0
    median_alert_delay: float | None = None  # seconds from publication to alert, posts read live only
    alert_delay_by_source: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # alerts, p50, p95
    trend: list[DayPoint] = field(default_factory=list)
    responses: ResponseFigures | None = None
    to_label: list[dict] = field(default_factory=list)  # possible misses and uncertain alerts, unlabelled

    @property
    def first_day(self) -> date:
        return self.day - timedelta(days=self.days - 1)

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
    return datetime.combine(day, time.min, tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone
    )


def _sentiment(compound, negative_threshold: float, positive_threshold: float):
    """The sentiment class of a compound score, as a SQL expression (counted in the database)."""
    return case((compound <= negative_threshold, "negative"), (compound >= positive_threshold, "positive"),
                else_="neutral")


def brand_day(db: Database, brand: str, day: date, tz: str,
              negative_threshold: float = -0.05, positive_threshold: float = 0.05, top: int = 5,
              slas: dict[str, SlaConfig] | None = None, days: int = 1) -> BrandDay:
    """The figures of the ``days`` days ending with ``day`` (1: daily, 7: weekly), each aggregated in the
    database, so a period of any size costs a few small queries."""
    result = BrandDay(brand, day, tz, days)
    start, end = day_bounds(result.first_day, tz)[0], day_bounds(day, tz)[1]
    of_day = (mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < end)
    kind = _sentiment(mentions.c.compound, negative_threshold, positive_threshold)
    with db.engine.connect() as conn:
        result.volume_by_source = dict(conn.execute(select(mentions.c.source, func.count()).where(*of_day)
                                                    .group_by(mentions.c.source)).all())
        for name, count in conn.execute(select(kind, func.count()).where(*of_day).group_by(kind)):
            result.sentiment[name] = count
        topics = conn.execute(select(mentions.c.topic, func.count()).where(*of_day, mentions.c.is_complaint.is_(True))
                              .group_by(mentions.c.topic)).all()
        posts = (mentions.c.author, mentions.c.author_reach, mentions.c.url, mentions.c.text, mentions.c.compound,
                 mentions.c.topic, mentions.c.priority)
        complaints = conn.execute(select(*posts).where(*of_day, mentions.c.is_complaint.is_(True))
                                  .order_by(mentions.c.priority.desc(), mentions.c.id).limit(top)).all()
        positives = conn.execute(select(*posts).where(*of_day, mentions.c.compound >= positive_threshold,
                                                      mentions.c.is_complaint.is_(False))
                                 .order_by(mentions.c.author_reach.desc(), mentions.c.id).limit(3)).all()
    result.topics = sorted(topics, key=lambda kv: (-kv[1], kv[0]))
    result.complaints = sum(n for _, n in result.topics)
    result.top_complaints, result.top_positive = [_post(r) for r in complaints], [_post(r) for r in positives]
    result.examples = _examples(db, of_day, [t for t, _ in result.topics[:3]])
    result.movement = movement(db, brand, day, history_edges(day, tz, day_bounds, days),
                               lambda topic: _complaint_texts(db, of_day, topic), kind, days)
    _history(result)
    _delivery(db, result, start, end)
    _spikes(db, result, start, end)
    result.responses = response_figures(db, brand, start, end, slas or {})
    result.to_label = posts_to_label(db, brand, start, end)
    return result


def _post(row) -> dict:
    return {"author": row.author, "reach": row.author_reach, "url": row.url, "text": row.text[:280],
            "compound": row.compound, "topic": row.topic, "priority": row.priority}


def _examples(db: Database, of_day: tuple, topics: list[str], per_topic: int = 2) -> dict[str, list[dict]]:
    posts = (mentions.c.author, mentions.c.author_reach, mentions.c.url, mentions.c.text, mentions.c.compound,
             mentions.c.topic, mentions.c.priority)
    found = {}
    with db.engine.connect() as conn:
        for topic in topics:
            rows = conn.execute(select(*posts).where(*of_day, mentions.c.is_complaint.is_(True),
                                                     mentions.c.topic == topic)
                                .order_by(mentions.c.priority.desc(), mentions.c.id).limit(per_topic)).all()
            found[topic] = [_post(r) for r in rows]
    return found


def _complaint_texts(db: Database, of_day: tuple, topic: str, limit: int = 500) -> list[str]:
    stmt = select(mentions.c.text).where(*of_day, mentions.c.is_complaint.is_(True), mentions.c.topic == topic) \
        .order_by(mentions.c.priority.desc()).limit(limit)
    with db.engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def _history(result: BrandDay) -> None:
    """Previous day, the 7-day baseline and the 14-day trend, from the movement's per-day counts."""
    per_day = result.movement.sentiment_by_day
    previous = per_day[-2]
    result.previous_shares = _shares(previous) if previous else None
    baseline = dict.fromkeys(SENTIMENTS, 0)
    for counts in per_day[-(BASELINE_DAYS if result.days == 1 else 4) - 1:-1]:
        for k, v in counts.items():
            baseline[k] += v
    result.baseline_shares = _shares(baseline) or None
    points = TREND_DAYS if result.days == 1 else len(per_day)  # 14 days, or the 5 weeks
    complaints = result.movement.complaints_by_day[-points:]
    result.trend = [DayPoint(result.day - timedelta(days=(points - 1 - i) * result.days + result.days - 1),
                             sum(counts.values()), counts.get("negative", 0), complaints[i])
                    for i, counts in enumerate(per_day[-points:])]


def _delivery(db: Database, result: BrandDay, start: datetime, end: datetime) -> None:
    stmt = (select(outbox.c.status, outbox.c.delivered_at, mentions.c.created_at, mentions.c.fetched_at,
                   mentions.c.source)
            .join(mentions, mentions.c.id == outbox.c.mention_id)
            .where(mentions.c.brand == result.brand, mentions.c.created_at >= start, mentions.c.created_at < end))
    delays, by_source = [], {}
    with db.engine.connect() as conn:
        for status, delivered_at, created_at, fetched_at, source in conn.execute(stmt):
            if status == "delivered":
                result.alerts_delivered += 1
                # Only posts read live: a backfill's or an import's delay says when it ran, not how fast we are.
                if delivered_at and created_at and fetched_at and fetched_at - created_at <= LIVE_READ:
                    delays.append(max(0.0, (delivered_at - created_at).total_seconds()))
                    by_source.setdefault(source, []).append(delays[-1])
            elif status == "folded":
                result.alerts_delivered += 1  # reached the team inside a burst's spike, not as its own message
            elif status == "dead":
                result.alerts_dead += 1
            elif status == "cancelled":
                continue  # its post was deleted before the alert went out: nothing pending
            else:
                result.alerts_pending += 1
    result.median_alert_delay = statistics.median(delays) if delays else None
    result.alert_delay_by_source = {source: (len(d), nearest_rank(d, 50), nearest_rank(d, 95))
                                    for source, d in sorted(by_source.items())}


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
