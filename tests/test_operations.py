"""Operations: health and metrics endpoint, JSON logs, migrations from every revision, leases and claims
shared by several instances on one database."""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.clock import utcnow
from monitor.ops.logs import JsonLineFormatter
from monitor.ops.redact import RedactingFilter, redactor
from monitor.service import MonitorService
from monitor.store import Store
from tests.support import RecordingSink, build_config, write_jsonl


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_health_ready_and_metrics(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "pixelcart charged me twice", "author": "a"},
                                          {"id": "2", "text": "pixelcart is lovely", "author": "b"}])
    svc = MonitorService(build_config(tmp_path, db_url, service={"http": {"enabled": True, "port": 0}},
                                      sources={"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"),
                                                        "monthly_post_budget": 500}}))
    svc.prepare()
    ops = svc.start_ops_server()
    base = f"http://127.0.0.1:{ops.port}"
    try:
        assert get(base + "/healthz") == (200, "ok\n")
        assert get(base + "/readyz")[0] == 503  # the scheduler is not running in this test
        svc.run_once()
        status, text = get(base + "/metrics")
        assert status == 200
        assert 'monitor_mentions_ingested_total{brand="Pixelcart",source="feed"}' in text
        assert 'monitor_complaints_total{brand="Pixelcart",source="feed"}' in text
        assert 'monitor_outbox_alerts{status="delivered"} 1.0' in text
        assert 'monitor_source_last_success_timestamp_seconds{source="feed"}' in text
        assert 'monitor_source_monthly_post_budget{source="feed"} 500.0' in text
        assert "monitor_alert_delivery_seconds_bucket" in text
        assert get(base + "/nope")[0] == 404
        svc.store.db.engine.dispose()
        svc.store.db.engine = sa.create_engine("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/x?connect_timeout=1")
        status, body = get(base + "/healthz")
        assert status == 503 and "database unreachable" in body and "hunter2" not in body
    finally:
        ops.stop()
        svc.close()


def test_json_logs_carry_event_fields_and_no_secrets():
    record = logging.LogRecord("monitor.pipeline", logging.INFO, "", 0, "source=%s read=%d token xoxb-123-456-abc",
                               ("x", 3), None)
    record.source, record.read, record.error = "x", 3, "Authorization: Bearer abcdef123456"
    RedactingFilter().filter(record)
    event = json.loads(JsonLineFormatter().format(record))
    assert event["source"] == "x" and event["read"] == 3 and event["level"] == "info"
    assert "xoxb-123" not in event["message"] and "abcdef123456" not in event["error"]
    assert redactor("xoxb-123-456-abc") != "xoxb-123-456-abc"


@pytest.mark.parametrize(
    "start", [None, "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0012", "0014"]
)
def test_migrations_from_every_revision(db_url, start):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.schema import declared, metadata

    store = Store(db_url)
    if start:
        store.schema.upgrade(start)
        assert store.schema.revision() == start
    store.schema.upgrade()
    assert store.schema.revision() == store.schema.head_revision()
    with store.db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"include_name": declared}), metadata) == []
    store.close()


def test_lease_is_exclusive_until_it_expires(store):
    assert store.leases.acquire("poll:x", "a", ttl=60)
    assert not store.leases.acquire("poll:x", "b", ttl=60)
    assert store.leases.acquire("poll:x", "a", ttl=60)  # renewal
    store.leases.release("poll:x", "a")
    assert store.leases.acquire("poll:x", "b", ttl=0.2)
    import time

    time.sleep(0.3)
    assert store.leases.acquire("poll:x", "a", ttl=60)  # b died: its lease ran out


def test_second_instance_skips_a_source_being_polled(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "pixelcart late again"}])
    one = MonitorService(build_config(tmp_path, db_url))
    two = MonitorService(build_config(tmp_path, db_url))
    one.prepare()
    assert one.store.leases.acquire("poll:feed", one.instance, 60)  # one is mid-poll
    [skipped] = two.run_once()
    assert skipped.skipped == "being polled by another instance"
    one.store.leases.release("poll:feed", one.instance)
    [polled] = two.run_once()
    assert polled.stored == 1
    one.close()
    two.close()


@pytest.mark.parametrize("batch", [1, 7])
def test_concurrent_claims_never_share_an_alert(tmp_path, db_url, batch):
    posts = [{"id": str(i), "text": f"pixelcart order {i} never arrived", "author": f"u{i}"} for i in range(60)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.pipeline.poll(svc.connectors["feed"])
    claimed: list[list[int]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        store = Store(db_url)
        while alerts := store.outbox.claim_batch(f"w{n}", batch):
            assert len(alerts) <= batch
            claimed[n] += [alert.outbox_id for alert in alerts]
        store.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    everything = [i for part in claimed for i in part]
    assert sorted(everything) == sorted(set(everything)) and len(everything) == 60
    svc.close()


def test_stale_claim_of_a_dead_instance_is_taken_over(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "1", "text": "pixelcart charged me twice"}])
    svc = MonitorService(build_config(tmp_path, db_url, delivery={"claim_timeout": "30s"}))
    svc.prepare()
    svc.pipeline.poll(svc.connectors["feed"])
    dead = svc.store.outbox.claim_next("dead-instance")
    assert svc.delivery.deliver_due() == (0, 0)  # still inside claim_timeout: not touched
    with svc.store.db.engine.begin() as conn:
        from monitor.store.schema import outbox

        conn.execute(sa.update(outbox).values(claimed_at=utcnow() - timedelta(seconds=31)))
    assert svc.delivery.deliver_due() == (1, 0)
    assert [a.outbox_id for a in RecordingSink.sent["rec"]] == [dead.outbox_id]
    svc.close()


def test_readyz_fails_when_the_scheduler_stops_firing(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [])
    svc = MonitorService(build_config(tmp_path, db_url, sources={"feed": {
        "type": "file", "path": str(tmp_path / "feed.jsonl"), "interval": "0.05s"}}, delivery={"interval": "0.05s"}))
    svc.prepare()
    svc.job_watch.grace = 0.0
    scheduler = svc._scheduler = svc.build_scheduler()
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while svc.ready() != (True, "ok") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.ready() == (True, "ok")
        scheduler.pause()  # what a dead scheduler thread looks like from outside: running, but nothing fires
        time.sleep(0.4)
        ok, reason = svc.ready()
        assert not ok and "has not run for" in reason and "the scheduler has stopped firing jobs" in reason
        assert scheduler.running  # the old check alone would have said ready
    finally:
        scheduler.shutdown(wait=False)
        svc.close()


@pytest.mark.parametrize("text, hidden, kept", [
    ("could not connect to postgresql://app:p@ss@SECRETPART@db.internal/x", ["p@ss", "SECRETPART"], ["db.internal"]),
    ("set X_BEARER_TOKEN to the app's current bearer token", [], ["current bearer token"]),
    ("Authorization: Bearer abcdef123456", ["abcdef123456"], ["Authorization: Bearer"]),
    ("sent with bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid", ["AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"], []),
])
def test_redaction_masks_secret_values_not_words(text, hidden, kept):
    out = redactor(text)
    assert not [h for h in hidden if h in out] and all(k in out for k in kept), out


def test_a_driver_splitting_the_password_at_its_first_at_sign_leaks_nothing():
    redactor.add_url_password("postgresql://app:first@SECRETTAIL@127.0.0.1/x")
    assert "SECRETTAIL" not in redactor("failed to resolve host 'SECRETTAIL@127.0.0.1'")


ADVERSARIAL = {  # shapes that made the old patterns backtrack: a long run after a prefix, with no ending
    "url without an @": "a://b:" + "c" * (1 << 20),
    "many URL prefixes": "a://b:c@" * (1 << 17),
    "colons": "x://" + ":" * (1 << 20),
    "bearer and spaces": "bearer" + " " * (1 << 20),
    "bearer and a run with no digit": "bearer " + "A" * (1 << 20),
    "header and spaces": "authorization:" + " " * (1 << 20),
    "scheme characters": "a" * (1 << 20) + "://",
}


def test_redaction_of_a_megabyte_of_hostile_text_ends():
    """A generous bound on the whole run: linear scans take milliseconds, the old patterns took hours."""
    import subprocess
    import sys

    script = ("from tests.test_operations import ADVERSARIAL\nfrom monitor.ops.redact import redactor\n"
              "print(sum(len(redactor(text)) for text in ADVERSARIAL.values()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    # Only the URL prefixes hold passwords: each "c" becomes "***"; nothing else is masked.
    assert int(done.stdout) == sum(len(text) for text in ADVERSARIAL.values()) + 2 * (1 << 17)


@pytest.mark.parametrize("text, expected", [
    ("postgresql://app:s3cr3t@db/x and https://u:pw@h/ ok", "postgresql://app:***@db/x and https://u:***@h/ ok"),
    ("a://user:pass@host", "a://user:***@host"),
    ("12://user:pass@host", "12://user:pass@host"),          # no letter: not a scheme
    ("a://user:@host", "a://user:@host"),                    # no password
    ("a://us@er:pass@host", "a://us@er:pass@host"),          # an @ before the colon: not user:password
    ("see https://x.org/a:b@c", "see https://x.org/a:b@c"),  # the @ is in the path, not the authority
    ("bearer bearer abc12345xyz", "bearer bearer ***"),
    ("Bearer abc1234", "Bearer abc1234"),                    # too short to be a token
    ("AUTHORIZATION:   BEARER  tok", "AUTHORIZATION:   BEARER  ***"),
    ("xoxb-123-abc and xapp-1", "xox?-*** and xapp-1"),
])
def test_redaction_masks_exactly_the_secret_part(text, expected):
    assert redactor(text) == expected


def test_a_long_log_line_is_cut_with_a_note_and_no_secret_across_the_cut(caplog):
    from monitor.ops.redact import MAX_LOGGED

    secret = "hunter2-" + "s" * 40
    redactor.add(secret)
    logger = logging.getLogger("tests.cut")
    logger.addFilter(RedactingFilter())
    logger.addFilter(RedactingFilter())  # a logger's filter and a handler's: the line is cut once
    try:
        with caplog.at_level(logging.INFO, logger="tests.cut"):
            body = "x" * (MAX_LOGGED - 10) + secret + "y" * 64_000
            logger.info("body: %s", body)
        [record] = [r for r in caplog.records if r.name == "tests.cut"]
        message = record.getMessage()
        assert message.startswith("body: xxx") and "hunter2" not in message
        assert message.endswith(f"… ({len('body: ') + len(body) - MAX_LOGGED:,} more characters not logged)")
        assert len(message) < MAX_LOGGED + 60
    finally:
        logger.filters.clear()


def test_repeatable_warnings_are_throttled_with_a_count(caplog):
    from monitor.ops.logs import LogThrottle

    logger = logging.getLogger("tests.throttle")
    throttle = LogThrottle(logger, interval=0.3)
    with caplog.at_level(logging.WARNING, logger="tests.throttle"):
        for _ in range(50):
            throttle.warning("signature", "refused a request")
        throttle.warning("replay", "refused a replay")  # another kind has its own allowance
        time.sleep(0.35)
        throttle.warning("signature", "refused a request")
    assert [r.getMessage() for r in caplog.records if r.name == "tests.throttle"] == [
        "refused a request", "refused a replay", "refused a request (and 49 more like it in the last 0.3s)"]
