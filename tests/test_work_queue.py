"""The work queue's order and counts: the deadline is the earliest SLA of the case's routes (business hours
counted), late first, then due soonest, then unanswered without an SLA, then claimed; each filter's counts are
over the other filters' matches."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.cases.queue import WorkQueue, priority_band
from monitor.config import RouteConfig
from monitor.store.inbox import WorkingCase

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday
ROUTES = [RouteConfig(name="fast", sink="s", sla={"first_response": "30m"}),
          RouteConfig(name="slow", sink="s", sla={"first_response": "4h"}),
          RouteConfig(name="office", sink="s", sla={"first_response": "1h", "business_hours": {
              "timezone": "UTC", "start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}}),
          RouteConfig(name="none", sink="s")]


def case(ident: int, minutes_ago: float, routes=("fast",), status="open", answered=False, brand="A", topic="t",
         priority=10.0, by=None) -> WorkingCase:
    opened = NOW - timedelta(minutes=minutes_ago)
    return WorkingCase(ident, status, brand, opened, by, answered, "feed", topic, priority, tuple(routes))


def order(cases, **chosen) -> list[int]:
    return [q.case.id for q in WorkQueue(ROUTES).page(cases, chosen, NOW).cases]


def test_late_first_then_due_soonest_then_no_sla_then_claimed():
    cases = [case(1, 10, ("slow",)),                 # due in 3 h 50
             case(2, 40),                            # 10 min late
             case(3, 20),                            # due in 10 min
             case(4, 600, ("none",)),                # no SLA, old
             case(5, 5, ("none",)),                  # no SLA, new
             case(6, 90, status="claimed", answered=True, by="ana"),
             case(7, 95, ("fast", "slow"))]          # the earliest SLA counts: 65 min late
    assert order(cases) == [7, 2, 3, 1, 4, 5, 6]
    page = WorkQueue(ROUTES).page(cases, {}, NOW)
    assert page.total == 7 and page.overdue == 2
    assert [q.overdue for q in page.cases[:3]] == [True, True, False]


def test_business_hours_set_the_deadline():
    friday_evening = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    working = WorkingCase(1, "open", "A", friday_evening, None, False, "feed", "t", 1.0, ("office",))
    # 30 minutes on Friday, the other 30 on Monday morning.
    assert WorkQueue(ROUTES).deadline(working) == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    assert WorkQueue(ROUTES).deadline(case(2, 5, ("none",))) is None
    assert WorkQueue(ROUTES).deadline(case(3, 5, answered=True)) is None


def test_each_filters_counts_are_over_the_other_filters():
    cases = [case(1, 5, brand="A", topic="billing", priority=70), case(2, 5, brand="A", topic="delivery"),
             case(3, 5, brand="B", topic="billing", priority=40), case(4, 5, brand="B", topic="billing",
                                                                        status="claimed", by="ana")]
    page = WorkQueue(ROUTES).page(cases, {"brand": "B", "topic": "billing"}, NOW)
    assert [q.case.id for q in page.cases] == [3, 4]
    assert page.counts["brand"] == [("B", 2), ("A", 1)]        # billing cases per brand, most first
    assert page.counts["topic"] == [("billing", 2)]             # brand B's cases per topic
    assert page.counts["assignee"] == [("(nobody)", 1), ("ana", 1)]
    assert page.counts["priority"] == [("low", 1), ("medium", 1)]
    assert order(cases, assignee="(nobody)", status="open", priority="high") == [1]


def test_pages_of_the_queue():
    cases = [case(i, 100 - i) for i in range(1, 8)]
    queue = WorkQueue(ROUTES)
    assert [q.case.id for q in queue.page(cases, {}, NOW, offset=0, limit=3).cases] == [1, 2, 3]
    assert [q.case.id for q in queue.page(cases, {}, NOW, offset=6, limit=3).cases] == [7]


def test_priority_bands():
    assert [priority_band(p) for p in (0, 29.99, 30, 59.9, 60, 100)] == ["low", "low", "medium", "medium", "high",
                                                                          "high"]
