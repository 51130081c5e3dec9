"""Outbox delivery: retries with backoff, dead letters, retry command, one bad sink never blocks another."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.clock import utcnow
from monitor.config import DeliveryConfig
from monitor.delivery.outbox import OutboxDelivery
from monitor.service import MonitorService
from monitor.store.schema import outbox
from tests.support import RecordingSink, build_config, write_jsonl

COMPLAINTS = [{"id": str(i), "text": f"pixelcart order {i} still not delivered", "author": f"u{i}",
               "url": f"https://example.com/p/{i}"} for i in range(3)]


def service(tmp_path, db_url, failures, max_attempts=3):
    write_jsonl(tmp_path / "feed.jsonl", COMPLAINTS)
    config = build_config(tmp_path, db_url,
                          alerts={"sinks": {"rec": {"type": "test-recording", "failures": failures}}},
                          delivery={"backoff_base": "1s", "max_attempts": max_attempts, "claim_timeout": "0s"})
    svc = MonitorService(config)
    svc.prepare()
    return svc


def sweep_later(svc, seconds=3600):
    """Runs a sweep as if the backoff had passed."""
    return svc.delivery.deliver_due(now=utcnow() + timedelta(seconds=seconds))


def test_transient_failure_is_retried_then_delivered_once(tmp_path, db_url):
    svc = service(tmp_path, db_url, ["retry"])
    svc.run_once()
    # The first send failed and blocked the sink for the rest of that sweep.
    assert RecordingSink.sent["rec"] == []
    assert svc.store.stats.summary()["outbox"] == {"pending": 3, "sending": 0, "delivered": 0, "folded": 0,
                                                   "dead": 0, "cancelled": 0}
    assert svc.delivery.deliver_due() == (2, 0)  # the others go; the failed one waits out its backoff
    assert svc.delivery.deliver_due() == (0, 0)
    assert sweep_later(svc) == (1, 0)
    assert sorted(a.external_id for a in RecordingSink.sent["rec"]) == ["0", "1", "2"]
    assert sweep_later(svc) == (0, 0)  # exactly once
    first = next(a for a in RecordingSink.sent["rec"] if a.external_id == "0")
    assert first.attempt == 2
    svc.close()


@pytest.mark.parametrize("outcome, failures, max_attempts, dead_count", [
    # A permanent error dead-letters the first alert at once; the other two go on later sweeps.
    ("permanent", ["permanent"], 3, 1),
    # A sink that crashes on every send, with one attempt allowed: each alert dead-letters on its own sweep.
    ("crash", ["crash", "crash", "crash"], 1, 3),
])
def test_permanent_errors_dead_letter_and_retry_command_revives(tmp_path, db_url, outcome, failures, max_attempts,
                                                                dead_count):
    svc = service(tmp_path, db_url, failures, max_attempts=max_attempts)
    svc.run_once()
    for _ in range(3):
        sweep_later(svc)
    dead = svc.store.outbox.dead_alerts()
    assert len(dead) == dead_count
    assert all(("channel_not_found" if outcome == "permanent" else "RuntimeError: bug in the sink") in d["last_error"]
               for d in dead)
    assert len(RecordingSink.sent["rec"]) == 3 - dead_count
    assert svc.store.outbox.retry_dead([dead[0]["id"]]) == [dead[0]["id"]]
    assert svc.delivery.deliver_due() == (1, 0)  # the revived one, with its attempts started afresh
    assert len(RecordingSink.sent["rec"]) == 4 - dead_count
    revived = RecordingSink.sent["rec"][-1]
    assert revived.outbox_id == dead[0]["id"] and revived.attempt == 1
    assert svc.store.stats.summary()["outbox"]["dead"] == dead_count - 1
    svc.close()


def test_max_attempts_dead_letters(tmp_path, db_url):
    svc = service(tmp_path, db_url, ["retry"] * 10, max_attempts=2)
    svc.run_once()  # alert 0: attempt 1 fails; the sink is skipped for the rest of the sweep
    sweep_later(svc)  # alert 0: attempt 2 fails, the last allowed; alerts 1 and 2 wait again
    sweep_later(svc)  # alert 1: attempt 1 fails
    stats = svc.store.stats.summary()["outbox"]
    assert (stats["dead"], stats["pending"], stats["delivered"], stats["sending"]) == (1, 2, 0, 0)
    [dead] = svc.store.outbox.dead_alerts()
    assert dead["attempts"] == 2 and "503 from the sink" in dead["last_error"]
    svc.close()


def test_retry_after_is_honoured(tmp_path, db_url):
    svc = service(tmp_path, db_url, ["retry-after"])
    svc.run_once()
    # retry_after=0 from the sink: due again at once, delivered on the next sweep.
    assert svc.delivery.deliver_due() == (3, 0)
    svc.close()


def test_backoff_doubles_with_jitter_and_is_capped():
    delivery = OutboxDelivery(outbox=None, bursts=None, sinks={}, config=DeliveryConfig(backoff_base=2, backoff_max=60))
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (10, 60)]:
        delays = [delivery.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        # Spread over the whole upper half: the chance that 200 uniform draws all miss its top tenth is 1e-20.
        assert min(delays) < ceiling * 0.6 and max(delays) > ceiling * 0.9
    assert delivery.backoff(5, retry_after=7) == 7


def sends(sink: str, result: str) -> float:
    from monitor.ops.metrics import REGISTRY

    return REGISTRY.get_sample_value("monitor_alert_sends_total", {"sink": sink, "result": result}) or 0.0


def test_alerts_for_a_sink_removed_from_the_config_dead_letter_without_blocking_others(tmp_path, db_url, caplog):
    two_routes = {"sinks": {"rec": {"type": "test-recording"}, "old": {"type": "test-recording"}},
                  "routes": [{"name": "support", "sink": "rec"}, {"name": "legacy", "sink": "old"}]}
    write_jsonl(tmp_path / "feed.jsonl", COMPLAINTS)
    before = MonitorService(build_config(tmp_path, db_url, alerts=two_routes))
    before.prepare()
    before.pipeline.poll(before.connectors["feed"])  # stored with an alert per route, none sent yet
    before.close()
    # Restarted with the "old" sink and its route gone while its alerts were still pending.
    after = MonitorService(build_config(tmp_path, db_url, alerts={"sinks": {"rec": {"type": "test-recording"}}}))
    after.prepare()
    retries, deaths = sends("old", "retry"), sends("old", "dead")
    assert after.delivery.deliver_due() == (3, 3)
    assert sends("old", "retry") - retries == 3
    with after.store.db.engine.connect() as conn:
        waiting = conn.execute(sa.select(outbox.c.route, outbox.c.last_error, outbox.c.attempts)
                               .where(outbox.c.status == "pending")).all()
    assert [(route, attempts) for route, _, attempts in waiting] == [("legacy", 1)] * 3
    assert all(error == "sink 'old' is not configured or disabled" for _, error, _ in waiting)
    retry_logged = r"alert \d+ to legacy failed \(attempt 1\), retry in [01]s: sink 'old' is not configured or disabled"
    assert sum(bool(re.fullmatch(retry_logged, m)) for m in caplog.messages) == 3
    assert sorted(a.external_id for a in RecordingSink.sent["rec"]) == ["0", "1", "2"]
    # Never stuck in "sending": retried with backoff (the sink may be configured again), then dead-lettered.
    assert after.store.stats.summary()["outbox"] == {"pending": 3, "sending": 0, "delivered": 3, "folded": 0,
                                                     "dead": 0, "cancelled": 0}
    # An hour on, one sweep makes attempts 2 and 3 (each backoff is seconds); max_attempts is 3.
    assert sweep_later(after) == (0, 6)
    assert after.store.stats.summary()["outbox"] == {"pending": 0, "sending": 0, "delivered": 3, "folded": 0,
                                                     "dead": 3, "cancelled": 0}
    dead = after.store.outbox.dead_alerts()
    assert [d["route"] for d in dead] == ["legacy"] * 3 and all(d["attempts"] == 3 for d in dead)
    assert [d["id"] for d in dead] == sorted(d["id"] for d in dead)  # oldest first, as `alerts dead` lists them
    assert [(d["brand"], d["url"]) for d in dead] == [("Pixelcart", f"https://example.com/p/{i}") for i in range(3)]
    assert len(after.store.outbox.dead_alerts(limit=2)) == 2
    assert all("sink 'old' is not configured" in d["last_error"] for d in dead)
    assert sends("old", "dead") - deaths == 3 and sends("old", "retry") - retries == 6
    dead_logged = r"alert \d+ to legacy dead-lettered after 3 attempt\(s\): sink 'old' is not configured or disabled"
    assert sum(bool(re.fullmatch(dead_logged, m)) for m in caplog.messages) == 3
    after.close()


def test_concurrent_kicks_coalesce(tmp_path, db_url):
    import threading

    svc = service(tmp_path, db_url, [])
    svc.pipeline.poll(svc.connectors["feed"])
    threads = [threading.Thread(target=svc.delivery.kick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.external_id for a in RecordingSink.sent["rec"]) == ["0", "1", "2"]
    svc.close()


def test_crash_mid_send_is_recovered_without_duplicate_when_the_sink_can_tell(tmp_path, db_url):
    svc = service(tmp_path, db_url, [])
    svc.pipeline.poll(svc.connectors["feed"])
    # A previous process claimed two alerts and died: the sink has the first, not the second.
    first, second = svc.store.outbox.claim_next("dead"), svc.store.outbox.claim_next("dead")
    svc.sinks["rec"].find_delivered = lambda alert, claimed_at: "ts-1" if alert.outbox_id == first.outbox_id else None
    fresh = OutboxDelivery(
        svc.store.outbox, svc.store.bursts, svc.sinks, svc.config.root.delivery
    )  # the restarted process
    assert fresh.deliver_due() == (2, 0)
    sent = [a.outbox_id for a in RecordingSink.sent["rec"]]
    assert first.outbox_id not in sent and second.outbox_id in sent and len(sent) == 2
    assert svc.store.stats.summary()["outbox"]["delivered"] == 3
    svc.close()


def test_burst_becomes_one_spike_with_threaded_replies(tmp_path, db_url):
    posts = [{"id": f"b{i}", "text": f"pixelcart is down, checkout error {i}", "author": f"u{i}", "followers": i * 10}
             for i in range(40)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    config = build_config(tmp_path, db_url, delivery={"burst_threshold": 5, "burst_window": "10m"})
    svc = MonitorService(config)
    svc.prepare()
    svc.run_once()
    sent = RecordingSink.sent["rec"]
    [(channel, spike)] = RecordingSink.notices["rec"]
    assert "Spike: 40 complaints about Pixelcart" in spike and "outage" in spike
    # The thread carries the 20 highest priorities (reach: b39 down to b20); the other 20 are folded into it.
    assert sorted(int(a.external_id[1:]) for a in sent) == list(range(20, 40))
    assert all(a.thread_ref == "notice" for a in sent)
    assert svc.store.stats.summary()["outbox"]["folded"] == 20
    # A later complaint inside the window joins the same burst: no second spike, and the full thread folds it.
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "late", "text": "pixelcart still down"}])
    svc.run_once()
    assert len(RecordingSink.notices["rec"]) == 1 and len(RecordingSink.sent["rec"]) == 20
    assert svc.store.stats.summary()["outbox"]["folded"] == 21
    assert svc.store.bursts.spike(1)["complaints"] == 41  # the live count on the spike includes folded ones
    svc.close()


def test_spike_message_shows_the_growing_burst_at_most_once_a_minute(tmp_path, db_url, monkeypatch):
    import monitor.delivery.bursts as grouping

    clock = [1000.0]
    monkeypatch.setattr(grouping.time, "monotonic", lambda: clock[0])
    write_jsonl(tmp_path / "feed.jsonl", [{"id": f"b{i}", "text": f"pixelcart is down, checkout error {i}"}
                                          for i in range(12)])
    svc = MonitorService(build_config(tmp_path, db_url, delivery={"burst_threshold": 5, "burst_window": "10m"}))
    svc.prepare()
    svc.run_once()
    assert RecordingSink.spikes_shown["rec"] == []  # just posted with the count: nothing to edit yet
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "m1", "text": "pixelcart still down for me"}])
    clock[0] += 30
    svc.run_once()
    assert RecordingSink.spikes_shown["rec"] == []  # grew, but the last edit was 30 s ago
    clock[0] += 31
    svc.delivery.deliver_due()
    [shown] = RecordingSink.spikes_shown["rec"]
    assert shown.complaints == 13 and shown.message_ref == "notice" and shown.brand == "Pixelcart"
    assert shown.top_topics and shown.top_topics[0][0] == "outage"
    clock[0] += 120
    svc.delivery.deliver_due()
    assert len(RecordingSink.spikes_shown["rec"]) == 1  # nothing new: no edit
    svc.close()


def test_below_threshold_no_burst(tmp_path, db_url):
    svc = service(tmp_path, db_url, [])
    svc.run_once()
    assert RecordingSink.notices.get("rec", []) == [] and all(a.thread_ref is None for a in RecordingSink.sent["rec"])
    svc.close()
