"""`monitor users` and `monitor web` as the README shows them, the inbox served by `monitor run` when
web.enabled, and the links to it from Slack and the digest when web.base_url is set."""
from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from click.testing import CliRunner

from alerts._slack_blocks import alert_message
from monitor.cli import cli
from monitor.service import MonitorService
from tests.support import BRANDS, ROOT, build_config, until, write_jsonl
from tests.web_support import NOW, csrf_of, post

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("\n## Web inbox\n", 1)[1].split("\n## ", 1)[0]
SHOWN = [line.strip() for line in SECTION.splitlines() if line.startswith("    monitor ")]
PASSWORD = "a long enough password"


@pytest.fixture
def config_file(tmp_path):
    raw = {"database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
           "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
           "alerts": {"sinks": {"console": {}}}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def invoke(config_file, *args, input=None):
    return CliRunner().invoke(cli, ["--config", str(config_file), *args], input=input)


def test_users_are_added_listed_and_removed(config_file):
    added = invoke(config_file, "users", "add", "ana", "--role", "agent", "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0 and added.output == "added ana (agent)\n"
    asked = invoke(config_file, "users", "add", "vic", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert asked.exit_code == 0, asked.output
    listed = invoke(config_file, "users", "list").output.splitlines()
    assert [line.split()[:2] for line in listed] == [["ana", "agent"], ["vic", "viewer"]]
    assert "last signed in never" in listed[0]
    assert invoke(config_file, "users", "add", "ANA", "--role", "agent", "--password-stdin",
                  input=PASSWORD + "\n").exit_code == 1  # names are unique in any case
    assert invoke(config_file, "users", "add", "bo", "--role", "agent", "--password-stdin",
                  input="short\n").exit_code == 2
    assert invoke(config_file, "users", "add", "<b>", "--role", "agent", "--password-stdin",
                  input=PASSWORD + "\n").exit_code == 2
    assert invoke(config_file, "users", "add", "bo", "--role", "admin", "--password-stdin",
                  input=PASSWORD + "\n").exit_code == 2
    assert invoke(config_file, "users", "remove", "vic").output == "removed vic\n"
    assert invoke(config_file, "users", "remove", "vic").exit_code == 1
    assert invoke(config_file, "users", "password", "ana", "--password-stdin",
                  input="another long password\n").exit_code == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_the_readme_commands_serve_the_inbox_until_sigterm(config_file, tmp_path):
    add_line, web_line = SHOWN
    assert add_line.startswith("monitor users add") and web_line.startswith("monitor web --listen")
    added = invoke(config_file, *shlex.split(add_line)[1:], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    name = shlex.split(add_line)[3]
    port, ops_port = free_port(), free_port()
    raw = yaml.safe_load(config_file.read_text())
    raw["service"] = {"http": {"enabled": True, "port": ops_port}}
    config_file.write_text(yaml.safe_dump(raw))
    args = [a.replace("8090", str(port)) for a in shlex.split(web_line)[1:]]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(config_file), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=10) as browser:
            token = csrf_of(browser.get("/login").text)
            signed = browser.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                                                  "next": "/cases"}, follow_redirects=True)
            assert signed.status_code == 200 and f"{name} <small>(agent)</small>" in signed.text
        counted = 'monitor_web_requests_total{page="/cases",status="200"} 1.0'  # as the response finished
        assert until(lambda: counted in httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=5).text)
        metrics = httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=5).text
        assert 'monitor_web_sign_ins_total{outcome="ok"} 1.0' in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert f"web inbox on http://127.0.0.1:{port}" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_service_serves_the_inbox_when_enabled_and_links_to_it(tmp_path, clock_at):
    clock_at(NOW)
    write_jsonl(tmp_path / "feed.jsonl", [post("1", "@pixelcart my refund never came", 3, NOW)])
    config = build_config(tmp_path, web={"enabled": True, "listen": "127.0.0.1:0",
                                         "base_url": "https://inbox.example.com"})
    svc = MonitorService(config)
    try:
        svc.prepare()
        svc.run_once()
        svc.start_web()
        assert httpx.get(f"http://127.0.0.1:{svc.web_server.port}/healthz", timeout=5).text == "ok\n"
        assert svc.sinks["rec"].case_link(7) == "https://inbox.example.com/cases/7"
        from tests.support import RecordingSink

        [alert] = RecordingSink.sent["rec"]
        shown = str(alert_message(alert, buttons=True, link=svc.sinks["rec"].case_link))
        assert f"<https://inbox.example.com/cases/{alert.case.id}|open in the inbox>" in shown
    finally:
        svc.close()
    assert not svc.web_server.thread.is_alive()


def test_without_a_base_url_messages_carry_no_inbox_link(tmp_path, clock_at):
    clock_at(NOW)
    write_jsonl(tmp_path / "feed.jsonl", [post("1", "@pixelcart my refund never came", 3, NOW)])
    svc = MonitorService(build_config(tmp_path))
    try:
        svc.prepare()
        svc.run_once()
        from tests.support import RecordingSink

        [alert] = RecordingSink.sent["rec"]
        assert "open in the inbox" not in str(alert_message(alert, buttons=True, link=svc.sinks["rec"].case_link))
        assert svc.web_server is None
    finally:
        svc.close()


def test_the_slack_digest_links_to_its_page_in_the_inbox(tmp_path):
    from datetime import date

    from monitor.digest import report
    from monitor.digest.figures import BrandDay

    config = build_config(tmp_path, web={"base_url": "https://inbox.example.com"})
    lines = report.slack_extra_lines(BrandDay("Northwind Air", date(2026, 3, 9), "UTC", 7), config.root.digest,
                                     config.root.web.base_url)
    assert lines[-1] == ("In the inbox: https://inbox.example.com/digest?brand=Northwind+Air&period=weekly&"
                         "day=2026-03-09")
    assert not any("inbox" in line for line in report.slack_extra_lines(
        BrandDay("Pixelcart", date(2026, 3, 9), "UTC"), config.root.digest))


def test_listen_must_be_host_and_port(tmp_path):
    from monitor.config import ConfigError

    for bad in ("8090", "localhost", "127.0.0.1:99999", "http://x:1"):
        with pytest.raises(ConfigError) as raised:
            build_config(tmp_path, web={"listen": bad})
        assert re.search(r"web\.listen", raised.value.render()), bad
