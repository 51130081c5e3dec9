"""What changed, and whether it matters: complaint rates over 14 and 28 days, topics against their usual
level, and a headline naming the movements beyond normal variation.

A movement is measured against the trailing 7 days (a weekly digest: the week before); whether it matters
is tested against the mean and spread of the previous 28 days. Only days a source was watching count: a
day that ended before a source's first stored mention of the brand is "no data" for it, not a day without
complaints. A source is compared once it has FIRST_WEEK days of history, each against its own days (the
usual level is the sum of theirs), so adding a source is no rise; until one has, the headline compares
nothing. A movement is news when today is at
least MIN_COUNT complaints, at least RATIO_NEWS times the average, and more than Z_NEWS standard deviations
above it (the spread is floored at one complaint, so a topic that is usually at zero needs a real jump).
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, literal, select

from monitor.store.database import Database
from monitor.store.schema import mentions

HISTORY_DAYS = 28
TABLE_DAYS = 7
MIN_COUNT, RATIO_NEWS, Z_NEWS = 5, 1.5, 2.0
FIRST_WEEK = 7  # days of history before any "x the usual"
_WORD = re.compile(r"[\w']+")
STOPWORDS = frozenset(
    "a an the and or but to of in on at for with from by is are was were be been it its it's my me i i'm you your "
    "we our they them this that these those so just still not no again now today yet have has had do does did "
    "can can't cant won't dont don't im ive i've what why how when where who all any more very get got".split())


@dataclass
class TopicMove:
    topic: str
    today: int
    average: float      # per day over the previous TABLE_DAYS days
    mean28: float       # per day over the previous HISTORY_DAYS days
    spread28: float     # standard deviation of those days
    words: str = ""     # the phrase most shared by today's complaints of the topic

    @property
    def direction(self) -> str:
        if self.today > self.average * 1.1 and self.today - self.average >= 1:
            return "up"
        if self.today < self.average * 0.9 and self.average - self.today >= 1:
            return "down"
        return "flat"

    @property
    def z(self) -> float:
        return (self.today - self.mean28) / max(1.0, self.spread28)

    @property
    def news(self) -> bool:
        return self.today >= MIN_COUNT and self.today >= RATIO_NEWS * max(self.mean28, 0.5) and self.z > Z_NEWS


@dataclass
class Movement:
    complaints_today: int = 0
    rate14: float | None = None   # complaints / mentions over the 14 days ending with the digest day
    rate28: float | None = None
    complaints_mean28: float = 0.0   # per day, previous 28 days
    complaints_spread28: float = 0.0
    topics: list[TopicMove] = field(default_factory=list)  # today's and the usual ones, biggest change first
    headline: list[str] = field(default_factory=list)
    sentiment_by_day: list[dict[str, int]] = field(default_factory=list)  # oldest first, the digest day last
    complaints_by_day: list[int] = field(default_factory=list)
    history_days: int = 0  # days before the period the monitor was watching (at most HISTORY_DAYS)
    compared_today: int = 0  # today's complaints from sources with a week of history: what is compared
    new_sources: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (days watched, today's)


def movement(db: Database, brand: str, day: date, edges: list, texts_of_day, kind, period_days: int = 1) -> Movement:
    """``edges``: the local midnights from HISTORY_DAYS days before ``day`` to the end of ``day``
    (HISTORY_DAYS + 2 instants). ``texts_of_day(topic)`` returns today's complaint texts of a topic; ``kind``
    is the SQL expression of a mention's sentiment class. One pass over the 29 days' mentions."""
    days = len(edges) - 1
    today = days - 1
    series = _source_series(db, brand, edges, kind, days)
    volume = [sum(s.volume[i] for s in series.values()) for i in range(days)]
    complaints = [sum(s.complaints[i] for s in series.values()) for i in range(days)]
    sentiment: list[dict[str, int]] = [{} for _ in range(days)]
    for s in series.values():
        for i, counts in enumerate(s.sentiment):
            for name, count in counts.items():
                sentiment[i][name] = sentiment[i].get(name, 0) + count
    result = Movement(complaints_today=complaints[today], sentiment_by_day=sentiment,
                      complaints_by_day=complaints)
    two_weeks, four_weeks = 14 // period_days, HISTORY_DAYS // period_days
    table = TABLE_DAYS if period_days == 1 else 1  # a day against the 7 before; a week against the one before
    result.rate14 = _rate(complaints[-two_weeks:], volume[-two_weeks:])
    result.rate28 = _rate(complaints[-four_weeks:], volume[-four_weeks:])
    # A period counts for a source once it was watching by its end: its first stored mention came before that.
    # Only sources with a week of history are compared, each against its own days, so adding a source is no rise.
    for s in series.values():
        s.watched = [i for i in range(today) if edges[i + 1] > s.first_seen]
    result.history_days = max((len(s.watched) for s in series.values()), default=0) * period_days
    compared = {name: s for name, s in series.items() if len(s.watched) * period_days >= FIRST_WEEK}
    result.new_sources = {name: (len(s.watched) * period_days, s.complaints[today])
                          for name, s in series.items() if name not in compared}
    result.compared_today = sum(s.complaints[today] for s in compared.values())
    result.complaints_mean28, result.complaints_spread28 = _combined(
        [s.complaints[i] for i in s.watched] for s in compared.values())
    for topic in sorted({t for s in series.values() for t in s.topics}):
        mean28, spread28 = _combined([s.topic(topic)[i] for i in s.watched] for s in compared.values())
        recent = sum(_mean([s.topic(topic)[i] for i in s.watched if i >= today - table]) for s in compared.values())
        move = TopicMove(topic, sum(s.topic(topic)[today] for s in compared.values()), recent, mean28, spread28)
        if move.today or move.average >= 0.5:
            result.topics.append(move)
    result.topics.sort(key=lambda m: (-abs(m.today - m.average), m.topic))
    result.headline = _headline(brand, result, texts_of_day, "a day" if period_days == 1 else "a week")
    return result


@dataclass
class _Series:
    """One source's daily counts for the brand, and since when it has been watching."""

    first_seen: object
    days: int
    volume: list[int] = field(default_factory=list)
    complaints: list[int] = field(default_factory=list)
    sentiment: list[dict[str, int]] = field(default_factory=list)
    topics: dict[str, list[int]] = field(default_factory=dict)
    watched: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.volume, self.complaints = [0] * self.days, [0] * self.days
        self.sentiment = [{} for _ in range(self.days)]

    def topic(self, name: str) -> list[int]:
        return self.topics.get(name) or [0] * self.days


def _source_series(db: Database, brand: str, edges: list, kind, days: int) -> dict[str, _Series]:
    bucket = day_bucket(mentions.c.created_at, edges)
    window = (mentions.c.brand == brand, mentions.c.created_at >= edges[0], mentions.c.created_at < edges[-1])
    stmt = (select(mentions.c.source, bucket, kind, mentions.c.is_complaint, mentions.c.topic, func.count())
            .where(*window).group_by(mentions.c.source, bucket, kind, mentions.c.is_complaint, mentions.c.topic))
    first = (select(mentions.c.source, func.min(mentions.c.fetched_at)).where(mentions.c.brand == brand)
             .group_by(mentions.c.source))
    with db.engine.connect() as conn:
        series = {source: _Series(seen, days) for source, seen in conn.execute(first)}
        for source, index, name, complaint, topic, count in conn.execute(stmt):
            s = series[source]
            s.volume[index] += count
            s.sentiment[index][name] = s.sentiment[index].get(name, 0) + count
            if complaint:
                s.complaints[index] += count
                s.topics.setdefault(topic, [0] * days)[index] += count
    return series


def _combined(per_source) -> tuple[float, float]:
    """Mean and spread of a sum of sources, each over its own watched days (spreads add as variances)."""
    histories = [h for h in per_source if h]
    return sum(_mean(h) for h in histories), math.sqrt(sum(_spread(h) ** 2 for h in histories))


def _mean(values: list[int]) -> float:
    return statistics.fmean(values) if values else 0.0


def _spread(values: list[int]) -> float:
    return statistics.pstdev(values) if values else 0.0


def _rate(complaints: list[int], volume: list[int]) -> float | None:
    return sum(complaints) / sum(volume) if sum(volume) else None


def _headline(brand: str, m: Movement, texts_of_day, per: str) -> list[str]:
    if m.history_days < FIRST_WEEK:
        when = "today" if per == "a day" else "this week"
        return [f"First week of history for {brand}: {m.complaints_today} complaint(s) {when}; comparisons with "
                f"the usual level start after {FIRST_WEEK} days of history ({m.history_days} so far)."]
    news = sorted((t for t in m.topics if t.news), key=lambda t: (-(t.today - t.average), t.topic))[:3]
    lines = []
    for move in news:
        move.words = driving_words(texts_of_day(move.topic), brand=brand)
        why = f", mostly '{move.words}'" if move.words else ""
        lines.append(f"Complaints about {move.topic} {move.today / max(move.average, 0.5):.1f}x the usual "
                     f"({move.today} vs {move.average:.0f} {per}){why}.")
    today = m.compared_today
    overall_z = (today - m.complaints_mean28) / max(1.0, m.complaints_spread28)
    if not lines and today >= MIN_COUNT and overall_z > Z_NEWS and today >= RATIO_NEWS * max(m.complaints_mean28, 0.5):
        lines.append(f"Complaints about {brand} {today / max(m.complaints_mean28, 0.5):.1f}x the usual "
                     f"({today} vs {m.complaints_mean28:.0f} {per}), spread over topics.")
    if not lines:
        quiet = "day" if per == "a day" else "week"
        lines.append(f"A quiet {quiet} for {brand}: {today} complaint(s) against "
                     f"{m.complaints_mean28:.0f} {per} usually; nothing moved beyond its normal range.")
    if m.new_sources:
        when = "today" if per == "a day" else "this week"
        lines.append("Not compared yet (under a week of history): " + ", ".join(
            f"{name} ({count} complaint(s) {when}, watched {days} day(s))"
            for name, (days, count) in sorted(m.new_sources.items())) + ".")
    return lines


def driving_words(texts: list[str], size: int = 3, brand: str = "") -> str:
    """The phrase (3, else 2 words, no stopword at either end) most posts of ``texts`` share; '' if none
    is shared by at least two posts and a fifth of them. The brand's own name and @handles are left out:
    every post names the brand, so it says nothing about what they complain of."""
    own = set(_WORD.findall(brand.lower()))
    for n in (size, 2):
        counts: Counter = Counter()
        for text in texts:
            words = [w for w in _WORD.findall(text.lower())
                     if not w.startswith("@") and w not in own and w.removesuffix("'s") not in own]
            grams = {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
            counts.update(g for g in grams if g[0] not in STOPWORDS and g[-1] not in STOPWORDS)
        if counts:
            gram, count = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            if count >= 2 and count >= len(texts) / 5:
                return " ".join(gram)
    return ""


def day_bucket(column, edges: list, low: int = 0, high: int | None = None):
    """The index i of the day with edges[i] <= column < edges[i + 1], as a balanced CASE: a handful of
    comparisons per row whatever the number of days (rows outside the edges are filtered by the caller)."""
    high = len(edges) - 2 if high is None else high
    if low == high:
        return literal(low)
    mid = (low + high + 1) // 2
    return case((column < edges[mid], day_bucket(column, edges, low, mid - 1)),
                else_=day_bucket(column, edges, mid, high))


def history_edges(day: date, tz: str, day_bounds, period_days: int = 1) -> list:
    """Local midnights starting each period from HISTORY_DAYS before the period ending with ``day``, then the
    end of ``day``: 29 daily periods, or 5 weekly ones."""
    first = day - timedelta(days=period_days - 1)
    starts = [first - timedelta(days=offset) for offset in range(HISTORY_DAYS, -1, -period_days)]
    return [day_bounds(d, tz)[0] for d in starts] + [day_bounds(day, tz)[1]]
