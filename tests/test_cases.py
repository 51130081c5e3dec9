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
    assert act(CaseAction(999999, "claim", "ann", "cli")).message == "there is no case 999999"
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
