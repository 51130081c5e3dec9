"""Daily digest figures per brand, for marketing: volume, sentiment, complaints, topics."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from monitor.schema import mentions
from monitor.storage import MentionStore


@dataclass
class BrandDay:
    brand: str
    day: date
    timezone: str
    volume_by_source: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=lambda: {"positive": 0, "neutral": 0, "negative": 0})
    complaints: int = 0
    topics: list[tuple[str, int]] = field(default_factory=list)
    top_negative: list[dict] = field(default_factory=list)

    @property
    def volume(self) -> int:
        return sum(self.volume_by_source.values())

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.volume if self.volume else 0.0


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """A calendar day in the configured timezone, as UTC instants [start, end)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def brand_day(store: MentionStore, brand: str, day: date, tz: str,
              negative_threshold: float = -0.05, positive_threshold: float = 0.05, top: int = 5) -> BrandDay:
    start, end = day_bounds(day, tz)
    stmt = (select(mentions.c.source, mentions.c.compound, mentions.c.is_complaint, mentions.c.topic,
                   mentions.c.author, mentions.c.author_reach, mentions.c.url, mentions.c.text)
            .where(mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < end))
    result = BrandDay(brand, day, tz)
    topic_counts: dict[str, int] = {}
    negatives = []
    with store.engine.connect() as conn:
        for row in conn.execute(stmt):
            result.volume_by_source[row.source] = result.volume_by_source.get(row.source, 0) + 1
            if row.compound <= negative_threshold:
                result.sentiment["negative"] += 1
                negatives.append(row)
            elif row.compound >= positive_threshold:
                result.sentiment["positive"] += 1
            else:
                result.sentiment["neutral"] += 1
            if row.is_complaint:
                result.complaints += 1
                topic_counts[row.topic] = topic_counts.get(row.topic, 0) + 1
    result.topics = sorted(topic_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    negatives.sort(key=lambda r: (-r.author_reach, r.compound))
    result.top_negative = [{"author": r.author, "reach": r.author_reach, "url": r.url, "text": r.text[:280],
                            "compound": r.compound} for r in negatives[:top]]
    return result


def render_text(d: BrandDay) -> str:
    if not d.volume:
        return f"{d.brand} · {d.day:%a %d %b %Y} ({d.timezone}): no mentions stored for this day.\n"
    split = ", ".join(f"{k} {v} ({v / d.volume:.0%})" for k, v in d.sentiment.items())
    sources = ", ".join(f"{s} {n}" for s, n in sorted(d.volume_by_source.items()))
    lines = [f"{d.brand} · {d.day:%a %d %b %Y} ({d.timezone})",
             f"  mentions: {d.volume} ({sources})",
             f"  sentiment: {split}",
             f"  complaints: {d.complaints} ({d.complaint_rate:.1%} of mentions)"]
    if d.topics:
        running = 0
        lines.append("  complaint topics (most first):")
        for topic, count in d.topics:
            running += count
            lines.append(f"    {topic:<16} {count:>5}  cumulative {running / d.complaints:.0%}")
    if d.top_negative:
        lines.append("  most-read negative posts:")
        for p in d.top_negative:
            lines.append(f"    @{p['author']} ({p['reach']:,}) {p['text'][:100]!r} {p['url'] or ''}".rstrip())
    return "\n".join(lines) + "\n"
