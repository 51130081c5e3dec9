"""The whole flow on a real database: file source -> normalize -> dedup -> score -> store + outbox -> deliver."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from monitor.clock import utcnow
from monitor.components import Connector, SourceError
from monitor.config import SourceConfig
from monitor.model import Batch, RawPost
from monitor.registry import connectors
from monitor.service import MonitorService
from monitor.store.schema import mentions, outbox
from tests.support import RecordingSink, build_config, write_jsonl

POSTS = [
    {"id": "1", "text": "@pixelcart still no refund after 3 weeks", "author": "ann", "followers": 1200},
    {"id": "2", "text": "pixelcart delivered early, love it", "author": "bob"},
    {"id": "3", "text": "northwind lost my bag, nobody answers the phone", "author": "cy", "lang": "en"},
    {"id": "4", "text": "pixelcart is down again??", "author": "pixelcart"},           # own account
    {"id": "5", "text": "pixelcart GIVEAWAY retweet to win", "author": "dee"},          # excluded term
    {"id": "6", "text": "northwind verspätet schon wieder", "author": "eve", "lang": "de"},  # language
    {"id": "1", "text": "@pixelcart still no refund after 3 weeks", "author": "ann"},  # duplicate in batch
    {"id": "7", "text": "", "author": "fay"},                                          # empty
    {"id": "8", "text": "unrelated post about cats", "author": "gus"},                  # no brand
]


def service(tmp_path, db_url, **sections):
    svc = MonitorService(build_config(tmp_path, db_url, **sections))
    svc.prepare()
    return svc


def count(svc, table, *where) -> int:
    with svc.store.db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_run_once_stores_scores_routes_and_delivers(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", POSTS)
    svc = service(tmp_path, db_url)
    [result] = svc.run_once()
    assert (result.stored, result.duplicates, result.filtered, result.rejected) == (3, 1, 3, 2)
    assert result.complaints == 2 and result.alerts == 2 and result.error is None
    sent = RecordingSink.sent["rec"]
    assert sorted(a.external_id for a in sent) == ["1", "3"]
    alert = next(a for a in sent if a.external_id == "1")
    assert alert.brand == "Pixelcart" and alert.author_reach == 1200 and alert.topic == "billing"
    assert "waiting" in alert.reasons_text()
    assert count(svc, outbox, outbox.c.status == "delivered") == 2
    with svc.store.db.engine.connect() as conn:
        row = conn.execute(sa.select(mentions).where(mentions.c.external_id == "2")).one()._mapping
    assert row["is_complaint"] is False and row["compound"] > 0 and row["brand"] == "Pixelcart"
    svc.close()


def test_restart_reads_only_new_posts_and_never_alerts_twice(tmp_path, db_url):
    feed = write_jsonl(tmp_path / "feed.jsonl", POSTS[:3])
    svc = service(tmp_path, db_url)
    svc.run_once()
    svc.close()
    write_jsonl(feed, [POSTS[0], {"id": "9", "text": "pixelcart charged me twice", "author": "hal"}])
    svc = service(tmp_path, db_url)  # a restart: new process state, same database
    [result] = svc.run_once()
    assert result.read == 2 and result.stored == 1 and result.duplicates == 1
    assert [a.external_id for a in RecordingSink.sent["rec"]] == ["9"]
    assert count(svc, mentions) == 4
    [again] = svc.run_once()
    assert again.read == 0 and again.alerts == 0
    assert [a.external_id for a in RecordingSink.sent["rec"]] == ["9"]  # still the one alert: none sent twice
    assert count(svc, outbox) == 3  # alerts for 1, 3 (first run) and 9, none queued again
    svc.close()


def test_a_rewritten_file_is_deduplicated_by_the_database(tmp_path, db_url):
    feed = write_jsonl(tmp_path / "feed.jsonl", POSTS[:3])
    svc = service(tmp_path, db_url)
    svc.run_once()
    feed.unlink()
    write_jsonl(feed, POSTS[2::-1])  # an export re-made in another order: read again, stored once
    [result] = svc.run_once()
    assert result.read == 3 and result.stored == 0 and result.duplicates == 3
    assert count(svc, outbox) == 2
    svc.close()


class ExplodingConfig(SourceConfig):
    pass


@connectors.register("test-exploding")
class ExplodingConnector(Connector):
    config_model = ExplodingConfig

    def fetch(self, cursor):
        yield Batch([RawPost(external_id="x1", text="pixelcart still broken")], {"page": "1"})
        raise SourceError("HTTP 500 from upstream")


def test_one_failing_source_does_not_stop_the_others(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", POSTS[:3])
    svc = service(tmp_path, db_url, sources={
        "boom": {"type": "test-exploding"},
        "feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")},
    })
    boom, feed = svc.run_once()
    assert boom.error == "HTTP 500 from upstream" and boom.stored == 1  # the batch before the failure is kept
    assert feed.error is None and feed.stored == 3
    health = {h["source"]: h for h in svc.store.sources.health()}
    assert health["boom"]["consecutive_failures"] == 1 and "HTTP 500" in health["boom"]["last_error"]
    assert health["feed"]["consecutive_failures"] == 0
    assert svc.store.sources.load_cursor("boom") == {"page": "1"}
    svc.close()


def test_routes_filter_by_brand_topic_and_priority(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", POSTS[:3])
    svc = service(tmp_path, db_url, alerts={
        "sinks": {"rec": {"type": "test-recording"}, "air": {"type": "test-recording"}},
        "routes": [
            {"name": "air-desk", "sink": "air", "brands": ["Northwind Air"]},
            {"name": "vip", "sink": "rec", "min_priority": 99.9},
            {"name": "rest", "sink": "rec", "fallback": True},
        ]})
    svc.run_once()
    assert [a.external_id for a in RecordingSink.sent["air"]] == ["3"]
    assert [(a.external_id, a.route) for a in RecordingSink.sent["rec"]] == [("1", "rest")]
    svc.close()


def test_large_batches_score_in_worker_processes(tmp_path, db_url):
    posts = [{"id": str(i), "text": f"pixelcart order {i} still not here" if i % 2 else f"pixelcart thanks {i}"}
             for i in range(600)]
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = service(tmp_path, db_url, scoring={"workers": 2},
                  sources={"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"), "batch_size": 600}})
    [result] = svc.run_once()
    assert result.stored == 600 and result.complaints == 300
    svc.close()


def test_stop_event_finishes_the_batch_in_flight(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": str(i), "text": f"pixelcart {i}"} for i in range(30)])
    svc = service(tmp_path, db_url, sources={
        "feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"), "batch_size": 10}})
    svc.pipeline.on_stored = svc.stop.set  # ask to stop as soon as something is stored
    svc.stop.set()
    result = svc.pipeline.poll(svc.connectors["feed"])
    assert result.batches == 1 and result.stored == 10
    svc.stop.clear()
    assert svc.pipeline.poll(svc.connectors["feed"]).stored == 20
    svc.close()


def test_database_failure_mid_poll_loses_nothing(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", POSTS[:3])
    svc = service(tmp_path, db_url)
    real_store_batch = svc.store.mentions.store_batch

    def database_gone(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))

    svc.store.mentions.store_batch = database_gone
    [failed] = svc.run_once()
    assert "server closed the connection" in failed.error and failed.stored == 0
    svc.store.mentions.store_batch = real_store_batch  # the database is back
    [recovered] = svc.run_once()
    assert recovered.stored == 3 and sorted(a.external_id for a in RecordingSink.sent["rec"]) == ["1", "3"]
    svc.close()


def test_ops_channel_hears_once_when_a_source_fails_and_once_when_it_recovers(tmp_path, db_url, clock_at):
    now = clock_at(utcnow(), tick=True)
    feed = tmp_path / "feed.jsonl"
    svc = service(tmp_path, db_url, sources={"feed": {"type": "file", "path": str(feed), "interval": "0.01s"}},
                  alerts={"sinks": {"rec": {"type": "test-recording"}, "ops": {"type": "test-recording"}},
                          "routes": [{"name": "support", "sink": "rec"}],
                          "ops": {"sink": "ops", "channel": "#monitor-ops", "after_failures": 2}})
    for _ in range(4):
        [r] = svc.run_once()
        now.advance(hours=1)  # past the failure backoff
        assert r.error and "does not exist" in r.error and not r.skipped
    notices = RecordingSink.notices["ops"]
    assert len(notices) == 1 and notices[0][0] == "#monitor-ops" and "Source feed is failing" in notices[0][1]
    write_jsonl(feed, POSTS[:1])
    [ok] = svc.run_once()
    assert ok.error is None and ok.stored == 1
    svc.run_once()
    assert len(RecordingSink.notices["ops"]) == 2 and "recovered" in RecordingSink.notices["ops"][1][1]
    svc.close()


def test_backoff_after_very_many_failures_stays_bounded(tmp_path, db_url):
    from monitor.pipeline.health import MAX_FAILURE_BACKOFF

    svc = service(tmp_path, db_url, sources={"feed": {"type": "file", "path": str(tmp_path / "absent.jsonl")}})
    with svc.store.db.engine.begin() as conn:
        from monitor.clock import utcnow
        from monitor.store.schema import source_health

        conn.execute(sa.insert(source_health).values(source="feed", consecutive_failures=5000, posts_read=0,
                                                     posts_stored=0, posts_rejected=0, unhealthy=False,
                                                     updated_at=utcnow()))
    [r] = svc.run_once()
    assert "does not exist" in r.error
    paused = svc.pipeline.health.paused_until("feed") - utcnow()
    assert 0 < paused.total_seconds() <= MAX_FAILURE_BACKOFF
    svc.close()


def test_repaired_fields_are_logged_and_counted_per_poll(tmp_path, db_url, caplog):
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": "1", "text": "pixelcart still no refund", "author": "a", "author_reach": "1" * 25},
        {"id": "2", "text": "pixelcart order lost", "author": "b", "created_at": "yesterday"},
        {"id": "3", "text": "pixelcart is fine", "author": "c", "author_reach": 40, "created_at": "2026-11-20T10:00Z"},
    ])
    svc = service(tmp_path, db_url)
    with caplog.at_level("INFO"):
        [result] = svc.run_once()
    assert result.stored == 3
    assert result.repairs == {"implausible author_reach, counted as 0": 1,
                              "unreadable or impossible created_at, used the fetch time": 1}
    assert "repaired feed.jsonl@0: implausible author_reach, counted as 0" in caplog.text
    with svc.store.db.engine.connect() as conn:
        reach = dict(conn.execute(sa.select(mentions.c.external_id, mentions.c.author_reach)).all())
    assert reach == {"1": 0, "2": 0, "3": 40}
    svc.close()


def test_bursts_count_by_publication_time_not_arrival(tmp_path, db_url):
    old = (utcnow() - timedelta(days=2)).isoformat()
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": f"old{i}", "text": f"pixelcart order {i} still not delivered", "author": f"u{i}", "created_at": old}
        for i in range(30)])
    # max_age 0: old posts still alert here, so this checks the burst rule on its own
    svc = service(tmp_path, db_url, delivery={"burst_threshold": 10, "burst_window": "10m"},
                  alerts={"sinks": {"rec": {"type": "test-recording"}}, "max_age": 0})
    svc.run_once()
    sent = RecordingSink.sent["rec"]
    assert len(sent) == 30 and not any(a.thread_ref for a in sent)  # a backfill is history: no spike
    assert RecordingSink.notices["rec"] == []
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": f"new{i}", "text": f"pixelcart order {i} still not delivered", "author": f"n{i}"} for i in range(30)])
    svc.run_once()
    [(_, spike)] = RecordingSink.notices["rec"]
    assert spike.startswith("Spike: 30 complaints about Pixelcart")  # the fresh ones only: old ones don't count
    fresh = [a for a in RecordingSink.sent["rec"] if a.external_id.startswith("new")]
    assert len(fresh) == 20 and all(a.thread_ref for a in fresh)  # the thread's 20; the other 10 are folded
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "late", "text": "pixelcart order never delivered", "author": "z",
                                           "created_at": old}])
    svc.run_once()  # an old post arriving while the burst is live is not part of it
    [late] = [a for a in RecordingSink.sent["rec"] if a.external_id == "late"]
    assert late.thread_ref is None
    svc.close()


def test_complaints_older_than_max_age_are_stored_and_counted_but_never_alerted(tmp_path, db_url, caplog):
    now = utcnow()
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": "old", "text": "@pixelcart still no refund after 3 weeks",
         "created_at": (now - timedelta(hours=30)).isoformat()},
        {"id": "edge", "text": "@pixelcart app crashes at checkout",
         "created_at": (now - timedelta(hours=5)).isoformat()},
        {"id": "new", "text": "northwind lost my bag, nobody answers",
         "created_at": (now - timedelta(minutes=5)).isoformat()},
        {"id": "happy", "text": "pixelcart delivered early, love it",
         "created_at": (now - timedelta(days=3)).isoformat()},
    ])
    svc = service(tmp_path, db_url, alerts={"sinks": {"rec": {"type": "test-recording"}}, "max_age": "6h"})
    with caplog.at_level("INFO", logger="monitor.pipeline.poll"):
        [result] = svc.run_once()
    assert result.stored == 4 and result.complaints == 3 and result.held_back == 1 and result.alerts == 2
    assert sorted(a.external_id for a in RecordingSink.sent["rec"]) == ["edge", "new"]
    with svc.store.db.engine.connect() as conn:
        held = dict(conn.execute(sa.select(mentions.c.external_id, mentions.c.held_back)).all())
    assert held == {"old": True, "edge": False, "new": False, "happy": False}
    figures = {(r["brand"]): r for r in svc.store.stats.summary()["mentions"]}
    assert figures["Pixelcart"]["held_back"] == 1 and figures["Northwind Air"]["held_back"] == 0
    assert "held_back=1" in caplog.text
    assert count(svc, outbox) == 2
    svc.close()


def test_max_age_zero_alerts_whatever_the_age(tmp_path, db_url):
    old = (utcnow() - timedelta(days=40)).isoformat()
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "old", "text": "@pixelcart still no refund", "created_at": old}])
    svc = service(tmp_path, db_url, alerts={"sinks": {"rec": {"type": "test-recording"}}, "max_age": 0})
    [result] = svc.run_once()
    assert result.held_back == 0 and result.alerts == 1
    svc.close()


def test_ingest_metrics_count_each_stored_mention_and_complaint(tmp_path, db_url):
    from monitor.ops.metrics import REGISTRY

    def value(name, brand):
        return REGISTRY.get_sample_value(name, {"source": "feed", "brand": brand}) or 0.0

    names = ("monitor_mentions_ingested_total", "monitor_complaints_total")
    before = {(n, b): value(n, b) for n in names for b in ("Pixelcart", "Northwind Air")}
    write_jsonl(tmp_path / "feed.jsonl", POSTS)
    svc = service(tmp_path, db_url)
    svc.run_once()
    after = {key: value(*key) - was for key, was in before.items()}
    # Stored: ids 1, 2 (Pixelcart) and 3 (Northwind Air); complaints: 1 and 3.
    assert after == {("monitor_mentions_ingested_total", "Pixelcart"): 2.0,
                     ("monitor_mentions_ingested_total", "Northwind Air"): 1.0,
                     ("monitor_complaints_total", "Pixelcart"): 1.0,
                     ("monitor_complaints_total", "Northwind Air"): 1.0}
    svc.close()
