"""Docs as tests: every command the README shows in Quick start, the CLI reference and Cases runs as shown, on a
temporary config and database, and exits as the README says it does. An example that stops working fails here.

Reference rows are syntax (`monitor case ID claim|resolve ...`): each is run once with its placeholders filled
from the scenario (a case and a mention that exist, a file of posts, a day with posts), every optional part
included and the first of each choice taken."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import timedelta

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.clock import utcnow
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def shown_lines(text: str) -> list[str]:
    """Command lines of the indented code blocks: `monitor ...`, `.venv/bin/monitor ...`, `make ...`."""
    return [line.strip() for line in text.splitlines()
            if re.match(r"^ {4}(monitor|\.venv/bin/monitor|make) ", line)]


REFERENCE_ROWS = re.findall(r"^\| `(monitor [^`]+)` \|", section("CLI reference"), re.M)
# What the README says these exit with in this scenario, and why.
EXPECTED_EXIT = {
    "monitor learn [--dry-run] [--folds 5] [--min-labels 40]": 1,  # "exit 1 when there are too few labels"
    "monitor learn --rollback": 1,           # "exit 1 when no model is active": none was ever trained
    "monitor alerts retry [--id N ...]": 1,  # "exit 1 naming the ids that are unknown or not dead": 1 was delivered
    # "exit 1 when nothing was posted": the samples come from a file without `platform`, no network to answer on
    "monitor case ID reply --as NAME --text TEXT [--dry-run]": 1,
    "monitor case ID reply --as NAME --template NAME": 1,   # the scenario has no replies.templates
    "monitor case ID approve\\|reject --as NAME [--draft N]": 1,  # "exit 1 when no draft waits"
}
NOT_RUN = {"monitor run": "runs until stopped: test_cli.py stops it with SIGTERM",
           "monitor web [--listen HOST:PORT]": "serves until stopped: test_web_cli.py stops it with SIGTERM"}
PASSWORD = "a long enough password\n"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The bundled samples stored once with every complaint alerted (so case 42 exists), console alerts."""
    home = tmp_path_factory.mktemp("readme")
    config = {"database": {"url": f"sqlite:///{home / 'monitor.db'}"},
              "brands": [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"], "own_accounts": ["pixelcart"]},
                         {"name": "Northwind Air", "terms": ["northwind", "@northwindair"]}],
              "sources": {"samples": {"type": "file", "path": str(ROOT / "samples" / "mentions.jsonl"),
                                      "shift_to_now": True}},
              "alerts": {"max_age": 0, "sinks": {"console": {"type": "console"}},
                         "routes": [{"name": "support", "sink": "console"}]},
              "digest": {"directory": str(home / "digests")}}
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    posts = [{"text": "pixelcart charged me twice and support never answers"}, {"text": "love my pixelcart order"}]
    (home / "posts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    (home / "my-export.jsonl").write_text((home / "posts.jsonl").read_text())
    (home / "labels.jsonl").write_text('{"text": "ordered on the 3rd, still nothing", "complaint": true}\n')
    seeded = run(home, ["run", "--once"])
    assert seeded.exit_code == 0, seeded.output
    return home


def run(home, args: list[str], input: str | None = None):
    return CliRunner().invoke(cli, ["--config", str(home / "config.yaml"), *args], input=input)


def concrete(row: str, home) -> list[str]:
    """A reference row's syntax as one runnable command line (without the leading `monitor`)."""
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    name = " ".join(w for w in row.split()[1:3] if re.fullmatch(r"[a-z][a-z-]*", w))
    files = {"score": home / "posts.jsonl", "labels import": home / "labels.jsonl", "demo": home / "posts.jsonl"}
    text = re.sub(r"\[([^\]]*?)( \.\.\.)?\]", r"\1", row)            # optional parts are included once
    text = re.sub(r"(\S+?)(?:\\?\|[^\s\]]+)+", r"\1", text)           # a|b|c -> a
    words = shlex.split(text)[1:]
    fill = {"ID": "1", "MENTION_ID": "1", "N": "1", "YYYY-MM-DD": yesterday, "DIR": str(home / "demo-data"),
            "TEXT": "Sorry about this, please DM us", "HANDLE": "nobody_in_the_samples"}
    out, previous = [], ""
    for word in words:
        if word == "NAME":
            word = {"--brand": "Pixelcart", "--route": "support"}.get(previous, "ann")
        elif word == "FILE":
            word = str(home / f"out-{len(out)}.txt") if previous == "-o" else str(files[name.split(" [")[0]])
        elif word == "DAY":  # "DAY|TIME" was cut to DAY
            word = yesterday
        out.append(fill.get(word, word))
        previous = word
    return out


@pytest.mark.parametrize("row", REFERENCE_ROWS)
def test_every_reference_row_runs_as_documented(scenario, row):
    if row in NOT_RUN:
        pytest.skip(NOT_RUN[row])
    args = concrete(row, scenario)
    if args[0] == "init":  # it asks what its flags do not say; the row lists the flags
        args += ["--non-interactive", "--brand", "Acme", "--terms", "acme", "--out", str(scenario / "init.yaml")]
    if args[:2] in (["users", "password"], ["users", "remove"]):  # its user exists, whichever rows ran before
        run(scenario, ["users", "add", args[2], "--role", "agent", "--password-stdin"], input=PASSWORD)
    result = run(scenario, args, input=PASSWORD if "--password-stdin" in args else None)
    expected = EXPECTED_EXIT.get(row, 0)
    assert result.exit_code == expected, f"monitor {shlex.join(args)}:\n{result.output}"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("line", shown_lines(section("CLI reference")) + shown_lines(section("Cases")))
def test_every_example_command_runs(scenario, line):
    words = shlex.split(line.split(" | ", 1)[0])  # a pipe into another tool: the monitor part
    words = [str(scenario / w) if (scenario / w).is_file() else w for w in words[1:]]
    result = run(scenario, words)
    assert result.exit_code == 0, f"{line}:\n{result.output}"
    if words[0] == "case":  # "the Slack message follows the change": the case itself changed first
        case_id, action, agent = int(words[1]), words[2], words[-1]
        status = {"claim": "claimed", "resolve": "resolved"}[action]
        listed = [json.loads(row) for row in run(scenario, ["cases", "--json", "--status", status]).output.splitlines()]
        case = next(c for c in listed if c["id"] == case_id)
        assert case["claimed_by"] == agent and (action != "resolve" or case["closed_by"] == agent)


def test_quick_start_make_targets_exist_and_run_what_the_readme_says():
    lines = shown_lines(section("Quick start"))
    targets = [shlex.split(line)[1:] for line in lines if line.startswith("make ")]
    assert ["run"] in targets and ["test"] in targets and ["install"] in targets
    for target in targets:
        dry = subprocess.run(["make", "-n", *target], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert dry.returncode == 0, f"make {' '.join(target)}: {dry.stderr}"
    dry = subprocess.run(["make", "-n", "run", "CONFIG=my-config.yaml"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert "--config my-config.yaml run" in dry.stdout


def test_quick_start_own_brand_block_runs_as_shown(tmp_path):
    """The five lines, in a fresh folder: init (Enter at each question), the user's export copied where the
    config reads it, check-config, and what `make run CONFIG=...` starts, once."""
    lines = [line for line in shown_lines(section("Quick start")) if "monitor" in line]
    init_line, check_line = lines[0], lines[1]
    assert " init " in init_line and "check-config" in check_line
    here = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        made = here.invoke(cli, shlex.split(init_line)[1:], input="\n" * 5, env={"SLACK_BOT_TOKEN": ""})
        assert made.exit_code == 0, made.output
        out = shlex.split(init_line)[shlex.split(init_line).index("--out") + 1]
        posts = [{"id": "1", "text": "@acmebank froze my card and 3 calls later nobody can tell me why",
                  "created_at": utcnow().isoformat()}]
        with open("data/posts.jsonl", "w") as handle:  # the README's `cp ~/exports/... data/posts.jsonl`
            handle.write("".join(json.dumps(p) + "\n" for p in posts))
        checked = here.invoke(cli, shlex.split(check_line)[1:])
        assert checked.exit_code == 0, checked.output
        ran = here.invoke(cli, ["--config", out, "run", "--once"])
        assert ran.exit_code == 0 and "Acme Bank" in ran.output and "froze my card" in ran.output, ran.output
