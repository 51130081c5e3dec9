"""`monitor digest`: a day's digest per brand, to stdout, files or Slack."""
from __future__ import annotations

import sys
from datetime import date
from typing import Optional

import click

from monitor.cli.common import EXIT_CONFIG, cli, load, open_store


@cli.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Day to report (default: yesterday).")
@click.option("--brand", help="Only this brand.")
@click.option("--to", "targets", type=click.Choice(["stdout", "file", "slack"]), multiple=True,
              help="Where to send it (repeatable; default stdout).")
@click.option("--force", is_flag=True, help="Send again even if this day's digest was already sent there.")
@click.pass_context
def digest(ctx: click.Context, day, brand: Optional[str], targets: tuple[str, ...], force: bool) -> None:
    """The daily digest per brand: on stdout, as an HTML report + CSV under data/digests/, or to Slack."""
    from monitor.digest.runner import DigestRunner, yesterday

    config = load(ctx)
    names = [b.name for b in config.brands if not brand or b.name.lower() == brand.lower()]
    if not names:
        click.echo(f"no brand named {brand!r} in the configuration", err=True)
        sys.exit(EXIT_CONFIG)
    if "slack" in targets and not config.root.digest.sink:
        click.echo("--to slack needs digest.sink (and digest.channel) in the configuration", err=True)
        sys.exit(EXIT_CONFIG)
    store = open_store(ctx)
    store.schema.upgrade()
    sinks = {n: c.cls(n, c.config) for n, c in config.enabled_sinks().items()} if "slack" in targets else {}
    when: date = day.date() if day else yesterday(config.root.digest.timezone)
    chosen = list(targets) or ["stdout"]
    runner = DigestRunner(config, sinks, db=store.db, mentions=store.mentions, runs=store.digest_runs)
    sent = runner.run(day=when, brands=names, targets=chosen, force=force, out=sys.stdout)
    expected = len(names) * len(chosen)
    if sent < expected:
        click.echo(f"{expected - sent} digest(s) not sent: already sent (use --force) or failed (see the log)",
                   err=True)
    sys.exit(0 if sent == expected else 1)
