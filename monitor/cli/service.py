"""Commands that run the service or check what it would do: run, check-config, test-alert."""
from __future__ import annotations

import logging
import os
import sys

import click

from monitor.cli.common import (
    EXIT_CONFIG,
    cli,
    database_down,
    load,
    open_store,
    peek_database,
)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every enabled source once, deliver alerts and exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Run the service in the foreground (what systemd or a container runs)."""
    serve(load(ctx), open_store(ctx), once)


def serve(config, store, once: bool, before_exit=lambda: None) -> None:
    """Runs the service until stopped (or one poll of each source with ``once``); ``before_exit`` runs however
    it ends."""
    from sqlalchemy.exc import OperationalError

    from monitor.service import MonitorService

    service = MonitorService(config, store)
    finished = True
    try:
        service.prepare()
        if once:
            results = service.run_once()
            failed = [r for r in results if r.error]
            sys.exit(1 if failed and len(failed) == len(results) else 0)
        finished = service.run_forever()
    except OperationalError as exc:
        database_down(exc)
    finally:
        service.close()
        before_exit()
    if not finished:
        # A job still in a library call would hold the interpreter's exit (it joins the scheduler's threads):
        # the grace is over, and everything stored was committed.
        logging.shutdown()
        os._exit(0)


@cli.command("check-config")
@click.option("--probe", is_flag=True, help="Also make one read-only request per enabled source, sink and reply "
              "account, and say which credential fails (exit 1 if any does).")
@click.pass_context
def check_config(ctx: click.Context, probe: bool) -> None:
    """Validate the configuration and show what will run."""
    from monitor.config.values import duration_text
    from monitor.store import make_url_safe

    config = load(ctx)
    root = config.root
    out = [f"configuration OK: {config.path}",
           f"database: {make_url_safe(config.database_url)}",
           "brands:"]
    for b in root.brands:
        extra = f"; excludes {len(b.exclude)} term(s)" if b.exclude else ""
        own = f"; own accounts: {', '.join(b.own_accounts)}" if b.own_accounts else ""
        out.append(f"  {b.name}: {', '.join(b.terms)}{extra}{own}")
    out.append("sources:")
    usage = _usage_this_month(config)
    for name, comp in config.sources.items():
        state = "enabled" if comp.config.enabled else "disabled"
        every = f", every {duration_text(comp.config.interval)}" if comp.config.enabled else ""
        budget = comp.config.monthly_post_budget
        metered = (usage or {}).get(name)  # only API sources count their reads per month
        reads = ""
        if metered is not None or budget:
            read = "unknown (database unreachable)" if usage is None else f"{(metered or {}).get('posts_read', 0):,}"
            reads = f"; API reads this month: {read}" + (f" of {budget:,}" if budget else "")
        what = f"; {_reads(name, comp, config)}" if comp.config.enabled else ""
        out.append(f"  {name} ({comp.type_name}): {state}{every}{what}{reads}")
    if not config.sources:
        out.append("  none: nothing will be polled")
    out.append("alert sinks:")
    for name, comp in config.sinks.items():
        extra = comp.cls.summary(comp.config)
        out.append(f"  {name} ({comp.type_name}): {'enabled' if comp.config.enabled else 'disabled'}"
                   + (f"; {extra}" if extra else ""))
    out.append("routes:")
    for r in config.routes():
        where = [f"brands={','.join(r.brands)}" if r.brands else "", f"topics={','.join(r.topics)}" if r.topics else "",
                 f"priority>={r.min_priority:g}" if r.min_priority else "", "fallback" if r.fallback else ""]
        target = f"{r.sink}" + (f" -> {r.channel}" if r.channel else "")
        out.append(f"  {r.name}: {target} {' '.join(w for w in where if w)}".rstrip())
    out += _replies_summary(config)
    out.append(_retention_summary(config))
    d = root.digest
    weekly = f", weekly on {d.weekly.capitalize()}s" if d.weekly else ""
    out.append(f"digest: {'daily at ' + d.time + ' ' + d.timezone + weekly if d.enabled else 'disabled'}")
    age = root.alerts.max_age
    out.append("alerts: " + (f"complaints posted less than {duration_text(age)} ago alert; older ones are stored "
                             "and counted but held back" if age else "every complaint alerts, whatever its age"))
    out.append(f"delivery: every {duration_text(root.delivery.interval)}, dead-letter after "
               f"{root.delivery.max_attempts} attempts")
    out.append(_web_summary(config))
    out += [f"warning: {warning}" for warning in config.warnings]
    click.echo("\n".join(out))
    if probe:
        from monitor.cli.probe import probe_all

        lines, failed = probe_all(config)
        click.echo("\n".join(lines))
        sys.exit(1 if failed else 0)


def _web_summary(config) -> str:
    web = config.root.web
    users = peek_database(config.database_url, lambda store: len(store.users.all()), missing=0, unreachable=None)
    who = "users unknown (database unreachable or not upgraded yet)" if users is None else f"{users} user(s)" + (
        "; add one with `monitor users add NAME --role agent`" if users == 0 else "")
    where = f"served by monitor run on {web.listen}" if web.enabled else f"`monitor web` serves it on {web.listen}"
    return f"web inbox: {where}" + (f", opened at {web.base_url}" if web.base_url else "") + f"; {who}"


def _retention_summary(config) -> str:
    r = config.root.retention

    def days(value) -> str:
        return f"{value} days" if value else "forever"

    lookups = {name: comp.cls.lookup_batch for name, comp in config.enabled_sources().items() if comp.cls.lookup_batch}
    check = "no nightly deletion lookup"
    if r.deletion_check_days and lookups:
        check = (f"deleted posts looked up nightly over the last {r.deletion_check_days} day(s), metered like "
                 f"reads: {_lookup_cost(config, lookups, r.deletion_check_days)}")
    return (f"retention: complaints {days(r.mentions)}, other posts {days(r.non_complaints)}, replies to closed "
            f"cases {days(r.cases_closed)}, bare-text labels {days(r.labels)}; purge at {r.time}; {check}")


def _lookup_cost(config, lookups: dict[str, int], days: int) -> str:
    """What tonight's deletion check would cost per source, from what is stored now."""
    from datetime import timedelta

    from monitor.clock import utcnow

    since = utcnow() - timedelta(days=days)
    stored = peek_database(config.database_url, lambda store: {
        name: len(store.mentions.recent_complaints(name, since)) for name in lookups}, missing={}, unreachable=None)
    parts = []
    for name, batch in lookups.items():
        if stored is None:
            parts.append(f"{name} (database unreachable)")
            continue
        posts = stored.get(name, 0)
        parts.append(f"{name} {posts} post(s) in {-(-posts // batch)} request(s)")
    return ", ".join(parts)


def _replies_summary(config) -> list[str]:
    replies = config.root.replies
    if not replies.accounts:
        return ["replies: no reply accounts: agents answer in each network's app and mark the case answered"]
    approval = replies.require_approval
    rule = ("every reply needs an approver" if approval is True else "no approval needed" if approval is False
            else "approval for " + ", ".join(b for b, on in approval.items() if on))
    saved = len(replies.templates)
    lines = [f"replies: {rule}; {len(replies.approvers)} approver(s); {saved} saved repl{'y' if saved == 1 else 'ies'}"]
    lines += [f"  {a.brand} on {a.platform} ({a.path})" for a in config.reply_accounts]
    return lines


def _reads(name: str, component, config) -> str:
    """What the source reads, in its own words (building it opens no connection)."""
    try:
        connector = component.cls(name, component.config, config.brands)
    except Exception as exc:  # noqa: BLE001 - the listing must go on; running it will say what is wrong
        return f"cannot be built: {type(exc).__name__}: {exc}"[:200]
    try:
        return connector.describe()
    finally:
        connector.close()


def _usage_this_month(config) -> dict | None:
    """Monthly reads per source; {} before the database exists, None when it cannot be read."""
    return peek_database(config.database_url, lambda store: store.usage.month(), missing={}, unreachable=None)


@cli.command("test-alert")
@click.option("--route", "route_name", help="Only this route (default: every route).")
@click.pass_context
def test_alert(ctx: click.Context, route_name: str | None) -> None:
    """Send a test alert through the configured routes and say what each sink answered."""
    from monitor.clock import utcnow
    from monitor.components import DeliveryError
    from monitor.model import Alert

    config = load(ctx, ("sinks",))
    routes = [r for r in config.routes() if not route_name or r.name == route_name]
    if not routes:
        click.echo(f"no route named {route_name!r}", err=True)
        sys.exit(EXIT_CONFIG)
    sinks = {name: c.cls(name, c.config) for name, c in config.enabled_sinks().items()}
    failed = 0
    for i, route in enumerate(routes, 1):
        alert = Alert(outbox_id=-i, route=route.name, channel=route.channel, attempt=1, mention_id=0, source="test",
                      brand=config.brands[0].name, external_id="test", author="complaint-monitor", author_reach=0,
                      url=None, text="This is a test alert from the complaint monitor: if you can read it, the "
                      f"route {route.name!r} works.", created_at=utcnow(), compound=0.0, confidence=1.0,
                      reasons=[{"rule": "test", "label": "test alert"}], topic="test", priority=0.0, sink=route.sink)
        try:
            ref = sinks[route.sink].send(alert)
            click.echo(f"{route.name}: sent via {route.sink} ({ref})")
        except DeliveryError as exc:
            failed += 1
            click.echo(f"{route.name}: FAILED via {route.sink}: {exc}")
    for sink in sinks.values():
        sink.close()
    sys.exit(1 if failed else 0)
