"""The `monitor` command: in-process for the commands, a real process for signals and the sample run."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import yaml
from click.testing import CliRunner

from monitor import clock
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
    feed = yaml.safe_load(config_file.read_text())["sources"]["feed"]["path"]
    for expected in ("configuration OK", f"  feed (file): enabled, every 10 s; file {feed}\n",
                     "console (console): enabled", "daily at 07:30 Europe/London", "Pixelcart",
                     "alerts: complaints posted less than 1 day ago alert; older ones are stored and counted but "
                     "held back", "delivery: every 10 s, dead-letter after 15 attempts"):
        assert expected in result.output


def test_bad_config_exits_2_with_key_path_and_no_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"brands": BRANDS, "sources": {"x": {"type": "file", "path": "a",
                                                                          "interval": "often"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "interval: often" in text)
    assert result.exit_code == 2
    assert f"sources.x.interval (line {line}): expected a duration like 2m, got 'often'" in result.output
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
    # The posts carry no time, so they count as read now: today in the digest's zone, not the machine's.
    today = clock.today("Europe/London").isoformat()
    digest = invoke(config_file, "digest", "--date", today, "--brand", "pixelcart")
    assert digest.exit_code == 0
    assert "Mentions (posts naming Pixelcart): 2 (feed 2)" in digest.output
    assert re.search(r"Complaints \(.*\): 1 \(50\.0% of mentions", digest.output)
    assert "Alerts: 1 delivered, 0 pending, 0 dead" in digest.output
    assert '@ann (reach 500, topic billing) "pixelcart still no refund, day 20" https://example.com/p/1' \
        in digest.output
    assert "Northwind" not in digest.output  # --brand pixelcart
    empty = invoke(config_file, "digest", "--date", "2020-01-01", "--brand", "pixelcart")
    assert empty.exit_code == 1 and "no mentions of Pixelcart on 2020-01-01 (Europe/London)" in empty.output
    assert invoke(config_file, "digest", "--brand", "Nope").exit_code == 2


def test_unreachable_database_is_a_clear_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "postgresql+psycopg://monitor:hunter2@127.0.0.1:1/monitor?connect_timeout=2"},
        "brands": BRANDS, "sources": {"x": {"type": "file", "path": "a"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code == 1 and "database error" in result.output and "hunter2" not in result.output


def test_help_is_fast_and_lazy():
    code = ("import sys, monitor.cli; "
            "print(any(m in sys.modules for m in ('vaderSentiment', 'sqlalchemy', 'apscheduler', 'pydantic')))")
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
@pytest.mark.parametrize("how", ["make run", "docker run", "monitor demo"])
def test_shipped_config_runs_on_the_samples_on_any_day(tmp_path, how):
    """The demo as `make run` starts it (the checkout, --config config.yaml) and as the image's entry command
    does (config.yaml and samples/ copied into the working directory, MONITOR_CONFIG, `monitor run`). The
    samples replay as if live: only the last day's complaints alert (alerts.max_age 24h); the older ones are
    stored and counted as held back."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}")
    env.pop("MONITOR_CONFIG", None)
    if how == "make run":
        command, cwd = ["--config", str(ROOT / "config.yaml"), "run", "--once"], ROOT
    else:  # the Dockerfile's COPY config.yaml, COPY samples, ENV MONITOR_CONFIG, ENTRYPOINT monitor, CMD run
        shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
        shutil.copytree(ROOT / "samples", tmp_path / "samples")
        env["MONITOR_CONFIG"] = str(tmp_path / "config.yaml")
        command, cwd = ["run", "--once"], tmp_path
    if how == "monitor demo":  # no config at all; run from elsewhere, it finds the checkout's samples
        env["TMPDIR"] = str(tmp_path)
        command, cwd = ["demo", "--once"], tmp_path
    out = subprocess.run([sys.executable, "-m", "monitor.cli", *command], capture_output=True, text=True, env=env,
                         cwd=cwd, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("Pixelcart") > 5 and out.stdout.count("Northwind Air") > 5
    held = int(re.search(r"held_back=(\d+)", out.stderr).group(1))
    alerts = int(re.search(r" alerts=(\d+)", out.stderr).group(1))
    complaints = int(re.search(r"complaints=(\d+)", out.stderr).group(1))
    assert held > 0 and alerts > 0 and held + alerts == complaints
    if how == "monitor demo":
        assert list(tmp_path.glob("monitor-demo-*")) == []  # its throwaway database is gone


def test_demo_keeps_its_database_with_data_and_refuses_a_missing_file(tmp_path):
    keep = tmp_path / "kept"
    first = CliRunner().invoke(cli, ["demo", "--once", "--data", str(keep)])
    assert first.exit_code == 0, first.output
    assert (keep / "demo.db").is_file() and first.output.count("why: ") > 5
    again = CliRunner().invoke(cli, ["demo", "--once", "--data", str(keep)])
    assert again.exit_code == 0 and "why: " not in again.output  # the same posts are not read twice
    missing = CliRunner().invoke(cli, ["demo", "--once", "--posts", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output


UNREACHABLE = "postgresql+psycopg://monitor:hunter2@127.0.0.1:1/monitor?connect_timeout=2"


@pytest.mark.parametrize("args", [["db", "current"], ["stats"], ["alerts", "dead"], ["alerts", "retry"],
                                  ["export", "--since", "2026-11-01", "--until", "2026-11-02"],
                                  ["digest", "--date", "2026-11-01"]])
def test_every_command_meeting_an_unreachable_database_says_so_in_one_line(tmp_path, args):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": "${DATABASE_URL}"}, "brands": BRANDS,
                                    "sources": {"x": {"type": "file", "path": "a"}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), *args], env={"DATABASE_URL": UNREACHABLE})
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    [line] = result.output.splitlines()
    assert line.startswith("database error: OperationalError: ") and "is the database running" in line
    assert "hunter2" not in line


@pytest.mark.parametrize("url, expected", [
    ("notaurl", "database.url: not a database URL"),
    ("mysql://u@h/db", "database.url: unsupported database 'mysql'"),
])
def test_check_config_rejects_the_urls_every_other_command_rejects(tmp_path, url, expected):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": url}, "brands": BRANDS,
                                    "sources": {"x": {"type": "file", "path": "a"}}}))
    for args in (["check-config"], ["stats"], ["db", "current"]):
        result = CliRunner().invoke(cli, ["--config", str(path), *args])
        line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "url:" in text)
        at_line = expected.replace(": ", f" (line {line}): ", 1)  # the key path, then the file's line
        assert result.exit_code == 2 and at_line in result.output and "Traceback" not in result.output


def test_commands_say_when_they_did_nothing(config_file):
    invoke(config_file, "run", "--once")
    today = clock.today("Europe/London").isoformat()  # the digest zone: the export reads days there
    found = CliRunner().invoke(cli, ["--config", str(config_file), "export", "--since", today, "--until", today,
                                     "--brand", "PIXELCART", "--format", "jsonl"])
    assert found.exit_code == 0 and [json.loads(x)["brand"] for x in found.stdout.splitlines()] == ["Pixelcart"] * 2
    unknown = CliRunner().invoke(cli, ["--config", str(config_file), "export", "--since", today, "--until", today,
                                       "--brand", "Nope"])
    assert unknown.exit_code == 2 and "no brand named 'Nope'" in unknown.output and "Pixelcart" in unknown.output
    reversed_range = CliRunner().invoke(cli, ["--config", str(config_file), "export", "--since", "2026-11-20",
                                              "--until", "2026-11-10"])
    assert reversed_range.exit_code == 2 and "must come before --until" in reversed_range.output
    retry = CliRunner().invoke(cli, ["--config", str(config_file), "alerts", "retry", "--id", "99999"])
    assert retry.exit_code == 1 and "not dead alerts (unknown, or not dead-lettered): 99999" in retry.output
    next_year = (clock.today("Europe/London") + timedelta(days=366)).isoformat()
    future = CliRunner().invoke(cli, ["--config", str(config_file), "digest", "--date", next_year])
    assert future.exit_code == 2 and "is in the future" in future.output
    empty = CliRunner().invoke(cli, ["--config", str(config_file), "digest", "--date", "2026-01-05"])
    assert empty.exit_code == 1 and "no mentions of Pixelcart, Northwind Air on 2026-01-05" in empty.output
    assert f"stored mentions run from {today} to {today}" in empty.output


def test_commands_that_send_nothing_need_no_sink_secrets(config_file, monkeypatch):
    raw = yaml.safe_load(config_file.read_text())
    raw["alerts"] = {"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}"}},
                     "routes": [{"name": "support", "sink": "slack", "channel": "C1"}]}
    config_file.write_text(yaml.safe_dump(raw))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    for args in (["stats"], ["export", "--since", "2026-11-01", "--until", "2026-11-02"], ["alerts", "dead"],
                 ["db", "current"]):
        result = CliRunner().invoke(cli, ["--config", str(config_file), *args])
        assert result.exit_code in (0, 1) and "SLACK_BOT_TOKEN" not in result.output, (args, result.output)
    run = CliRunner().invoke(cli, ["--config", str(config_file), "run", "--once"])
    assert run.exit_code == 2
    line = next(n for n, text in enumerate(config_file.read_text().splitlines(), 1) if "token:" in text)
    assert run.output.splitlines()[1:] == [  # and nothing misleading
        f"  alerts.sinks.slack.token (line {line}): environment variable SLACK_BOT_TOKEN is not set"]


def test_stats_times_carry_their_timezone(config_file):
    invoke(config_file, "run", "--once")
    text = invoke(config_file, "stats").output
    assert re.search(r"last success \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)
    stats = json.loads(invoke(config_file, "stats", "--json").output)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", stats["sources"][0]["last_success_at"])
    assert "API reads this month" not in invoke(config_file, "check-config").output  # a file source is not metered


