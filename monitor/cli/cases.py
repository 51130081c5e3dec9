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
    case_desk,
    cli,
    load,
    now,
    open_store,
)

STATUSES = ["open", "claimed", "resolved", "dismissed", "gone"]


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
@click.argument("action", type=click.Choice(["claim", "resolve", "dismiss", "reopen", "reply", "approve", "reject"]))
@click.option("--as", "actor", required=True, help="Who is acting (your name); recorded in the case history.")
@click.option("--text", help="reply: the words to post in public.")
@click.option("--template", help="reply: a saved reply from replies.templates ({author} and {brand} filled in).")
@click.option("--dry-run", "dry_run", is_flag=True, help="reply: show what would be posted, where and as whom; "
              "post nothing.")
@click.option("--off-platform", "off_platform", is_flag=True, help="reply: record that you answered in the "
              "network's own app (the case's response), posting nothing.")
@click.option("--draft", "draft", type=RowId("draft"), help="approve/reject: which waiting draft (default: the "
              "case's oldest).")
@click.pass_context
def case(ctx: click.Context, case_id: int, action: str, actor: str, text: str | None, template: str | None,
         dry_run: bool, off_platform: bool, draft: int | None) -> None:
    """Claim, resolve, dismiss (not a complaint), reopen, or answer a case in public (reply; approve or reject a
    draft that waits for an approver); its alert messages follow."""
    from monitor.model import CaseAction

    if not actor.strip():
        click.echo("--as needs a name", err=True)
        sys.exit(EXIT_CONFIG)
    _check_reply_options(action, text, template, dry_run, off_platform, draft)
    config = load(ctx, ("sinks", "replies") if action in REPLY_ACTIONS else ("sinks",))
    store = open_store(ctx, ("sinks",))
    store.schema.upgrade()
    desk, sinks = case_desk(config, store)
    if action in REPLY_ACTIONS:
        _reply(config, store, desk, sinks, case_id, action, actor.strip(), text, template, dry_run, off_platform, draft)
    result = desk.act(CaseAction(case_id, action, actor.strip(), "cli"))
    click.echo(result.message, err=not result.changed)
    sys.exit(0 if result.changed else 1)


REPLY_ACTIONS = ("reply", "approve", "reject")


def _check_reply_options(action, text, template, dry_run, off_platform, draft) -> None:
    problem = None
    if action != "reply" and (template or dry_run or off_platform):
        problem = "--template, --dry-run and --off-platform go with reply"
    elif action not in REPLY_ACTIONS and (text or draft):
        problem = "--text and --draft go with reply, approve and reject"
    elif action == "reply" and not off_platform and bool(text) == bool(template):
        problem = "reply needs --text or --template (one of them)"
    if problem:
        click.echo(problem, err=True)
        sys.exit(EXIT_CONFIG)


def _reply(config, store, desk, sinks, case_id, action, actor, text, template, dry_run, off_platform, draft):
    from monitor.cases.replying import ReplyDesk
    from monitor.model import ReplyRequest

    kind = {"reply": "off_platform" if off_platform else ("preview" if dry_run else "send")}.get(action, action)
    replies = ReplyDesk(config.root.replies, config.reply_accounts,
                        config.sources, store.replies, desk, sinks)
    try:
        result = replies.handle(ReplyRequest(case_id, actor, "cli", kind, text, template, draft))
    finally:
        replies.close()
    click.echo(result.message, err=not result.ok)
    if result.off_platform and result.link:
        click.echo(f"open the post: {result.link}\nyour draft:\n{result.draft}", err=True)
    sys.exit(0 if result.ok else 1)
