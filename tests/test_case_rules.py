"""What a case's life means: every action from every state (allowed or refused, and why), what reopening
undoes, which response counts as the first one and whose reply counts at all; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from monitor import clock
from monitor.model import CaseAction, LabelAction
from monitor.service import MonitorService
from tests.support import RecordingSink, build_config, write_jsonl

POSTS = [
    {"id": "1", "text": "@pixelcart still no refund after 3 weeks", "author": "ann"},
    {"id": "3", "text": "northwind lost my bag and nobody answers", "author": "cy"},
]

# (state the case is in, action) -> the state it moves to, or the refusal the agent reads. "ann" put the case
# in its state. Written out in full, not derived from the table in monitor/cases/machine.py.
OUTCOMES = {
    ("open", "claim"): "claimed",
    ("open", "resolve"): "resolved",
    ("open", "dismiss"): "dismissed",
    ("open", "reopen"): "refused: already open",
    ("claimed", "claim"): "refused: already claimed by ann",
    ("claimed", "resolve"): "resolved",
    ("claimed", "dismiss"): "dismissed",
    ("claimed", "reopen"): "refused: it is claimed by ann; reopen applies to resolved or dismissed cases",
    ("resolved", "claim"): "refused: it is resolved by ann; claim applies to open cases",
    ("resolved", "resolve"): "refused: already resolved by ann",
    ("resolved", "dismiss"): "refused: it is resolved by ann; dismiss applies to open or claimed cases",
    ("resolved", "reopen"): "open",
    ("dismissed", "claim"): "refused: it is dismissed by ann; claim applies to open cases",
    ("dismissed", "resolve"): "refused: it is dismissed by ann; resolve applies to open or claimed cases",
    ("dismissed", "dismiss"): "refused: already dismissed by ann",
    ("dismissed", "reopen"): "open",
}
# How to bring a fresh (open) case into each state.
ROUTE_TO = {"open": [], "claimed": ["claim"], "resolved": ["resolve"], "dismissed": ["dismiss"]}


@pytest.fixture
def frozen(clock_at):
    """A frozen clock: each step below moves it on, so a timestamp that is overwritten shows."""
    return clock_at(clock.SYSTEM.utcnow().replace(microsecond=0))


def service(tmp_path, db_url, posts=POSTS, **sections):
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url, **sections))
    svc.prepare()
    svc.run_once()
    return svc


def case_of(external_id: str) -> int:
    [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == external_id]
    return alert.case.id


@pytest.mark.parametrize("state, action", list(OUTCOMES), ids=[f"{s}-{a}" for s, a in OUTCOMES])
def test_every_action_from_every_state(tmp_path, db_url, frozen, state, action):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    for step in ROUTE_TO[state]:
        assert svc.desk.act(CaseAction(ident, step, "ann", "cli")).changed
    frozen.advance(minutes=5)
    before, events = svc.store.cases.get(ident), len(svc.store.cases.history(ident))
    labels = len(svc.store.cases.labels_of(before.mention_id))
    result = svc.desk.act(CaseAction(ident, action, "bob", "slack"))
    expected = OUTCOMES[(state, action)]
    after = svc.store.cases.get(ident)
    if expected.startswith("refused: "):
        assert not result.changed
        assert result.message == f"case {ident} was not changed: {expected.removeprefix('refused: ')}"
        assert after == before  # not one field moved
        assert len(svc.store.cases.history(ident)) == events
        assert len(svc.store.cases.labels_of(before.mention_id)) == labels
    else:
        assert result.changed and after.status == expected
        assert svc.store.cases.history(ident)[-1]["to_status"] == expected
    svc.close()


def test_reopening_clears_who_closed_it_and_when(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    for closing in ("resolve", "dismiss"):
        frozen.advance(minutes=10)
        closed = svc.desk.act(CaseAction(ident, closing, "ann", "cli")).case
        assert (closed.closed_by, closed.closed_at) == ("ann", frozen.utcnow())
        frozen.advance(minutes=10)
        reopened = svc.desk.act(CaseAction(ident, "reopen", "bob", "cli")).case
        assert reopened.status == "open"
        assert (reopened.closed_by, reopened.closed_at, reopened.claimed_by, reopened.claimed_at) == \
            (None, None, None, None)
    svc.close()


def test_the_first_response_is_set_once_whatever_comes_after(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    opened = svc.store.cases.get(ident).opened_at
    frozen.advance(minutes=7)
    svc.desk.act(CaseAction(ident, "claim", "ann", "cli"))
    first = (opened + timedelta(minutes=7), "ann")
    for later in (["resolve", "bob"], ["reopen", "cy"], ["dismiss", "dee"], ["reopen", "cy"], ["claim", "eve"]):
        frozen.advance(minutes=3)
        case = svc.desk.act(CaseAction(ident, later[0], later[1], "cli")).case
        assert (case.first_response_at, case.first_response_by) == first
    frozen.advance(minutes=3)
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "r1", "text": "@ann sorted, sorry!", "author": "pixelcart",
                                           "in_reply_to": "1", "url": "https://social.example/r1"}])
    svc.run_once()  # a public reply after the claim is not the first response either
    case = svc.store.cases.get(ident)
    assert (case.first_response_at, case.first_response_by, case.public_reply_url) == (*first, None)
    svc.close()


def test_a_public_reply_is_the_first_response_once(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    opened = svc.store.cases.get(ident).opened_at
    replies = [{"id": "r1", "text": "@ann on it", "author": "pixelcart", "in_reply_to": "1",
                "created_at": (opened + timedelta(minutes=4)).isoformat(), "url": "https://social.example/r1"},
               {"id": "r2", "text": "@ann refunded now", "author": "pixelcart", "in_reply_to": "1",
                "created_at": (opened + timedelta(minutes=9)).isoformat(), "url": "https://social.example/r2"}]
    for reply in replies:
        frozen.advance(minutes=5)
        write_jsonl(tmp_path / "feed.jsonl", [reply])
        svc.run_once()
    case = svc.store.cases.get(ident)
    assert (case.first_response_at, case.first_response_by) == (opened + timedelta(minutes=4), "@pixelcart")
    assert case.public_reply_url == "https://social.example/r1"
    assert [e["action"] for e in svc.store.cases.history(ident)] == ["answer"]
    svc.close()


def test_another_brands_account_answering_is_not_this_brands_response(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    pixel, north = case_of("1"), case_of("3")
    frozen.advance(minutes=5)
    write_jsonl(tmp_path / "feed.jsonl", [
        # Northwind's account chimes in under Pixelcart's complaint: Pixelcart has still not answered.
        {"id": "r1", "text": "@ann we fly you home if they don't", "author": "northwindair", "in_reply_to": "1"},
        {"id": "r2", "text": "@cy found it, on its way", "author": "northwindair", "in_reply_to": "3"}])
    svc.run_once()
    assert svc.store.cases.get(pixel).first_response_at is None
    assert svc.store.cases.get(pixel).status == "open"
    assert svc.store.cases.get(north).first_response_by == "@northwindair"
    svc.close()


def test_a_reply_answers_the_post_of_its_own_source_only(tmp_path, db_url, frozen):
    """Post ids repeat across networks: a reply to "1" on one source is no answer to "1" on another."""
    write_jsonl(tmp_path / "other.jsonl", [])
    sources = {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")},
               "other": {"type": "file", "path": str(tmp_path / "other.jsonl")}}
    svc = service(tmp_path, db_url, sources=sources)
    ident = case_of("1")
    frozen.advance(minutes=5)
    write_jsonl(tmp_path / "feed.jsonl", [])
    write_jsonl(tmp_path / "other.jsonl", [{"id": "r1", "text": "@someone thanks!", "author": "pixelcart",
                                            "in_reply_to": "1"}])
    svc.run_once()
    assert svc.store.cases.get(ident).first_response_at is None
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "r2", "text": "@ann sorry, DM us", "author": "pixelcart",
                                           "in_reply_to": "1"}])
    svc.run_once()
    assert svc.store.cases.get(ident).first_response_by == "@pixelcart"
    svc.close()


def counted(action: str, origin: str, result: str) -> float:
    from monitor.ops import metrics

    value = metrics.REGISTRY.get_sample_value("monitor_case_actions_total",
                                              {"action": action, "origin": origin, "result": result})
    return value or 0.0


@pytest.mark.parametrize("is_complaint, action, verdict", [(True, "label_complaint", "a complaint"),
                                                           (False, "label_not", "not a complaint")])
def test_a_label_from_a_button_is_recorded_counted_and_thanked(tmp_path, db_url, is_complaint, action, verdict):
    svc = service(tmp_path, db_url)
    [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == "1"]
    before = {r: counted(action, "slack", r) for r in ("changed", "refused", "error")}
    result = svc.desk.act(LabelAction(alert.mention_id, is_complaint, "ann", "slack"))
    assert result.changed
    assert result.message == (f"Thanks: post {alert.mention_id} is labelled {verdict}; the detector learns from it "
                              "at its next training")
    assert [(lb["is_complaint"], lb["actor"], lb["origin"]) for lb in svc.store.cases.labels_of(alert.mention_id)] \
        == [(is_complaint, "ann", "slack")]
    moved = {r: counted(action, "slack", r) - before[r] for r in before}
    assert moved == {"changed": 1, "refused": 0, "error": 0}
    svc.close()


def test_a_label_for_a_post_that_is_not_stored_is_refused_and_counted(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    before = counted("label_not", "cli", "refused")
    result = svc.desk.act(LabelAction(987654, False, "ann", "cli"))
    assert (result.changed, result.message) == (False, "there is no stored post 987654")
    assert counted("label_not", "cli", "refused") - before == 1
    svc.close()


AWAY = "the monitor could not record that (its database did not answer); try again"


@pytest.mark.parametrize("request_of, action, message", [
    (lambda ident, mention: CaseAction(ident, "claim", "ann", "slack"), "claim", AWAY + " in a moment"),
    (lambda ident, mention: LabelAction(mention, True, "ann", "slack"), "label_complaint", AWAY),
])
def test_a_database_that_went_away_is_an_answer_and_an_error_count(tmp_path, db_url, caplog, request_of, action,
                                                                   message):
    import sqlalchemy as sa

    svc = service(tmp_path, db_url)
    [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == "1"]
    svc.store.db.engine.dispose()
    svc.store.db.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=1")
    before = counted(action, "slack", "error")
    with caplog.at_level("ERROR", logger="monitor.cases.desk"):
        result = svc.desk.act(request_of(alert.case.id, alert.mention_id))
    assert (result.changed, result.message) == (False, message)
    assert counted(action, "slack", "error") - before == 1
    [record] = [r for r in caplog.records if r.name == "monitor.cases.desk"]
    who = f"case {alert.case.id}: claim by ann" if action == "claim" else f"label of post {alert.mention_id} by ann"
    assert record.getMessage().startswith(f"{who} failed: ") and "127.0.0.1" in record.getMessage()
    svc.close()


@pytest.mark.parametrize("action, origin", [("explode", "slack"), ("claim", "carrier-pigeon")])
def test_an_unknown_action_or_origin_is_refused_and_counted_as_unknown(tmp_path, db_url, action, origin):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    counted_as = "unknown" if action == "explode" else action
    before = counted(counted_as, origin, "refused")
    result = svc.desk.act(CaseAction(ident, action, "ann", origin))
    assert (result.changed, result.message) == (False, f"unknown action {action!r}")
    assert svc.store.cases.get(ident).status == "open" and svc.store.cases.history(ident) == []
    assert counted(counted_as, origin, "refused") - before == 1
    svc.close()


def _case_events(caplog) -> list[tuple]:
    return [(r.getMessage(), r.event, r.case, r.action, r.actor, r.origin) for r in caplog.records
            if getattr(r, "event", None) == "case"]


def test_each_change_is_one_structured_log_event(tmp_path, db_url, caplog):
    svc = service(tmp_path, db_url)
    ident = case_of("1")
    with caplog.at_level("INFO", logger="monitor.cases.desk"):
        svc.desk.act(CaseAction(ident, "claim", "ann", "slack"))
        svc.desk.act(CaseAction(ident, "claim", "bob", "slack"))  # refused: no event
        write_jsonl(tmp_path / "feed.jsonl", [{"id": "r1", "text": "@cy found it", "author": "northwindair",
                                               "in_reply_to": "3"}])
        svc.run_once()
    north = case_of("3")
    assert _case_events(caplog) == [
        (f"case {ident} claimed by ann (slack)", "case", ident, "claim", "ann", "slack"),
        (f"case {north} answered publicly by @northwindair", "case", north, "answer", "@northwindair", "auto")]
    svc.close()


def test_a_failed_action_is_logged_with_the_case_the_action_and_who(tmp_path, db_url, caplog):
    import sqlalchemy as sa

    svc = service(tmp_path, db_url)
    ident = case_of("1")
    svc.store.db.engine.dispose()
    svc.store.db.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/x?connect_timeout=1")
    with caplog.at_level("ERROR", logger="monitor.cases.desk"):
        svc.desk.act(CaseAction(ident, "resolve", "ann", "slack"))
    [record] = [r for r in caplog.records if r.name == "monitor.cases.desk"]
    assert record.getMessage().startswith(f"case {ident}: resolve by ann failed: ")
    assert "127.0.0.1" in record.getMessage()  # the cause is kept for the operator
    svc.close()


def _first_response_histogram() -> tuple[float, float]:
    from monitor.ops import metrics

    get = metrics.REGISTRY.get_sample_value
    return (get("monitor_case_first_response_seconds_count") or 0.0,
            get("monitor_case_first_response_seconds_sum") or 0.0)


def test_the_first_response_time_is_measured_once_and_exactly(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    pixel = case_of("1")
    opened = svc.store.cases.get(pixel).opened_at
    count, total = _first_response_histogram()
    frozen.advance(minutes=4)
    svc.desk.act(CaseAction(pixel, "claim", "ann", "cli"))
    svc.desk.act(CaseAction(pixel, "resolve", "ann", "cli"))  # not a first response: not measured again
    # A public reply dated before the case opened (clocks differ between networks) counts as an instant answer.
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "r1", "text": "@cy found it", "author": "northwindair",
                                           "in_reply_to": "3", "created_at": (opened - timedelta(minutes=1))
                                           .isoformat()}])
    svc.run_once()
    assert _first_response_histogram() == (count + 2, total + 4 * 60)
    svc.close()


def test_a_claim_at_the_instant_the_case_opened_measures_zero(tmp_path, db_url, frozen):
    svc = service(tmp_path, db_url)
    count, total = _first_response_histogram()
    svc.desk.act(CaseAction(case_of("1"), "claim", "ann", "cli"))  # the frozen clock has not moved
    assert _first_response_histogram() == (count + 1, total)
    svc.close()


def test_dismissing_a_spike_dismisses_the_thread_nobody_claimed(tmp_path, db_url):
    posts = [{"id": f"b{i}", "text": f"pixelcart is down, checkout error {i}", "author": f"u{i}"} for i in range(8)]
    svc = service(tmp_path, db_url, posts=posts, delivery={"burst_threshold": 5, "burst_window": "10m"})
    [spike] = [r for r in svc.store.cases.find() if r["burst_id"]]
    claimed = case_of("b3")
    svc.desk.act(CaseAction(claimed, "claim", "bob", "slack"))
    assert svc.desk.act(CaseAction(spike["id"], "dismiss", "ann", "slack")).changed
    statuses = {r["id"]: r["status"] for r in svc.store.cases.find() if r["mention_id"]}
    assert statuses.pop(claimed) == "claimed"  # bob's stays his
    assert set(statuses.values()) == {"dismissed"} and len(statuses) == 7
    svc.close()


def test_a_spike_case_shows_on_the_spike_and_a_desk_without_bursts_still_works(tmp_path, db_url):
    from monitor.cases.desk import CaseDesk

    posts = [{"id": f"b{i}", "text": f"pixelcart is down, checkout error {i}", "author": f"u{i}"} for i in range(8)]
    svc = service(tmp_path, db_url, posts=posts, delivery={"burst_threshold": 5, "burst_window": "10m"})
    [spike] = [r for r in svc.store.cases.find() if r["burst_id"]]
    result = svc.desk.act(CaseAction(spike["id"], "claim", "ann", "slack"))
    assert result.changed
    [shown] = RecordingSink.spikes_shown["rec"]
    assert (shown.case.id, shown.case.status, shown.message_ref) == (spike["id"], "claimed", "notice")
    bare = CaseDesk(svc.store.cases, svc.store.outbox, svc.sinks)  # knows no bursts: cannot show the spike
    assert bare.act(CaseAction(spike["id"], "resolve", "ann", "cli")).changed
    assert len(RecordingSink.spikes_shown["rec"]) == 1
    svc.close()


def test_every_message_of_a_case_is_shown_even_when_one_sink_is_gone(tmp_path, db_url):
    alerts = {"sinks": {"rec": {"type": "test-recording"}, "rec2": {"type": "test-recording"}},
              "routes": [{"name": "support", "sink": "rec"}, {"name": "copy", "sink": "rec2"}]}
    svc = service(tmp_path, db_url, alerts=alerts)
    ident = case_of("1")
    shown = []
    svc.sinks["rec2"].show_case = lambda alert: shown.append(alert.case.status)
    del svc.sinks["rec"]  # the first message's sink was removed from the config since
    assert svc.desk.act(CaseAction(ident, "claim", "ann", "cli")).changed
    assert shown == ["claimed"]
    svc.close()


def test_a_spike_not_posted_yet_is_not_edited(tmp_path, db_url):
    import sqlalchemy as sa

    from monitor.store.schema import bursts

    posts = [{"id": f"b{i}", "text": f"pixelcart is down, checkout error {i}", "author": f"u{i}"} for i in range(8)]
    svc = service(tmp_path, db_url, posts=posts, delivery={"burst_threshold": 5, "burst_window": "10m"})
    [spike] = [r for r in svc.store.cases.find() if r["burst_id"]]
    with svc.store.db.engine.begin() as conn:
        conn.execute(sa.update(bursts).values(message_ref=None))
    assert svc.desk.act(CaseAction(spike["id"], "claim", "ann", "slack")).changed
    assert RecordingSink.spikes_shown["rec"] == []  # no message to edit
    svc.close()
