"""`monitor digest`: a day's digest per brand, to stdout, files or Slack."""
from __future__ import annotations

import sys
from datetime import date
from zoneinfo import ZoneInfo

import click

from monitor import clock
from monitor.cli.common import EXIT_CONFIG, NOTHING, brand_names, cli, load, open_store


@cli.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Day to report (default: yesterday).")
@click.option("--brand", help="Only this brand.")
@click.option("--to", "targets", type=click.Choice(["stdout", "file", "slack"]), multiple=True,
              help="Where to send it (repeatable; default stdout).")
@click.option("--force", is_flag=True, help="Send again even if this day's digest was already sent there.")
@click.option("--weekly", is_flag=True, help="The 7 days ending with --date (default: yesterday) against the 7 before.")
@click.pass_context
def digest(ctx: click.Context, day, brand: str | None, targets: tuple[str, ...], force: bool, weekly: bool) -> None:
    """The daily digest per brand: on stdout, as an HTML report + CSV under data/digests/, or to Slack."""
    from monitor.digest.runner import yesterday
    from monitor.service import digest_runner

    config = load(ctx, ("sinks",) if "slack" in targets else NOTHING)
    names = brand_names(config, brand)
    if "slack" in targets and not config.root.digest.sink:
        click.echo("--to slack needs digest.sink (and digest.channel) in the configuration", err=True)
        sys.exit(EXIT_CONFIG)
    store = open_store(ctx)
    store.schema.upgrade()
    sinks = {n: c.cls(n, c.config) for n, c in config.enabled_sinks().items()} if "slack" in targets else {}
    tz = config.root.digest.timezone
    when: date = day.date() if day else yesterday(tz)
    if when > clock.today(tz):
        click.echo(f"--date {when} is in the future ({tz}): nothing to report yet", err=True)
        sys.exit(EXIT_CONFIG)
    if not _has_mentions(store, names, when, tz, 7 if weekly else 1):
        sys.exit(1)
    chosen = list(targets) or ["stdout"]
    runner = digest_runner(config, store, sinks)
    sent = runner.run(day=when, brands=names, targets=chosen, force=force, out=sys.stdout, weekly=weekly)
    expected = len(names) * len(chosen)
    if sent < expected:
        click.echo(f"{expected - sent} digest(s) not sent: already sent (use --force) or failed (see the log)",
                   err=True)
    sys.exit(0 if sent == expected else 1)


def _has_mentions(store, names: list[str], day: date, tz: str, days: int = 1) -> bool:
    """Says so when the period has nothing to report, and which days do (the samples are from another week)."""
    from datetime import timedelta

    from monitor.digest.figures import day_bounds

    start, end = day_bounds(day - timedelta(days=days - 1), tz)[0], day_bounds(day, tz)[1]
    if store.mentions.count_between(start, end, names):
        return True
    first, last = store.mentions.created_range(names)
    stored = (f"stored mentions run from {first.astimezone(ZoneInfo(tz)):%Y-%m-%d} to "
              f"{last.astimezone(ZoneInfo(tz)):%Y-%m-%d}" if first else "no mentions are stored yet")
    click.echo(f"no mentions of {', '.join(names)} on {day} ({tz}): {stored}", err=True)
    return False
