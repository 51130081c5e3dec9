"""Cases: opened with each alerted complaint, worked through the state machine with history and labels,
race-safe across threads and instances, listed and worked from the CLI; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from monitor.cases.desk import CaseDesk
from monitor.cli import cli
from monitor.model import CaseAction
from monitor.service import MonitorService
from monitor.store import Store
from monitor.store.schema import cases
from tests.support import BRANDS, RecordingSink, build_config, write_jsonl

POSTS = [
    {"id": "1", "text": "@pixelcart still no refund after 3 weeks", "author": "ann", "followers": 1200},
    {"id": "2", "text": "pixelcart is lovely, thanks", "author": "bob"},
    {"id": "3", "text": "northwind lost my bag and nobody answers", "author": "cy"},
]


def service(tmp_path, db_url, **sections):
    write_jsonl(tmp_path / "feed.jsonl", POSTS)
    sections.setdefault("alerts", {"sinks": {"rec": {"type": "test-recording"}, "rec2": {"type": "test-recording"}},
                                   "routes": [{"name": "support", "sink": "rec"},
                                              {"name": "copy", "sink": "rec2", "brands": ["Pixelcart"]}]})
    svc = MonitorService(build_config(tmp_path, db_url, **sections))
    svc.prepare()
    svc.run_once()
    return svc


def case_of(svc, external_id: str) -> int:
    [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == external_id]
    return alert.case.id


def test_each_alerted_complaint_is_one_open_case(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    rows = svc.store.cases.find()
    assert sorted(r["text"] for r in rows) == sorted([POSTS[0]["text"], POSTS[2]["text"]])  # not the praise
    assert [r["status"] for r in rows] == ["open", "open"]
    # Two routes, one complaint: one case, and both alerts carry it.
    pixel = [a for s in ("rec", "rec2") for a in RecordingSink.sent[s] if a.external_id == "1"]
    assert len(pixel) == 2 and pixel[0].case.id == pixel[1].case.id and pixel[0].case.status == "open"
    svc.close()


def test_the_state_machine_with_history_labels_and_first_response(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    act = svc.desk.act
    assert act(CaseAction(ident, "reopen", "ann", "cli")).message == f"case {ident} was not changed: already open"
    assert act(CaseAction(ident, "reopen", "ann", "cli")).changed is False
    claimed = act(CaseAction(ident, "claim", "ann", "cli"))
    assert claimed.changed and claimed.case.claimed_by == "ann" and claimed.case.first_response_by == "ann"
    again = act(CaseAction(ident, "claim", "bob", "slack"))
    assert not again.changed and again.message == f"case {ident} was not changed: already claimed by ann"
    resolved = act(CaseAction(ident, "resolve", "bob", "slack"))
    assert resolved.case.status == "resolved" and resolved.case.closed_by == "bob"
    assert resolved.case.first_response_at == claimed.case.first_response_at  # the first response stays first
    assert act(CaseAction(ident, "claim", "cy", "slack")).message == \
        f"case {ident} was not changed: it is resolved by bob; claim applies to open cases"
    reopened = act(CaseAction(ident, "reopen", "cy", "cli"))
    assert reopened.case.status == "open" and reopened.case.claimed_by is None and reopened.case.closed_by is None
    dismissed = act(CaseAction(ident, "dismiss", "cy", "cli"))
    assert dismissed.case.status == "dismissed"
    history = svc.store.cases.history(ident)
    assert [(e["action"], e["actor"], e["origin"], e["from_status"], e["to_status"]) for e in history] == [
        ("claim", "ann", "cli", "open", "claimed"), ("resolve", "bob", "slack", "claimed", "resolved"),
        ("reopen", "cy", "cli", "resolved", "open"), ("dismiss", "cy", "cli", "open", "dismissed")]
    labels = svc.store.cases.labels_of(dismissed.case.mention_id)
    assert [(lb["is_complaint"], lb["actor"]) for lb in labels] == [(True, "bob"), (False, "cy")]
    missing = act(CaseAction(999999, "claim", "ann", "cli"))
    assert (missing.changed, missing.message) == (False, "there is no case 999999")
    svc.close()


def test_sinks_are_shown_each_change(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    shown: list[tuple[str, str]] = []
    for name in ("rec", "rec2"):
        svc.sinks[name].show_case = lambda alert, name=name: shown.append((name, alert.case.status))
    svc.desk.act(CaseAction(ident, "claim", "ann", "cli"))
    svc.desk.act(CaseAction(ident, "claim", "bob", "cli"))  # refused, but the messages still show the final state
    assert shown == [("rec", "claimed"), ("rec2", "claimed"), ("rec", "claimed"), ("rec2", "claimed")]
    svc.close()


def test_two_agents_and_two_instances_racing_change_a_case_once(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    other = Store(db_url)  # a second instance on the same database
    desks = [svc.desk, CaseDesk(other.cases, other.outbox, {})]
    results, barrier = [], threading.Barrier(8)

    def click(n):
        barrier.wait()
        results.append(desks[n % 2].act(CaseAction(ident, "claim", f"agent{n}", "slack")))

    threads = [threading.Thread(target=click, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [r for r in results if r.changed]
    assert len(results) == 8 and len(winners) == 1
    assert all(r.case.claimed_by == winners[0].case.claimed_by for r in results)
    assert [e["action"] for e in svc.store.cases.history(ident)] == ["claim"]
    other.close()
    svc.close()


def test_a_database_that_is_away_gets_an_answer_not_silence(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    svc.store.db.engine.dispose()
    svc.store.db.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=1")
    result = svc.desk.act(CaseAction(ident, "claim", "ann", "slack"))
    assert not result.changed and "could not record that" in result.message
    svc.close()


def cli_config(tmp_path, db_url):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url}, "brands": BRANDS,
                                    "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
                                    "alerts": {"sinks": {"rec": {"type": "test-recording"}}}}))
    return path


def test_cases_from_the_command_line(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    svc.close()
    path = cli_config(tmp_path, db_url)

    def run(*args):
        return CliRunner().invoke(cli, ["--config", str(path), *args])

    listed = [json.loads(line) for line in run("cases", "--status", "open", "--json").output.splitlines()]
    assert sorted(c["id"] for c in listed) == sorted(r["id"] for r in svc.store.cases.find())
    assert [c["brand"] for c in json.loads("[" + ",".join(run("cases", "--brand", "PIXELCART", "--json")
                                                          .output.splitlines()) + "]")] == ["Pixelcart"]
    assert run("cases", "--older-than", "1d").stderr == "no cases match\n"
    claimed = run("case", str(ident), "claim", "--as", "ann")
    assert claimed.exit_code == 0 and claimed.stdout == f"case {ident} is claimed\n"
    again = run("case", str(ident), "claim", "--as", "bob")
    assert again.exit_code == 1 and again.stderr.endswith(f"case {ident} was not changed: already claimed by ann\n")
    assert run("case", "999999", "resolve", "--as", "ann").exit_code == 1
    text = run("cases", "--status", "claimed").output
    assert f"{ident:>6}  claimed" in text and "ann" in text and "still no refund" in text
    assert run("cases", "--older-than", "soon").exit_code == 2


def test_migration_opens_cases_for_complaints_alerted_before_it(tmp_path, db_url):
    store = Store(db_url)
    store.schema.upgrade("0004")
    with store.db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO mentions (id, source, external_id, brand, author, author_reach, text, created_at, "
            "fetched_at, compound, positive, neutral, negative, is_complaint, confidence, reasons, topic, priority) "
            "VALUES (1, 's', 'x1', 'Pixelcart', 'a', 0, 'still no refund', '2026-11-20 10:00:00', "
            "'2026-11-20 10:00:00', -0.5, 0, 0, 0, true, 0.9, '[]', 'billing', 50)"))
        for ident, route in ((1, "support"), (2, "escalation")):
            conn.execute(sa.text(
                "INSERT INTO outbox (id, mention_id, route, sink, status, attempts, next_attempt_at, created_at) "
                f"VALUES ({ident}, 1, '{route}', 'rec', 'delivered', 1, '2026-11-20 10:01:00', "
                f"'2026-11-20 10:0{ident}:00')"))
    store.schema.upgrade()
    with store.db.engine.connect() as conn:
        [row] = conn.execute(sa.select(cases)).all()
    assert (row.mention_id, row.brand, row.status) == (1, "Pixelcart", "open")
    assert row.opened_at.strftime("%H:%M") == "10:01"  # from the first alert queued
    store.close()


# -- SLA -------------------------------------------------------------------------------------------------------

NY = "America/New_York"


@pytest.mark.parametrize("opened, allowed, hours, due", [
    ("2026-11-20T10:00:00+00:00", 1800, None, "2026-11-20T10:30:00+00:00"),
    # Friday 16:45 New York (EDT), 30 min of business time: 15 min on Friday, 15 on Monday after the DST change.
    ("2026-10-30T20:45:00+00:00", 1800, {"timezone": NY}, "2026-11-02T14:15:00+00:00"),
    # Opened at night: the clock starts at 09:00.
    ("2026-11-19T03:00:00+00:00", 3600, {"timezone": NY}, "2026-11-19T15:00:00+00:00"),
    # Saturday, with a shop open at weekends only.
    ("2026-11-21T16:30:00+00:00", 5400, {"timezone": "UTC", "start": "10:00", "end": "17:00", "days": ["sat", "sun"]},
     "2026-11-22T11:00:00+00:00"),
])
def test_due_time_counts_business_hours(opened, allowed, hours, due):
    from datetime import datetime

    from monitor.cases.sla import due_at
    from monitor.config.sections import BusinessHoursConfig

    config = BusinessHoursConfig.model_validate(hours) if hours is not None else None
    assert due_at(datetime.fromisoformat(opened), allowed, config) == datetime.fromisoformat(due)


SLA_ALERTS = {"sinks": {"rec": {"type": "test-recording"}, "rec2": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec", "sla": {"first_response": "30m",
                                                                   "escalate_to": "escalation"}},
                         {"name": "escalation", "sink": "rec2", "escalation_only": True}]}


def test_a_missed_sla_reminds_once_and_escalates_once_across_restarts(tmp_path, db_url):
    from datetime import timedelta

    from monitor.clock import utcnow

    svc = service(tmp_path, db_url, alerts=SLA_ALERTS)
    pixel, north = case_of(svc, "1"), case_of(svc, "3")
    svc.desk.act(CaseAction(north, "claim", "ann", "cli"))  # answered in time: no reminder
    assert svc.sla.sweep(utcnow() + timedelta(minutes=29)) == 0
    assert svc.sla.sweep(utcnow() + timedelta(minutes=31)) == 1
    [(channel, text)] = RecordingSink.notices["rec"]
    assert text.startswith("No response yet: this complaint has waited 31 min, past the support SLA of 30 min")
    assert text.endswith("escalated to escalation.")
    svc.delivery.kick()
    assert [a.external_id for a in RecordingSink.sent["rec2"]] == ["1"]  # the escalation alert
    assert svc.sla.sweep(utcnow() + timedelta(hours=3)) == 0  # never one reminder per sweep
    svc.close()
    restarted = MonitorService(build_config(tmp_path, db_url, alerts=SLA_ALERTS))
    assert restarted.sla.sweep(utcnow() + timedelta(hours=3)) == 0  # nor after a restart
    restarted.delivery.kick()
    assert RecordingSink.sent["rec2"] == []  # the escalation is not sent again either
    assert [e["action"] for e in restarted.store.cases.history(pixel)] == ["sla_reminder"]
    restarted.close()


def test_a_reopened_case_was_answered_once_so_its_sla_does_not_remind(tmp_path, db_url):
    from datetime import timedelta

    from monitor.clock import utcnow

    svc = service(tmp_path, db_url, alerts=SLA_ALERTS)
    pixel, north = case_of(svc, "1"), case_of(svc, "3")
    svc.desk.act(CaseAction(pixel, "resolve", "ann", "cli"))
    svc.desk.act(CaseAction(pixel, "reopen", "bob", "cli"))  # open again, but the first response was made
    assert svc.store.cases.get(pixel).status == "open"
    assert svc.sla.sweep(utcnow() + timedelta(minutes=31)) == 1  # north only: nobody ever answered it
    assert [e["action"] for e in svc.store.cases.history(north)] == ["sla_reminder"]
    assert "sla_reminder" not in [e["action"] for e in svc.store.cases.history(pixel)]
    svc.close()


def test_an_escalation_to_an_unknown_route_is_a_config_error(tmp_path):
    from monitor.config import ConfigError

    alerts = {"sinks": {"rec": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec", "sla": {"first_response": "30m", "escalate_to": "boss"}}]}
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, alerts=alerts)
    assert info.value.problems == ["alerts.routes[0].sla.escalate_to: no other route named 'boss'"]


# -- the brand's public answer ---------------------------------------------------------------------------------

def test_the_brands_public_reply_is_the_first_response(tmp_path, db_url, caplog):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    shown = []
    svc.sinks["rec"].show_case = lambda alert: shown.append(alert.case)
    write_jsonl(tmp_path / "feed.jsonl", [
        # The brand's help account answers, without naming the brand: still recognised by its own account.
        {"id": "r1", "text": "@ann so sorry, we've sent you a DM", "author": "@PixelCart", "in_reply_to": "1",
         "url": "https://social.example/pixelcart/status/r1"},
        {"id": "r2", "text": "@cy have you tried turning it off", "author": "pixelcart", "in_reply_to": "404"}])
    [result] = svc.run_once()
    assert result.stored == 0 and result.drop_reasons == {"a public reply by the brand": 2}
    case = svc.store.cases.get(ident)
    assert (case.status, case.claimed_by, case.first_response_by) == ("claimed", "@PixelCart", "@PixelCart")
    assert case.public_reply_url == "https://social.example/pixelcart/status/r1" and case.first_response_at
    assert [s.public_reply_url for s in shown] == [case.public_reply_url]  # the alert message shows it
    assert [(e["action"], e["origin"]) for e in svc.store.cases.history(ident)] == [("answer", "auto")]
    assert [a.external_id for a in RecordingSink.sent["rec"]] == ["1", "3"]  # the replies never alert
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "r3", "text": "@ann any news?", "author": "pixelcart",
                                           "in_reply_to": "1"}])
    svc.run_once()
    assert svc.store.cases.get(ident).first_response_at == case.first_response_at  # the first one stays first
    svc.close()


def test_a_public_reply_to_a_claimed_case_keeps_its_agent(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    ident = case_of(svc, "1")
    svc.desk.act(CaseAction(ident, "resolve", "ann", "cli"))
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "r1", "text": "@ann done!", "author": "pixelcart",
                                           "in_reply_to": "1"}])
    svc.run_once()
    case = svc.store.cases.get(ident)
    assert (case.status, case.first_response_by, case.public_reply_url) == ("resolved", "ann", None)
    svc.close()


def test_two_instances_sweeping_at_once_send_one_reminder(tmp_path, db_url):
    from datetime import timedelta

    from monitor.cases.sla import SlaWatch
    from monitor.clock import utcnow

    svc = service(tmp_path, db_url, alerts=SLA_ALERTS)
    [(outbox_id, _, _)] = [row for row in svc.store.outbox.awaiting_reminder(["support"])
                           if svc.store.outbox.alert(row[0]).external_id == "1"]
    other = Store(db_url)
    assert svc.store.outbox.claim_reminder(outbox_id) and not other.outbox.claim_reminder(outbox_id)
    svc.store.outbox.release_reminder(outbox_id)
    watches = [svc.sla, SlaWatch(svc.config.routes(), other.cases, other.outbox, svc.sinks)]
    later, barrier, sent = utcnow() + timedelta(hours=1), threading.Barrier(2), []

    def sweep(watch):
        barrier.wait()
        sent.append(watch.sweep(later))

    threads = [threading.Thread(target=sweep, args=(w,)) for w in watches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(sent) == 2 and len(RecordingSink.notices["rec"]) == 2  # cases 1 and 3: once each, not twice
    other.close()
    svc.close()


def _sample(text: str, series: str) -> float:
    """The value of one series in a Prometheus text exposition (0 when it has not appeared yet)."""
    found = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(series + " ")]
    return float(found[0]) if found else 0.0


def test_case_metrics(tmp_path, db_url):
    import urllib.request

    svc = service(tmp_path, db_url, service={"http": {"enabled": True, "port": 0}})
    server = svc.start_ops_server()

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
            return response.read().decode()

    changed = 'monitor_case_actions_total{action="claim",origin="cli",result="changed"}'
    refused = 'monitor_case_actions_total{action="claim",origin="cli",result="refused"}'
    first = "monitor_case_first_response_seconds_count"
    try:
        # The counters are process-wide and other tests move them too: what counts is how far these moved.
        before = scrape()
        svc.desk.act(CaseAction(case_of(svc, "1"), "claim", "ann", "cli"))
        svc.desk.act(CaseAction(case_of(svc, "1"), "claim", "bob", "cli"))
        text = scrape()
        assert 'monitor_cases{status="claimed"} 1.0' in text and 'monitor_cases{status="open"} 1.0' in text
        assert _sample(text, changed) - _sample(before, changed) == 1
        assert _sample(text, refused) - _sample(before, refused) == 1
        assert _sample(text, first) - _sample(before, first) == 1  # the refused claim was no response
    finally:
        server.stop()
        svc.close()
