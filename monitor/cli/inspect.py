"""Commands that read what the service stored: stats, dead alerts, export."""
from __future__ import annotations

import json
import sys

import click

from monitor.cli.common import (
    EXIT_CONFIG,
    NOTHING,
    RowId,
    brand_names,
    cli,
    load,
    now,
    open_store,
)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Mentions and complaints per source and brand, outbox state, source health."""
    store = open_store(ctx)
    store.schema.upgrade()
    figures = store.stats.summary()
    if as_json:
        click.echo(json.dumps(figures, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v),
                              indent=2))
        return
    click.echo("mentions:")
    for row in figures["mentions"] or [{"source": "-", "brand": "none yet", "mentions": 0, "complaints": 0,
                                        "held_back": 0}]:
        held = f" ({row['held_back']} too old to alert)" if row["held_back"] else ""
        click.echo(f"  {row['source']:<12} {row['brand']:<20} {row['mentions']:>8} mentions {row['complaints']:>7} "
                   f"complaints{held}")
    o = figures["outbox"]
    click.echo(f"alerts: {o['delivered']} delivered, {o['folded']} folded into a burst's spike, "
               f"{o['pending']} pending, {o['dead']} dead"
               + (f", {o['cancelled']} cancelled (post deleted)" if o["cancelled"] else ""))
    c = figures["cases"]
    click.echo(f"cases: {c['open']} open, {c['claimed']} claimed, {c['resolved']} resolved, "
               f"{c['dismissed']} not complaints")
    if figures["complaint_topics"]:
        click.echo(
            "complaint topics: " + ", ".join(f"{t['topic']} {t['complaints']}" for t in figures["complaint_topics"])
        )
    for source, t in figures["time_to_alert_last_hour"].items():
        click.echo(f"time to alert, last hour: {source} p50 {t['p50']:.1f} s, p95 {t['p95']:.1f} s "
                   f"({t['alerts']} alert(s) of posts read live)")
    for source, used in sorted(figures["usage_this_month"].items()):
        click.echo(f"API usage this month: {source} {used['posts_read']:,} posts in {used['requests']:,} requests")
    click.echo("sources:")
    for s in figures["sources"]:
        state = "UNHEALTHY" if s["unhealthy"] else ("failing" if s["consecutive_failures"] else "ok")
        last = s["last_success_at"].strftime("%Y-%m-%d %H:%M:%S UTC") if s["last_success_at"] else "never"
        line = (
            f"  {s['source']:<12} {state:<9} last success {last}, read {s['posts_read']}, stored {s['posts_stored']},"
            f" rejected {s['posts_rejected']}"
        )
        if s["consecutive_failures"]:
            line += f"; {s['consecutive_failures']} failure(s), last: {s['last_error']}"
        if s["paused_until"] and s["paused_until"] > now():
            line += f"; paused until {s['paused_until']:%Y-%m-%d %H:%M} UTC"
        click.echo(line)


@cli.group()
def alerts() -> None:
    """Dead-lettered alerts."""


@alerts.command("dead")
@click.pass_context
def alerts_dead(ctx: click.Context) -> None:
    """List alerts that gave up after their last attempt."""
    rows = open_store(ctx).outbox.dead_alerts()
    for r in rows:
        click.echo(f"{r['id']:>8}  {r['route']:<16} {r['brand']:<16} attempts {r['attempts']}: {r['last_error']}")
    if not rows:
        click.echo("no dead alerts")


@alerts.command("retry")
@click.option("--id", "ids", type=RowId("dead alert"), multiple=True,
              help="Only these outbox ids (default: all dead alerts).")
@click.pass_context
def alerts_retry(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Queue dead alerts for delivery again."""
    queued = open_store(ctx).outbox.retry_dead(list(ids) or None)
    click.echo(f"{len(queued)} alert(s) queued for delivery")
    missing = sorted(set(ids) - set(queued))
    if missing:
        click.echo(f"not dead alerts (unknown, or not dead-lettered): {', '.join(map(str, missing))}", err=True)
        sys.exit(1)


@cli.command("export")
@click.option("--since", required=True, help="First day (YYYY-MM-DD, digest timezone) or an ISO 8601 time.")
@click.option("--until", required=True, help="Last day, inclusive (YYYY-MM-DD), or an ISO 8601 time (exclusive).")
@click.option("--brand", help="Only this brand.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
@click.pass_context
def export_mentions(ctx: click.Context, since: str, until: str, brand: str | None, fmt: str, output) -> None:
    """Write stored mentions with their scores, oldest first, for analysts."""
    from monitor.digest import export

    config = load(ctx, NOTHING)
    names = brand_names(config, brand)
    tz = config.root.digest.timezone
    try:
        start, end = _instant(since, tz, end_of_day=False), _instant(until, tz, end_of_day=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if start >= end:
        click.echo(f"--since ({since}) must come before --until ({until})", err=True)
        sys.exit(EXIT_CONFIG)
    store = open_store(ctx)
    rows = export.mention_rows(store.mentions, start, end, names if brand else None)
    count = (export.write_csv if fmt == "csv" else export.write_jsonl)(rows, output)
    click.echo(f"{count} mention(s) exported", err=True)


def _instant(value: str, tz: str, end_of_day: bool):
    from datetime import date, datetime, timedelta

    from monitor.digest.figures import day_bounds

    if len(value) == 10:
        day = date.fromisoformat(value)
        return day_bounds(day + timedelta(days=1) if end_of_day else day, tz)[0]
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        from zoneinfo import ZoneInfo

        when = when.replace(tzinfo=ZoneInfo(tz))
    return when
