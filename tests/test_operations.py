"""Operations: health and metrics endpoint, JSON logs, migrations from every revision, leases and claims
shared by several instances on one database."""
from __future__ import annotations

import json
import logging
import threading
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


@pytest.mark.parametrize("start", [None, "0001", "0002", "0003"])
def test_migrations_from_every_revision(db_url, start):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.schema import metadata

    store = Store(db_url)
    if start:
        store.schema.upgrade(start)
        assert store.schema.revision() == start
    store.schema.upgrade()
    assert store.schema.revision() == store.schema.head_revision()
    with store.db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
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


def test_concurrent_claims_never_share_an_alert(tmp_path, db_url):
    posts = [{"id": str(i), "text": f"pixelcart order {i} never arrived", "author": f"u{i}"} for i in range(60)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.pipeline.poll(svc.connectors["feed"])
    claimed: list[list[int]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        store = Store(db_url)
        while (alert := store.outbox.claim_next(f"w{n}")) is not None:
            claimed[n].append(alert.outbox_id)
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
