"""The README's CLI reference tells the truth: every command it lists exists, with every option it shows."""
from __future__ import annotations

import re

import click
import pytest

from monitor.cli import cli
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = README.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
ROWS = [m.group(1) for m in re.finditer(r"^\| `(monitor [^`]+)` \|", REFERENCE, re.M)]


def command_of(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command a documented line names (groups followed), and the words after it."""
    command: click.Command = cli
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        command, words = command.commands[words[0]], words[1:]
    return command, words


def leaves(group: click.Group, prefix: str = "") -> set[str]:
    """Every runnable command, as typed: "run", "alerts retry", ..."""
    found = set()
    for name, command in group.commands.items():
        found |= leaves(command, f"{prefix}{name} ") if isinstance(command, click.Group) else {prefix + name}
    return found


def test_the_reference_lists_every_command():
    listed = {" ".join(w for w in row.split()[1:] if re.fullmatch(r"[a-z][a-z-]*", w)) for row in ROWS}
    missing = [name for name in sorted(leaves(cli))
               if not any(line == name or line.startswith(name + " ") for line in listed)]
    assert listed and missing == []


@pytest.mark.parametrize("row", ROWS)
def test_every_documented_option_exists(row):
    command, rest = command_of(row.split()[1:])
    assert not isinstance(command, click.Group), f"{row}: names a group, not a command"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    shown = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", " ".join(rest)))
    assert shown <= known, f"{row}: {sorted(shown - known)} not options of `monitor {command.name}`"
