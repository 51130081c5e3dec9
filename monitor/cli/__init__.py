"""The `monitor` command: one module per family of commands, attached to the group in common.py."""
from monitor.cli import cases, db, digest, inspect, labels, learn, scoring, service  # noqa: F401 - importing attaches the commands
from monitor.cli.common import cli


def main() -> None:
    cli(prog_name="monitor")
