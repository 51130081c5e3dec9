"""How fast the team answered the day's complaints: answered, time to first response (median, p90), the share
within the routes' SLAs, the backlog left at the end of the day, the same by topic, and dismissed cases as
the detector's false-alarm rate."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from monitor.cases.sla import due_at
from monitor.clock import utcnow
from monitor.config.sections import SlaConfig
from monitor.store.database import Database
from monitor.store.schema import cases, mentions, outbox


@dataclass
class TopicResponses:
    topic: str
    cases: int
    answered: int
    median: float | None   # seconds to first response


@dataclass
class ResponseFigures:
    cases: int = 0              # cases opened this day
    answered: int = 0           # of those, with a first response (so far)
    median: float | None = None
    p90: float | None = None
    sla_cases: int = 0          # cases on SLA routes whose outcome is known (answered, or past due)
    within_sla: int = 0
    dismissed: int = 0
    backlog: int = 0            # cases still open or claimed at the end of the day (opened that day or before)
    oldest_open: datetime | None = None
    by_topic: list[TopicResponses] = field(default_factory=list)

    @property
    def false_alarm_rate(self) -> float | None:
        return self.dismissed / self.cases if self.cases else None


def nearest_rank(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else None


def response_figures(db: Database, brand: str, start: datetime, end: datetime,
                     slas: dict[str, SlaConfig], now: datetime | None = None) -> ResponseFigures:
    now = now or utcnow()
    day = (cases.c.brand == brand, cases.c.opened_at >= start, cases.c.opened_at < end)
    with db.engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.status, cases.c.opened_at, cases.c.first_response_at,
                                   mentions.c.topic).join(mentions, mentions.c.id == cases.c.mention_id)
                            .where(*day, cases.c.status != "gone")).all()  # deleted by its author: nothing to answer
        routes: dict[int, list[str]] = {}
        for case_id, route in conn.execute(select(cases.c.id, outbox.c.route)
                                           .join(outbox, outbox.c.mention_id == cases.c.mention_id).where(*day)):
            routes.setdefault(case_id, []).append(route)
        backlog = conn.execute(select(cases.c.opened_at).where(
            cases.c.brand == brand, cases.c.opened_at < end,
            or_(cases.c.status.in_(("open", "claimed")), cases.c.closed_at >= end))).scalars().all()
    out = ResponseFigures(cases=len(rows), backlog=len(backlog), oldest_open=min(backlog) if backlog else None)
    waits, by_topic = [], {}
    for row in rows:
        wait = (row.first_response_at - row.opened_at).total_seconds() if row.first_response_at else None
        out.dismissed += row.status == "dismissed"
        topic = by_topic.setdefault(row.topic, [0, []])
        topic[0] += 1
        if wait is not None:
            waits.append(max(0.0, wait))
            topic[1].append(max(0.0, wait))
        _count_sla(out, row, routes.get(row.id, []), slas, now)
    out.answered, out.median, out.p90 = len(waits), _median(waits), nearest_rank(waits, 0.9)
    out.by_topic = sorted((TopicResponses(t, n, len(w), _median(w)) for t, (n, w) in by_topic.items()),
                          key=lambda t: (-t.cases, t.topic))
    return out


def _count_sla(out: ResponseFigures, row, routes: list[str], slas: dict[str, SlaConfig], now: datetime) -> None:
    targets = [slas[r] for r in routes if r in slas]
    if not targets:
        return
    due = min(due_at(row.opened_at, sla.first_response, sla.business_hours) for sla in targets)
    if row.first_response_at is not None:
        out.sla_cases += 1
        out.within_sla += row.first_response_at <= due
    elif now > due:
        out.sla_cases += 1  # missed: still waiting past the deadline


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
