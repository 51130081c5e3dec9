"""`monitor cases` and `monitor case`: the support queue for teams outside Slack and for scripts; the same
state machine as the buttons, and the Slack message follows the change."""
from __future__ import annotations

import json
import re
import sys
from datetime import timedelta

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

STATUSES = ["open", "claimed", "resolved", "dismissed"]


def _age(value: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", value.strip())
    if not match:
        raise click.BadParameter(f"expected an age like 30m, 4h or 2d, got {value!r}")
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]: int(match.group(1))})


@cli.command("cases")
@click.option("--status", type=click.Choice(STATUSES), help="Only cases in this state.")
@click.option("--brand", help="Only this brand.")
@click.option("--older-than", "older_than", help="Only cases opened longer ago than this (30m, 4h, 2d).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per case.")
@click.pass_context
def cases(ctx: click.Context, status: str | None, brand: str | None, older_than: str | None,
          as_json: bool) -> None:
    """List cases, oldest first: state, who has them, and the post."""
    config = load(ctx, NOTHING)
    names = brand_names(config, brand) if brand else [None]
    before = now() - _age(older_than) if older_than else None
    store = open_store(ctx)
    store.schema.upgrade()
    rows = [row for name in names for row in store.cases.find(status, name, before)]
    for row in rows:
        if as_json:
            click.echo(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                                  ensure_ascii=False))
            continue
        who = row["closed_by"] or row["claimed_by"] or ""
        text = " ".join(row["text"].split()) if row["text"] else "(a spike: its thread's complaints)"
        click.echo(f"{row['id']:>6}  {row['status']:<9} {row['brand']:<16} {row['opened_at']:%Y-%m-%d %H:%M} UTC  "
                   f"{who:<14} {row['topic'] or 'spike':<14} {text[:70]}")
    if not rows and not as_json:
        click.echo("no cases match", err=True)


@cli.command("case")
@click.argument("case_id", type=RowId("case"))
@click.argument("action", type=click.Choice(["claim", "resolve", "dismiss", "reopen"]))
@click.option("--as", "actor", required=True, help="Who is acting (your name); recorded in the case history.")
@click.pass_context
def case(ctx: click.Context, case_id: int, action: str, actor: str) -> None:
    """Claim, resolve, dismiss (not a complaint) or reopen a case; its alert messages follow."""
    from monitor.cases.desk import CaseDesk
    from monitor.model import CaseAction

    if not actor.strip():
        click.echo("--as needs a name", err=True)
        sys.exit(EXIT_CONFIG)
    config = load(ctx, ("sinks",))
    store = open_store(ctx, ("sinks",))
    store.schema.upgrade()
    sinks = {n: c.cls(n, c.config) for n, c in config.enabled_sinks().items()}
    result = CaseDesk(store.cases, store.outbox, sinks, store.bursts).act(
        CaseAction(case_id, action, actor.strip(), "cli")
    )
    click.echo(result.message, err=not result.changed)
    sys.exit(0 if result.changed else 1)
