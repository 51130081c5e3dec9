"""The `monitor` command: one module per family of commands, attached to the group in common.py."""
from monitor.cli import (  # noqa: F401 - importing attaches the commands
    cases,
    db,
    demo,
    digest,
    init,
    inspect,
    labels,
    learn,
    privacy,
    scoring,
    service,
    web,
)
from monitor.cli.common import cli


def main() -> None:
    cli(prog_name="monitor")
