"""The `monitor` command: in-process for the commands, a real process for signals and the sample run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from tests.support import BRANDS, ROOT, write_jsonl


@pytest.fixture
def config_file(tmp_path):
    write_jsonl(tmp_path / "feed.jsonl", [
        {"id": "1", "text": "pixelcart still no refund, day 20", "author": "ann", "followers": 500,
         "url": "https://example.com/p/1"},
        {"id": "2", "text": "pixelcart is lovely", "author": "bob"},
    ])
    raw = {"database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
           "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
           "alerts": {"sinks": {"console": {}}},
           "digest": {"time": "07:30", "timezone": "Europe/London"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def invoke(config_file, *args, input=None):
    return CliRunner().invoke(cli, ["--config", str(config_file), *args], input=input, catch_exceptions=False)


def test_run_once_prints_alert_then_reads_nothing_new(config_file):
    result = invoke(config_file, "run", "--once")
    assert result.exit_code == 0, result.output
    assert "still no refund" in result.output and "Pixelcart" in result.output
    assert "lovely" not in result.output
    again = invoke(config_file, "run", "--once")
    assert again.exit_code == 0 and "still no refund" not in again.output


def test_check_config_shows_what_will_run(config_file):
    result = invoke(config_file, "check-config")
    assert result.exit_code == 0
    for expected in ("configuration OK", "feed (file): enabled", "console (console): enabled",
                     "daily at 07:30 Europe/London", "Pixelcart"):
        assert expected in result.output


def test_bad_config_exits_2_with_key_path_and_no_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"brands": BRANDS, "sources": {"x": {"type": "file", "path": "a",
                                                                          "interval": "often"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert "sources.x.interval: expected a duration like 2m, got 'often'" in result.output
    assert "Traceback" not in result.output


def test_secret_is_not_printed_by_check_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "pa55-w0rd-xyz")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "postgresql+psycopg://monitor:${DB_PASSWORD}@db.invalid/monitor"},
        "brands": BRANDS, "sources": {"x": {"type": "file", "path": "a"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0 and "pa55-w0rd-xyz" not in result.output and "db.invalid" in result.output


def test_score_reads_json_lines_and_plain_text(config_file):
    lines = '{"text": "charged twice and no reply", "id": "a"}\nI love this shop\n\n{"text": ""}\n'
    result = CliRunner().invoke(cli, ["--config", str(config_file), "score"], input=lines)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["complaint"] for o in out] == [True, False]
    assert out[0]["id"] == "a" and out[0]["topic"] == "billing" and out[0]["reasons"]
    assert "empty text" in result.stderr


def test_score_only_complaints_from_file(config_file, tmp_path):
    posts = tmp_path / "posts.txt"
    posts.write_text("still waiting for my refund\nthanks, all good\n")
    result = invoke(config_file, "score", "--only-complaints", str(posts))
    assert [json.loads(x)["text"] for x in result.output.splitlines()] == ["still waiting for my refund"]


def test_db_upgrade_and_current(config_file):
    first = invoke(config_file, "db", "upgrade")
    assert first.exit_code == 0 and "was empty" in first.output
    assert "up to date" in invoke(config_file, "db", "upgrade").output
    assert invoke(config_file, "db", "current").exit_code == 0


def test_stats_alerts_and_digest(config_file):
    invoke(config_file, "run", "--once")
    stats = json.loads(invoke(config_file, "stats", "--json").output)
    assert stats["mentions"][0]["complaints"] == 1 and stats["outbox"]["delivered"] == 1
    assert "1 delivered" in invoke(config_file, "stats").output
    assert "no dead alerts" in invoke(config_file, "alerts", "dead").output
    assert "0 alert(s) queued" in invoke(config_file, "alerts", "retry").output
    today = time.strftime("%Y-%m-%d")
    digest = invoke(config_file, "digest", "--date", today, "--brand", "pixelcart")
    assert digest.exit_code == 0 and "Pixelcart" in digest.output
    assert invoke(config_file, "digest", "--brand", "Nope").exit_code == 2


def test_unreachable_database_is_a_clear_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "postgresql+psycopg://monitor:hunter2@127.0.0.1:1/monitor?connect_timeout=2"},
        "brands": BRANDS, "sources": {"x": {"type": "file", "path": "a"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 1 and "database error" in result.output and "hunter2" not in result.output


def test_help_is_fast_and_lazy():
    code = "import sys, monitor.cli; print(any(m in sys.modules for m in ('vaderSentiment', 'sqlalchemy', 'apscheduler', 'pydantic')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_service_stops_cleanly_on_sigterm(config_file, tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(config_file), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        seen = ""
        deadline = time.monotonic() + 30
        while "still no refund" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "still no refund" in seen, seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_shipped_config_runs_on_the_samples(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}")
    out = subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(ROOT / "config.yaml"), "run", "--once"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Pixelcart") > 20 and out.stdout.count("Northwind Air") > 20
