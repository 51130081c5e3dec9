"""The tree keeps the architecture visible: data flows one way between the stages, components know only the
core's small interfaces, files stay small enough to have one reason to change, and the README's map of the
tree names every stage package."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support import ROOT

MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 200

STAGES = ["cases", "cli", "config", "delivery", "digest", "ops", "pipeline", "scoring", "store", "web"]

# What each part must never import (by module prefix). Lower layers never reach up into the stages that use
# them; a connector never sees storage or Slack, a sink never sees tweepy or praw.
FORBIDDEN = {
    "connectors": ["alerts", "replies", "monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest",
                   "monitor.scoring", "monitor.cases", "monitor.service", "monitor.cli", "slack_sdk", "slack_bolt"],
    "alerts": ["connectors", "replies", "monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest",
               "monitor.scoring", "monitor.cases", "monitor.service", "monitor.cli", "tweepy", "praw", "prawcore"],
    # A reply platform knows its network's client and the core's small interfaces, never storage, cases or Slack.
    "replies": ["connectors", "alerts", "monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest",
                "monitor.scoring", "monitor.cases", "monitor.service", "monitor.cli", "slack_sdk", "slack_bolt"],
    # The store may read the case state machine (pure rules), never the desk that works cases.
    "monitor.store": ["monitor.pipeline", "monitor.delivery", "monitor.digest", "monitor.scoring",
                      "monitor.cases.desk", "monitor.service", "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.cases": ["monitor.pipeline", "monitor.delivery", "monitor.digest", "monitor.scoring",
                      "monitor.service", "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.scoring": ["monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest",
                        "monitor.service", "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.pipeline": ["monitor.delivery", "monitor.digest", "monitor.service", "monitor.cli",
                         "connectors", "alerts", "replies"],
    "monitor.delivery": ["monitor.pipeline", "monitor.digest", "monitor.scoring", "monitor.service",
                         "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.digest": ["monitor.pipeline", "monitor.delivery", "monitor.scoring", "monitor.service",
                       "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.ops": ["monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest", "monitor.scoring",
                    "monitor.service", "monitor.cli", "connectors", "alerts", "replies"],
    "monitor.config": ["monitor.store", "monitor.pipeline", "monitor.delivery", "monitor.digest",
                       "monitor.scoring", "monitor.service", "monitor.cli", "connectors", "alerts", "replies"],
    # The inbox works cases through the desk and reads through the store, like Slack's buttons and the CLI; it
    # never reaches a network's client or a sink.
    "monitor.web": ["monitor.service", "monitor.cli", "monitor.delivery", "connectors", "alerts", "replies",
                    "slack_sdk", "slack_bolt", "tweepy", "praw"],
    "monitor.service": ["monitor.cli"],
}


def python_files(*parts: str) -> list[Path]:
    files = []
    for part in parts:
        files += [p for p in (ROOT / part).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions (lazy imports count too)."""
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(owner: str, names: set[str]) -> list[str]:
    rules = [(part, banned) for part, banned in FORBIDDEN.items() if _within(owner, part)]
    found = []
    for name in sorted(names):
        for part, banned in rules:
            hit = next((b for b in banned if _within(name, b)), None)
            if hit and not _within(name, part):
                found.append(f"{owner} imports {name} ({part} must not import {hit})")
    return found


SOURCES = python_files("monitor", "connectors", "alerts", "replies")


def test_the_rules_catch_an_import_that_breaks_the_flow(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import slack_sdk\n\ndef later():\n    from monitor.store.outbox import OutboxRepository\n")
    assert violations("connectors.probe", imported(probe)) == [
        "connectors.probe imports monitor.store.outbox (connectors must not import monitor.store)",
        "connectors.probe imports monitor.store.outbox.OutboxRepository (connectors must not import monitor.store)",
        "connectors.probe imports slack_sdk (connectors must not import slack_sdk)",
    ]
    assert violations("monitor.store.outbox", {"monitor.store.schema", "monitor.model"}) == []


@pytest.mark.parametrize("path", SOURCES, ids=[module_name(p) for p in SOURCES])
def test_imports_follow_the_data_flow(path):
    assert violations(module_name(path), imported(path)) == []


def _sizes(path: Path) -> list[tuple[str, int, int]]:
    text = path.read_text(encoding="utf-8")
    found = [(module_name(path), len(text.splitlines()), MAX_MODULE_LINES)]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            found.append((f"{module_name(path)}.{node.name}", node.end_lineno - node.lineno + 1, MAX_CLASS_LINES))
    return found


def test_modules_and_classes_stay_small():
    too_big = [f"{name}: {lines} lines (at most {limit})" for path in SOURCES if "migrations" not in path.parts
               for name, lines, limit in _sizes(path) if lines > limit]
    assert too_big == []


def test_every_stage_is_a_package_and_nothing_else_piles_up_at_the_top():
    packages = sorted(p.name for p in (ROOT / "monitor").iterdir()
                      if p.is_dir() and (p / "__init__.py").exists())
    assert packages == STAGES
    top_modules = sorted(p.stem for p in (ROOT / "monitor").glob("*.py") if p.stem != "__init__")
    # The shared vocabulary every stage and component uses, the HTTP plumbing every network source shares, and
    # the service that wires the stages.
    assert top_modules == ["clock", "components", "http_clients", "http_deadline", "markup", "model", "registry",
                           "service", "terms"]


def test_readme_maps_every_stage_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    mapped = set(re.findall(r"^ {6}([a-z_]+)/ ", section, re.M))  # the folders under "    monitor/" in the map
    assert mapped >= set(STAGES), f"README 'How it works' does not map: {sorted(set(STAGES) - mapped)}"
