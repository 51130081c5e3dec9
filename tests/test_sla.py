"""First-response SLAs at their edges: the due instant itself, business hours in the reminder sweep and in
the digest's response figures, and what a median is; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from monitor import clock
from monitor.config.sections import SlaConfig
from monitor.digest.responses import response_figures
from monitor.model import CaseAction
from monitor.service import MonitorService
from monitor.store.schema import cases, outbox
from tests.support import RecordingSink, build_config, write_jsonl

LONDON = ZoneInfo("Europe/London")
HOURS = {"timezone": "Europe/London", "start": "09:00", "end": "18:00"}  # Monday to Friday


def next_local(weekday: int, at: time, after: datetime) -> datetime:
    """The first ``weekday`` (0 = Monday) at local time ``at`` in London, at least a week after ``after``:
    a moment with the weekday a scenario needs, on whatever day the suite runs."""
    day = after.astimezone(LONDON).date() + timedelta(days=7)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, at, tzinfo=LONDON)


def service(tmp_path, db_url, sla: dict):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "@pixelcart still no refund after 3 weeks"},
                                          {"id": "2", "text": "@pixelcart app crashes at checkout again"}])
    alerts = {"sinks": {"rec": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec", "sla": sla}]}
    svc = MonitorService(build_config(tmp_path, db_url, alerts=alerts))
    svc.prepare()
    svc.run_once()
    return svc


def test_the_reminder_comes_after_the_due_instant_not_at_it(tmp_path, db_url, clock_at):
    opened = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0)).utcnow()
    svc = service(tmp_path, db_url, {"first_response": "30m"})
    assert len(RecordingSink.sent["rec"]) == 2
    due = opened + timedelta(minutes=30)
    assert svc.sla.sweep(due) == 0  # exactly at the due time a reply is still on time: no reminder yet
    assert svc.sla.sweep(due + timedelta(seconds=1)) == 2
    svc.close()


def test_the_sweep_counts_only_business_hours(tmp_path, db_url, clock_at):
    # Opened on a Friday at 17:50 in London: 10 minutes of the half hour pass on Friday, 20 on Monday.
    friday = next_local(4, time(17, 50), clock.SYSTEM.utcnow())
    clock_at(friday)
    svc = service(tmp_path, db_url, {"first_response": "30m", "business_hours": HOURS})
    monday_due = datetime.combine(friday.date() + timedelta(days=3), time(9, 20), tzinfo=LONDON)
    for quiet in (friday + timedelta(minutes=31), friday + timedelta(hours=20), friday + timedelta(days=2),
                  monday_due - timedelta(minutes=21), monday_due):
        assert svc.sla.sweep(quiet) == 0, quiet  # closed, or not yet past the business half hour
    assert RecordingSink.notices["rec"] == []
    assert svc.sla.sweep(monday_due + timedelta(seconds=1)) == 2
    svc.close()


def _cases(store, plan: dict[str, tuple[datetime, datetime | None]]) -> None:
    with store.db.engine.begin() as conn:
        for mention_id, (opened, first) in plan.items():
            conn.execute(sa.update(cases).where(cases.c.mention_id == mention_id)
                         .values(opened_at=opened, first_response_at=first))


def _ids(svc) -> list[int]:
    return sorted(a.mention_id for a in RecordingSink.sent["rec"])


def test_an_answer_exactly_at_the_due_time_is_within_the_sla(tmp_path, db_url, clock_at):
    start = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0) - timedelta(days=3)).utcnow()
    svc = service(tmp_path, db_url, {"first_response": "30m"})
    on_time, late = _ids(svc)
    _cases(svc.store, {on_time: (start, start + timedelta(minutes=30)),
                       late: (start, start + timedelta(minutes=30, seconds=1))})
    slas = {"support": SlaConfig(first_response=1800)}
    figures = response_figures(svc.store.db, "Pixelcart", start - timedelta(hours=1), start + timedelta(hours=1),
                               slas, now=start + timedelta(days=1))
    assert (figures.sla_cases, figures.within_sla) == (2, 1)
    svc.close()


def test_an_unanswered_case_is_missed_only_once_past_due_in_business_hours(tmp_path, db_url, clock_at):
    friday = next_local(4, time(17, 50), clock.SYSTEM.utcnow())
    clock_at(friday)
    svc = service(tmp_path, db_url, {"first_response": "30m", "business_hours": HOURS})
    slas = {"support": SlaConfig.model_validate({"first_response": "30m", "business_hours": HOURS})}
    monday_due = datetime.combine(friday.date() + timedelta(days=3), time(9, 20), tzinfo=LONDON)

    def missed(now: datetime) -> int:
        figures = response_figures(svc.store.db, "Pixelcart", friday - timedelta(hours=1),
                                   friday + timedelta(hours=1), slas, now=now)
        assert figures.within_sla == 0
        return figures.sla_cases

    # Saturday and Sunday are outside the hours: no breach counted, the deadline is still ahead.
    assert [missed(friday + timedelta(days=d)) for d in (1, 2)] == [0, 0]
    assert missed(monday_due) == 0  # at the deadline itself, not yet missed
    assert missed(monday_due + timedelta(seconds=1)) == 2
    svc.close()


def test_the_median_is_the_middle_answer_not_the_average(tmp_path, db_url, clock_at):
    start = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0) - timedelta(days=3)).utcnow()
    posts = [{"id": str(n), "text": f"@pixelcart order {n} never arrived"} for n in range(5)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.run_once()
    # Answers after 1, 2, 3, 4 and 600 minutes: the mean is 122 minutes, the median 3.
    waits = [1, 2, 3, 600, 4]
    _cases(svc.store, {m: (start, start + timedelta(minutes=w)) for m, w in zip(_ids(svc), waits, strict=True)})
    figures = response_figures(svc.store.db, "Pixelcart", start - timedelta(hours=1), start + timedelta(hours=1),
                               {}, now=start + timedelta(days=1))
    assert (figures.answered, figures.median, figures.p90) == (5, 3 * 60, 600 * 60)
    svc.close()


@pytest.mark.parametrize("action", ["claim", "resolve"])
def test_an_agents_action_at_the_due_time_is_on_time(tmp_path, db_url, clock_at, action):
    manual = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0))
    opened = manual.utcnow()
    svc = service(tmp_path, db_url, {"first_response": "30m"})
    first = min(a.case.id for a in RecordingSink.sent["rec"])
    manual.set(opened + timedelta(minutes=30))
    svc.desk.act(CaseAction(first, action, "ann", "cli"))
    assert svc.sla.sweep(opened + timedelta(hours=2)) == 1  # only the other case: this one was answered in time
    figures = response_figures(svc.store.db, "Pixelcart", opened - timedelta(hours=1), opened + timedelta(hours=1),
                               {"support": SlaConfig(first_response=1800)}, now=opened + timedelta(hours=2))
    assert (figures.sla_cases, figures.within_sla) == (2, 1)
    svc.close()


@pytest.mark.parametrize("waited, said", [(timedelta(minutes=119, seconds=59), "119 min"),
                                          (timedelta(minutes=120), "2 h 00 min"),
                                          (timedelta(minutes=185), "3 h 05 min")])
def test_the_reminder_says_how_long_the_case_waited_and_what_to_do(tmp_path, db_url, clock_at, caplog, waited, said):
    opened = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0)).utcnow()
    svc = service(tmp_path, db_url, {"first_response": "30m"})
    with caplog.at_level("WARNING", logger="monitor.cases.sla"):
        assert svc.sla.sweep(opened + waited) == 2
    texts = sorted(text for _, text in RecordingSink.notices["rec"])
    assert texts == [f"No response yet: this complaint has waited {said}, past the support SLA of 30 min. "
                     "Claim it or answer it."] * 2
    ids = sorted(a.case.id for a in RecordingSink.sent["rec"])
    assert sorted(r.getMessage() for r in caplog.records if r.name == "monitor.cases.sla") == [
        f"case {i} missed the support SLA ({said}): reminded" for i in ids]
    assert [(e["action"], e["actor"], e["origin"]) for e in svc.store.cases.history(ids[0])] == [
        ("sla_reminder", "monitor", "auto")]
    svc.close()


def test_an_escalation_goes_to_the_escalation_routes_channel_and_says_so(tmp_path, db_url, clock_at, caplog):
    opened = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0)).utcnow()
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "@pixelcart still no refund after 3 weeks"}])
    alerts = {"sinks": {"rec": {"type": "test-recording"}, "boss": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec", "sla": {"first_response": "30m", "escalate_to": "lead"}},
                         {"name": "lead", "sink": "boss", "channel": "C0LEADS", "escalation_only": True}]}
    svc = MonitorService(build_config(tmp_path, db_url, alerts=alerts))
    svc.prepare()
    svc.run_once()
    [ident] = [a.case.id for a in RecordingSink.sent["rec"]]
    with caplog.at_level("WARNING", logger="monitor.cases.sla"):
        assert svc.sla.sweep(opened + timedelta(minutes=45)) == 1
    svc.delivery.kick()
    [escalated] = RecordingSink.sent["boss"]
    assert (escalated.route, escalated.channel, escalated.external_id) == ("lead", "C0LEADS", "1")
    assert [r.getMessage() for r in caplog.records if r.name == "monitor.cases.sla"] == [
        f"case {ident} missed the support SLA (45 min): reminded, escalated to lead"]
    [(_, text)] = RecordingSink.notices["rec"]
    assert text.endswith("past the support SLA of 30 min; escalated to lead.")
    svc.close()


NOON = {"timezone": "UTC", "start": "09:30", "end": "12:00"}


@pytest.mark.parametrize("opened, allowed, hours, due", [
    # Half past opening: the minutes of the start time count.
    ((0, 8, 0), 600, NOON, (0, 9, 40)),
    # Exactly the time left before closing: due at the close, not the next morning.
    ((0, 11, 0), 3600, NOON, (0, 12, 0)),
    # One second more: the next working day.
    ((0, 11, 0), 3601, NOON, (1, 9, 30, 1)),
    # A night shift opening at 00:30: the next day starts at its midnight, not an hour later.
    ((0, 23, 0), 1800, {"timezone": "UTC", "start": "00:30", "end": "06:00"}, (1, 1, 0)),
])
def test_due_times_at_the_edges_of_the_business_day(opened, allowed, hours, due):
    from monitor.cases.sla import due_at
    from monitor.config.sections import BusinessHoursConfig

    # A Monday some weeks ahead: the weekday matters, the date does not.
    monday = next_local(0, time(0), clock.SYSTEM.utcnow()).date()

    def at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(monday + timedelta(days=day), time(hour, minute, second), tzinfo=ZoneInfo("UTC"))

    assert due_at(at(*opened), allowed, BusinessHoursConfig.model_validate(hours)) == at(*due)


def _set(store, mention_id: int, **values) -> None:
    with store.db.engine.begin() as conn:
        conn.execute(sa.update(cases).where(cases.c.mention_id == mention_id).values(**values))


def test_the_days_cases_and_backlog_have_half_open_edges(tmp_path, db_url, clock_at):
    """A day is [start, end): a case opened at its first instant is the day's, one opened at `end` is the
    next day's; the backlog is what is still open at `end`, including cases closed at or after it."""
    start = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0) - timedelta(days=5)).utcnow()
    end = start + timedelta(days=1)
    posts = [{"id": str(n), "text": f"@pixelcart order {n} never arrived"} for n in range(6)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.run_once()
    at_start, before_end, at_end, closed_at_end, closed_before, closed_after = _ids(svc)
    _set(svc.store, at_start, opened_at=start, first_response_at=start)  # answered at once: a 0 s wait
    _set(svc.store, before_end, opened_at=end - timedelta(seconds=1))
    _set(svc.store, at_end, opened_at=end)
    for mention, closed in ((closed_at_end, end), (closed_before, end - timedelta(seconds=1)),
                            (closed_after, end + timedelta(hours=1))):
        _set(svc.store, mention, opened_at=start + timedelta(hours=1), status="resolved", closed_at=closed,
             first_response_at=start + timedelta(hours=2))
    figures = response_figures(svc.store.db, "Pixelcart", start, end, {}, now=end + timedelta(days=1))
    assert figures.cases == 5  # all but the one opened at `end`
    assert (figures.answered, figures.median) == (4, 3600.0)  # waits 0, 1 h, 1 h, 1 h
    # Open at `end`: the two still open (answered or not), the ones closed at or after it; not the one opened
    # at `end` itself, nor the one closed a second before it.
    assert figures.backlog == 4 and figures.oldest_open == start
    instant = response_figures(svc.store.db, "Pixelcart", start, start + timedelta(minutes=1), {},
                               now=end + timedelta(days=1))
    assert (instant.cases, instant.answered, instant.median) == (1, 1, 0.0)
    assert [(t.cases, t.answered, t.median) for t in instant.by_topic] == [(1, 1, 0.0)]
    svc.close()


def test_only_cases_alerted_on_an_sla_route_count_towards_the_sla(tmp_path, db_url, clock_at):
    opened = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0) - timedelta(days=2)).utcnow()
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "@pixelcart still no refund after 3 weeks"},
                                          {"id": "3", "text": "northwind lost my bag and nobody answers"}])
    alerts = {"sinks": {"rec": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec", "brands": ["Pixelcart"],
                          "sla": {"first_response": "30m"}},
                         {"name": "air", "sink": "rec", "brands": ["Northwind Air"]}]}
    svc = MonitorService(build_config(tmp_path, db_url, alerts=alerts))
    svc.prepare()
    svc.run_once()
    slas = {"support": SlaConfig(first_response=1800)}
    window = (opened - timedelta(hours=1), opened + timedelta(hours=1))
    pixel = response_figures(svc.store.db, "Pixelcart", *window, slas, now=opened + timedelta(days=1))
    north = response_figures(svc.store.db, "Northwind Air", *window, slas, now=opened + timedelta(days=1))
    assert (pixel.cases, pixel.sla_cases, north.cases, north.sla_cases) == (1, 1, 1, 0)
    # A case whose alert rows are gone (kept no longer than the data policy says) still counts, with no SLA.
    with svc.store.db.engine.begin() as conn:
        conn.execute(sa.delete(outbox))
    gone = response_figures(svc.store.db, "Pixelcart", *window, slas, now=opened + timedelta(days=1))
    assert (gone.cases, gone.sla_cases) == (1, 0)
    svc.close()


def test_a_reminder_another_instance_claimed_is_not_sent_or_counted_here(tmp_path, db_url, clock_at):
    from monitor.store import Store

    opened = clock_at(clock.SYSTEM.utcnow().replace(microsecond=0)).utcnow()
    svc = service(tmp_path, db_url, {"first_response": "30m"})
    other = Store(db_url)
    for outbox_id, _, _ in other.outbox.awaiting_reminder(["support"]):
        assert other.outbox.claim_reminder(outbox_id)  # the other instance is sending these right now
    assert svc.sla.sweep(opened + timedelta(hours=1)) == 0
    assert RecordingSink.notices.get("rec", []) == []
    other.close()
    svc.close()
