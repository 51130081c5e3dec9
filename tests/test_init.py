"""`monitor init`: from a few answers to a config that passes check-config and alerts on the team's own posts."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.clock import utcnow
from tests.support import ROOT


def monitor(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_own_brand_from_init_to_alerts_as_the_readme_says(tmp_path):
    env = {"X_BEARER_TOKEN": ""}  # whatever this machine has: the x source must be written disabled
    made = monitor("init", "--non-interactive", "--brand", "Acme Bank", "--terms", "acme bank,@acmebank,#acmebank",
                   "--own-accounts", "acmebank", "--sources", "file,x", "--out", "acme.yaml", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert "x is written disabled: set X_BEARER_TOKEN" in made.stdout
    assert (tmp_path / "data").is_dir()  # init made the folder the export goes into
    posts = [{"id": "1", "text": "@acmebank app froze mid transfer and now my money is gone, 3 calls no answer",
              "author": "kim", "followers": 800, "created_at": utcnow().isoformat()},
             {"id": "2", "text": "acme bank's new savings rate is nice", "author": "lee"},
             {"id": "3", "text": "We're looking into the app issue, sorry!", "author": "acmebank"}]
    (tmp_path / "data" / "posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    checked = monitor("--config", "acme.yaml", "check-config", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "posts (file): enabled, every 10 s; file data/posts.jsonl" in checked.stdout
    assert "x (x): disabled" in checked.stdout
    ran = monitor("--config", "acme.yaml", "run", "--once", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("COMPLAINT") == 1 and "Acme Bank" in ran.stdout and "money is gone" in ran.stdout


def test_init_asks_what_the_flags_did_not_say(tmp_path):
    answers = "Pixel Cart\npixelcart,#pixelcart\npixelcarthelp\nfile,hackernews\nC0SUPPORT\n"
    result = CliRunner().invoke(cli, ["init", "--out", str(tmp_path / "c.yaml")], input=answers,
                                env={"SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "c.yaml").read_text())
    assert config["brands"] == [{"name": "Pixel Cart", "terms": ["pixelcart", "#pixelcart"],
                                 "own_accounts": ["pixelcarthelp"]}]
    assert set(config["sources"]) == {"posts", "hackernews"}
    assert config["alerts"]["routes"] == [{"name": "support", "sink": "slack", "channel": "C0SUPPORT"}]
    assert config["alerts"]["sinks"]["slack"] == {"token": "${SLACK_BOT_TOKEN}"}


def test_init_writes_names_that_yaml_would_misread_quoted(tmp_path):
    result = CliRunner().invoke(cli, ["init", "--non-interactive", "--brand", "Yes: Inc #1", "--terms",
                                      "yes inc,'quoted',@yes_inc", "--out", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "c.yaml").read_text())
    assert config["brands"][0]["name"] == "Yes: Inc #1"
    assert config["brands"][0]["terms"] == ["yes inc", "'quoted'", "@yes_inc"]


def test_init_keeps_an_existing_file_and_refuses_unknown_sources(tmp_path):
    existing = tmp_path / "c.yaml"
    existing.write_text("# mine\n")
    kept = CliRunner().invoke(cli, ["init", "--non-interactive", "--brand", "A", "--out", str(existing)])
    assert kept.exit_code == 2 and "exists" in kept.output and existing.read_text() == "# mine\n"
    unknown = CliRunner().invoke(cli, ["init", "--non-interactive", "--brand", "A", "--sources", "file,myspace",
                                       "--out", str(tmp_path / "d.yaml")])
    assert unknown.exit_code == 2 and "unknown source(s): myspace" in unknown.output
    assert not (tmp_path / "d.yaml").exists()


def test_the_readme_quick_start_for_your_own_brand_is_at_most_five_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Your own brand", 1)[1].split("\n\n", 2)[1]
    commands = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert 0 < len(commands) <= 5 and any("monitor init" in c for c in commands)
