"""Fault injection, on 127.0.0.1 only and bounded in time: SIGKILL mid-poll and mid-delivery, Slack down
then back, the database unreachable or locked, two instances on one database. Each test prints what it
measured (posts lost, alerts duplicated, recovery time); run with -s to see the figures."""
from __future__ import annotations

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
import yaml

from monitor.service import MonitorService
from monitor.store.schema import mentions, outbox
from tests.fake_apis import FakeSlack
from tests.support import BRANDS, ROOT, build_config, write_jsonl

pytestmark = pytest.mark.slow


def posts(n: int, start: int = 0) -> list[dict]:
    """Every other post is a complaint."""
    return [{"id": f"p{i}", "author": f"user{i}", "followers": i,
             "text": f"pixelcart order {i} still not delivered, no reply" if i % 2 == 0 else f"pixelcart thanks {i}"}
            for i in range(start, start + n)]


@pytest.fixture
def fake_slack(httpserver):
    fake = FakeSlack()
    fake.install(httpserver)
    return fake


def write_config(tmp_path, db_url, httpserver, **delivery) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": db_url}, "brands": BRANDS,
        "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"), "interval": "0.2s",
                             "batch_size": 200}},
        "alerts": {"sinks": {"slack": {"type": "slack", "token": FakeSlack.TOKEN, "default_channel": "C0SUPPORT",
                                       "api_base_url": httpserver.url_for("/api/"), "min_interval": "0s"}}},
        "delivery": {"interval": "0.5s", "backoff_base": "0.2s", "backoff_max": "1s", "max_attempts": 100,
                     "claim_timeout": "1s", "burst_threshold": 0, **delivery},
        "digest": {"enabled": False}, "service": {"lease_ttl": "2s"},
        "scoring": {"workers": 1}, "logging": {"level": "DEBUG", "json": True}}))
    return str(path)


def start(config: str, log_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", config, "run"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(log_path, "a"), env=dict(os.environ))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(condition, timeout: float, step: float = 0.05) -> float:
    """Seconds until condition() held; fails the test after ``timeout``."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(step)
    return time.monotonic() - began


def settle(condition, timeout: float, step: float = 0.05) -> bool:
    """Whether condition() came to hold within ``timeout``: the caller then reports what it measured."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def db_counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(mentions)).scalar_one()
        alerts = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        delivered = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                 .where(outbox.c.status == "delivered")).scalar_one()
    return stored, alerts, delivered


def received_ids(fake: FakeSlack) -> list[int]:
    return [m["metadata"]["event_payload"]["outbox_id"] for m in fake.messages if m.get("metadata")]


@pytest.mark.timed_waits
def test_sigkill_mid_poll_then_restart_loses_nothing_and_duplicates_nothing(tmp_path, db_url, httpserver,
                                                                          fake_slack):
    n = 4000
    write_jsonl(tmp_path / "feed.jsonl", posts(n))
    config = write_config(tmp_path, db_url, httpserver)
    engine = sa.create_engine(db_url)
    proc = start(config, tmp_path / "run.log")
    wait_for(lambda: _safe(lambda: 0 < db_counts(engine)[0] < n), 60, step=0.01)  # some batches stored, not all
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = db_counts(engine)[0]
    restarted_at = time.monotonic()
    proc = start(config, tmp_path / "run.log")
    try:
        settle(lambda: _safe(lambda: db_counts(engine)[0] == n and db_counts(engine)[2] == n // 2), 90)
        recovery = time.monotonic() - restarted_at
    finally:
        stop(proc)
    stored, alerts, delivered = db_counts(engine)
    ids = received_ids(fake_slack)
    print(f"\nSIGKILL during a poll: stored before the kill {before}/{n}, after the restart {stored}/{n} "
          f"({n - stored} lost); alerts {len(set(ids))}/{n // 2} delivered, {len(ids) - len(set(ids))} duplicated; "
          f"recovery {recovery:.1f}s")
    assert 0 < before < n
    assert (stored, alerts, delivered) == (n, n // 2, n // 2), (
        f"{n - stored} posts lost, {n // 2 - delivered} undelivered"
    )
    assert sorted(ids) == sorted(set(ids)) and len(ids) == n // 2
    engine.dispose()


@pytest.mark.timed_waits
def test_sigkill_mid_send_then_restart_duplicates_nothing(tmp_path, db_url, httpserver, fake_slack):
    # Slack posts the 50th message and holds its answer; the process is killed while it waits. That alert, and
    # any sent but not yet recorded, are "sending" in the database though Slack has them: the restarted process
    # must find them in the channel instead of posting them again.
    n = 600
    write_jsonl(tmp_path / "feed.jsonl", posts(n))
    config = write_config(tmp_path, db_url, httpserver)
    engine = sa.create_engine(db_url)
    fake_slack.hold_at = 50
    proc = start(config, tmp_path / "run.log")
    try:
        assert fake_slack.holding.wait(60), "delivery never reached the 50th message"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        posted = len(fake_slack.messages)
        fake_slack.release.set()
    with engine.connect() as conn:
        unrecorded = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                  .where(outbox.c.status == "sending")).scalar_one()
    restarted_at = time.monotonic()
    proc = start(config, tmp_path / "run.log")
    try:
        settle(lambda: _safe(lambda: db_counts(engine)[2] == n // 2), 60)
        recovery = time.monotonic() - restarted_at
    finally:
        stop(proc)  # every alert is recorded as delivered, so nothing more can be sent
    ids = received_ids(fake_slack)
    duplicated = len(ids) - len(set(ids))
    print(
        f"\nSIGKILL waiting for Slack's answer to message 50: Slack had {posted} messages, the database "
        f"{unrecorded} alert(s) still 'sending'; after the restart {len(set(ids))}/{n // 2} delivered, "
        f"{duplicated} duplicated; recovery {recovery:.1f}s"
    )
    assert posted == 50 and unrecorded >= 1  # the held one at least: the kill landed where it was meant to
    assert db_counts(engine) == (n, n // 2, n // 2) and duplicated == 0 and len(set(ids)) == n // 2
    engine.dispose()


def _safe(check) -> bool:
    try:
        return check()
    except sa.exc.SQLAlchemyError:
        return False


@pytest.mark.timed_waits
def test_slack_down_then_back_every_alert_exactly_once(tmp_path, db_url, httpserver, fake_slack):
    write_jsonl(tmp_path / "feed.jsonl", posts(200))
    fake_slack.down = True
    config = write_config(tmp_path, db_url, httpserver)
    engine = sa.create_engine(db_url)
    proc = start(config, tmp_path / "run.log")
    try:
        wait_for(lambda: _safe(lambda: db_counts(engine)[1] == 100), 60)
        # Slack stays down until the service has retried (and failed) a few times.
        wait_for(lambda: sum(r["path"] == "/api/chat.postMessage" for r in fake_slack.requests) >= 3, 30)
        assert fake_slack.messages == [] and db_counts(engine)[2] == 0
        fake_slack.down = False
        recovery = wait_for(lambda: _safe(lambda: db_counts(engine)[2] == 100), 60)
    finally:
        stop(proc)  # every alert is recorded as delivered, so nothing more can be sent
    ids = received_ids(fake_slack)
    print(f"\nSlack down: {len(set(ids))}/100 alerts delivered after recovery in {recovery:.1f}s, "
          f"{len(ids) - len(set(ids))} duplicated")
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 100
    engine.dispose()


class Proxy:
    """A TCP proxy to the database that can be cut (connection refused) and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.conns: list[socket.socket] = []
        self.listener = None
        self.open()

    def open(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(50)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(): new connections are refused
        except OSError:
            pass
        self.listener.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns = []


def test_postgres_unreachable_then_back(tmp_path, db_url, httpserver, fake_slack):
    if not db_url.startswith("postgresql"):
        pytest.skip("the connection-refused case needs PostgreSQL; SQLite's locked case is tested below")
    url = sa.engine.make_url(db_url)
    proxy = Proxy((url.host, url.port or 5432))
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    feed = write_jsonl(tmp_path / "feed.jsonl", posts(20))
    svc = MonitorService(build_config(tmp_path, via_proxy, alerts={"sinks": {"slack": {
        "type": "slack", "token": FakeSlack.TOKEN, "default_channel": "C0SUPPORT",
        "api_base_url": httpserver.url_for("/api/"), "min_interval": "0s"}}}, delivery={"burst_threshold": 0}))
    svc.prepare()
    svc.run_once()
    proxy.cut()
    write_jsonl(feed, posts(20, start=20))
    failures = [r.error for r in svc.run_once() if r.error]
    assert failures, "the poll should have failed while the database was unreachable"
    svc.delivery.kick()  # must not raise either
    ok, reason = svc.healthy()
    assert not ok and "database unreachable" in reason
    cut_at = time.monotonic()
    proxy.open()
    [result] = svc.run_once()
    recovery = time.monotonic() - cut_at
    stored, alerts, delivered = db_counts(svc.store.db.engine)
    ids = received_ids(fake_slack)
    print(f"\nPostgreSQL refused: failed poll logged ({failures[0][:60]}...); after it came back "
          f"{stored}/40 stored, {delivered}/{alerts} alerts delivered, {len(ids) - len(set(ids))} duplicated, "
          f"recovered in {recovery:.2f}s")
    assert result.error is None and stored == 40 and delivered == alerts == 20 and len(ids) == len(set(ids)) == 20
    svc.close()


def test_sqlite_locked_for_a_while(tmp_path, httpserver, fake_slack):
    db = tmp_path / "locked.db"
    write_jsonl(tmp_path / "feed.jsonl", posts(20))
    svc = MonitorService(build_config(tmp_path, f"sqlite:///{db}", alerts={"sinks": {"slack": {
        "type": "slack", "token": FakeSlack.TOKEN, "default_channel": "C0SUPPORT",
        "api_base_url": httpserver.url_for("/api/"), "min_interval": "0s"}}}, delivery={"burst_threshold": 0}))
    svc.prepare()
    import sqlite3

    blocker = sqlite3.connect(db, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    results = []
    runner = threading.Thread(target=lambda: results.append(svc.run_once()))
    began = time.monotonic()
    runner.start()
    time.sleep(2)
    blocker.rollback()
    blocker.close()
    runner.join(timeout=60)
    waited = time.monotonic() - began
    stored, alerts, delivered = db_counts(svc.store.db.engine)
    print(f"\nSQLite locked 2 s: poll waited {waited:.1f}s, then {stored}/20 stored, {delivered}/{alerts} delivered")
    assert results and results[0][0].error is None and stored == 20 and delivered == alerts == 10
    svc.close()


@pytest.mark.timed_waits
def test_two_instances_one_database(tmp_path, db_url, httpserver, fake_slack):
    n = 1000
    config = write_config(tmp_path, db_url, httpserver)
    (tmp_path / "feed.jsonl").touch()
    engine = sa.create_engine(db_url)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [start(config, logs[0]), start(config, logs[1])]
    try:
        wait_for(lambda: all("service started" in log.read_text() for log in logs), 30)
        write_jsonl(tmp_path / "feed.jsonl", posts(n))  # a burst arrives while both run
        took = wait_for(lambda: _safe(lambda: db_counts(engine)[2] == n // 2 and db_counts(engine)[1] == n // 2), 90)
    finally:  # every alert is recorded as delivered, so nothing more can be sent
        for p in procs:
            stop(p)
    ids = received_ids(fake_slack)
    polls = collections.defaultdict(list)  # instance log -> [(start, end)]
    for log in logs:
        for line in log.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "poll" and event.get("source") == "feed" and event.get("held_from"):
                polls[log.name].append((event["held_from"], event["held_until"]))
    overlaps = sum(1 for a0, a1 in polls["a.log"] for b0, b1 in polls["b.log"] if a0 < b1 and b0 < a1)
    print(f"\ntwo instances: {len(set(ids))}/{n // 2} alerts in {took:.1f}s, {len(ids) - len(set(ids))} duplicated; "
          f"polls a={len(polls['a.log'])} b={len(polls['b.log'])}, overlapping polls {overlaps}")
    assert len(ids) == len(set(ids)) == n // 2 and db_counts(engine)[0] == n
    assert polls["a.log"] and polls["b.log"] and overlaps == 0
    engine.dispose()
