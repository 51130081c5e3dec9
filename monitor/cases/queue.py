"""The work queue: open and claimed cases, each with its first-response deadline (the earliest SLA among the
routes its alerts took), ordered so that what is late or due soonest comes first, filtered, and counted per
filter value so an agent sees where the work is."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from monitor.cases.sla import due_at
from monitor.config import RouteConfig
from monitor.store.inbox import WorkingCase

FILTERS = ("brand", "source", "topic", "priority", "assignee", "status")
PRIORITY_BANDS = (("high", 60.0), ("medium", 30.0), ("low", 0.0))
UNASSIGNED = "(nobody)"


def priority_band(priority: float) -> str:
    return next(name for name, floor in PRIORITY_BANDS if priority >= floor)


@dataclass(frozen=True, slots=True)
class QueuedCase:
    case: WorkingCase
    due: datetime | None    # when the first response is due; None: no SLA, or answered already
    overdue: bool


def filter_values(case: WorkingCase) -> tuple[str, ...]:
    """The case's value for each of FILTERS, in that order."""
    return (case.brand, case.source or "spike", case.topic or "spike", priority_band(case.priority),
            case.claimed_by or UNASSIGNED, case.status)


@dataclass
class QueuePage:
    cases: list[QueuedCase]
    total: int                      # cases matching the filters
    overdue: int                    # of those, past their deadline
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # per filter: (value, cases)


class WorkQueue:
    def __init__(self, routes: list[RouteConfig]) -> None:
        self.slas = {r.name: r.sla for r in routes if r.sla}

    def deadline(self, case: WorkingCase) -> datetime | None:
        if case.answered:
            return None
        dues = [due_at(case.opened_at, sla.first_response, sla.business_hours)
                for sla in (self.slas.get(route) for route in case.routes) if sla]
        return min(dues) if dues else None

    def page(self, working: list[WorkingCase], chosen: dict[str, str], now: datetime, offset: int = 0,
             limit: int = 50) -> QueuePage:
        """One page of the queue under the ``chosen`` filters ({filter: value}); the counts of each filter are
        over the cases matching every other filter, so they say what choosing that value would show."""
        wanted = [(i, chosen[name]) for i, name in enumerate(FILTERS) if chosen.get(name)]
        counters: list[Counter] = [Counter() for _ in FILTERS]
        matching = []
        for case in working:
            values = filter_values(case)
            missed = [i for i, value in wanted if values[i] != value]
            if not missed:  # shown, and counted under every filter
                due = self.deadline(case)
                matching.append(QueuedCase(case, due, due is not None and now > due))
                for i, value in enumerate(values):
                    counters[i][value] += 1
            elif len(missed) == 1:  # counted under the one filter it misses: choosing its value would show it
                counters[missed[0]][values[missed[0]]] += 1
        matching.sort(key=_urgency)
        counts = {name: sorted(counters[i].items(), key=lambda kv: (-kv[1], kv[0])) for i, name in enumerate(FILTERS)}
        return QueuePage(matching[offset:offset + limit], len(matching), sum(q.overdue for q in matching), counts)


def _urgency(queued: QueuedCase) -> tuple:
    """Unanswered cases with a deadline first, soonest (most overdue) first; then unanswered ones without an SLA,
    oldest first; then the claimed ones, oldest first."""
    case = queued.case
    if queued.due is not None:
        return (0, queued.due, case.id)
    if not case.answered:
        return (1, case.opened_at, case.id)
    return (2, case.opened_at, case.id)
