"""SIGTERM stops the service within seconds, whatever a poll or a handler is waiting on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from monitor import clock
from monitor.ops.stopping import stop_within
from monitor.service import MonitorService
from tests.support import BRANDS, build_config, write_jsonl
from tests.test_source_deadlines import TricklingServer

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_during_a_trickling_poll_exits_within_seconds(tmp_path):
    server = TricklingServer("body")  # answers for 20 s, a few bytes at a time
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
        "sources": {"news": {"type": "rss", "feeds": [server.url + "/feed.xml"], "deadline": "120s"}},
        "alerts": {"sinks": {"console": {}}}, "digest": {"enabled": False}, "scoring": {"workers": 1}}))
    log = tmp_path / "service.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(config), "run"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=stderr, env=dict(os.environ))
    try:
        waited = time.monotonic() + 30
        while server.connections == 0 and time.monotonic() < waited:  # the poll is now reading the trickle
            time.sleep(0.05)
        assert server.connections == 1
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert took < 8, took  # the trickle would have held a graceful stop for about 20 s
    text = log.read_text()
    assert "received SIGTERM" in text and "the service is stopping" in text and "stopped" in text


def test_a_job_that_outlives_the_grace_is_left_behind(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [])
    svc = MonitorService(build_config(tmp_path, db_url, service={"stop_grace": "0.5s"}))
    svc.prepare()
    scheduler = svc.build_scheduler()
    release, running = threading.Event(), threading.Event()

    def stuck() -> None:
        running.set()
        release.wait(30)

    # An interval job: a one-off job is removed after it runs, racing the shutdown inside APScheduler.
    scheduler.add_job(stuck, "interval", hours=1, next_run_time=clock.SYSTEM.utcnow(), id="stuck")
    scheduler.start()
    try:
        assert running.wait(10)
        started = time.monotonic()
        assert stop_within(scheduler, None, svc.config.root.service.stop_grace) is False
        assert time.monotonic() - started < 5
    finally:
        release.set()
        svc.close()
