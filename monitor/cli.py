"""The `monitor` command. Heavy libraries load inside commands so `monitor --help` stays fast."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import click

EXIT_CONFIG = 2


def _load(ctx: click.Context):
    """The validated config, or exit 2 with the problems and no traceback."""
    from monitor.config import ConfigError, load_config
    from monitor.logs import setup_logging
    from monitor.redact import redactor

    if "config" in ctx.obj:
        return ctx.obj["config"]
    try:
        config = load_config(ctx.obj["config_path"])
    except ConfigError as exc:
        click.echo(redactor(exc.render()), err=True)
        sys.exit(EXIT_CONFIG)
    setup_logging(ctx.obj.get("log_level") or config.root.logging.level, config.root.logging.json_lines)
    ctx.obj["config"] = config
    return config


def _store(ctx: click.Context):
    from monitor.storage import MentionStore, StoreError

    config = _load(ctx)
    try:
        return MentionStore(config.database_url)
    except StoreError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def _database_down(exc: Exception) -> None:
    from monitor.redact import redactor

    click.echo(redactor(f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"), err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="MONITOR_CONFIG", default="config.yaml", show_default=True,
              help="Configuration file (env: MONITOR_CONFIG).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Override logging.level from the config.")
@click.version_option(package_name="complaint-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: Optional[str]) -> None:
    """Watch public mentions of your brands, flag complaints, alert your support team."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, log_level=log_level.upper() if log_level else None)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every enabled source once, deliver alerts and exit.")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Run the service in the foreground (what systemd or a container runs)."""
    from sqlalchemy.exc import OperationalError

    from monitor.service import MonitorService

    config = _load(ctx)
    service = MonitorService(config, _store(ctx))
    try:
        service.prepare()
        if once:
            results = service.run_once()
            failed = [r for r in results if r.error]
            sys.exit(1 if failed and len(failed) == len(results) else 0)
        service.run_forever()
    except OperationalError as exc:
        _database_down(exc)
    finally:
        service.close()


@cli.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the configuration and show what will run."""
    from monitor.storage import make_url_safe

    config = _load(ctx)
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
        every = f", every {comp.config.interval:g}s" if comp.config.enabled else ""
        budget = comp.config.monthly_post_budget
        read = usage.get(name, {}).get("posts_read", 0) if usage is not None else None
        reads = "" if read is None and not budget else \
            f"; read this month: {'unknown' if read is None else f'{read:,}'}" + (f" of {budget:,}" if budget else "")
        out.append(f"  {name} ({comp.type_name}): {state}{every}{reads}")
    if not config.sources:
        out.append("  none: nothing will be polled")
    out.append("alert sinks:")
    for name, comp in config.sinks.items():
        out.append(f"  {name} ({comp.type_name}): {'enabled' if comp.config.enabled else 'disabled'}")
    out.append("routes:")
    for r in config.routes():
        where = [f"brands={','.join(r.brands)}" if r.brands else "", f"topics={','.join(r.topics)}" if r.topics else "",
                 f"priority>={r.min_priority:g}" if r.min_priority else "", "fallback" if r.fallback else ""]
        target = f"{r.sink}" + (f" -> {r.channel}" if r.channel else "")
        out.append(f"  {r.name}: {target} {' '.join(w for w in where if w)}".rstrip())
    d = root.digest
    out.append(f"digest: {'daily at ' + d.time + ' ' + d.timezone if d.enabled else 'disabled'}")
    out.append(f"delivery: every {root.delivery.interval:g}s, dead-letter after {root.delivery.max_attempts} attempts")
    click.echo("\n".join(out))


def _usage_this_month(config) -> Optional[dict]:
    """Monthly reads per source, or None when the database is missing or unreachable (check-config works offline)."""
    from monitor.storage import MentionStore

    url = config.database_url
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return {}
    try:
        store = MentionStore(url)
        try:
            return store.usage()
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - best effort: validation must not need the database
        return None


@cli.command()
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@click.option("--brand-reach", "reach", type=int, default=None, help="Reach to assume when a post has none.")
@click.option("--only-complaints", is_flag=True, help="Print only posts flagged as complaints.")
@click.pass_context
def score(ctx: click.Context, source, reach: Optional[int], only_complaints: bool) -> None:
    """Score posts from a file or stdin: JSON lines with "text", or plain text lines.

    Prints one JSON line per post with sentiment, complaint flag, reasons, topic and
    priority. Uses the scoring and topics sections of the config when it exists.
    """
    from monitor.config import ScoringConfig
    from monitor.normalize import Rejected, clean_text
    from monitor.scoring import ComplaintScorer

    if Path(ctx.obj["config_path"]).exists():
        config = _load(ctx)
        scorer = ComplaintScorer(config.root.scoring, config.root.topics)
    else:
        scorer = ComplaintScorer(ScoringConfig())
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        record = _score_input(line)
        try:
            text = clean_text(record.get("text"))
        except Rejected as why:
            click.echo(json.dumps({"line": number, "error": str(why)}), err=True)
            continue
        post_reach = record.get("author_reach", record.get("followers", reach or 0))
        result = scorer.score(text, int(post_reach) if str(post_reach).isdigit() else 0)
        if only_complaints and not result.is_complaint:
            continue
        out = {k: v for k, v in record.items() if k != "text"}
        out.update(text=text, complaint=result.is_complaint, confidence=result.confidence,
                   compound=result.compound, sentiment=result.sentiment(scorer.config.negative_threshold,
                                                                        scorer.config.positive_threshold),
                   topic=result.topic, priority=result.priority,
                   reasons=[r for r in result.reasons if r["rule"] != "vader"])
        click.echo(json.dumps(out, ensure_ascii=False))


def _score_input(line: str) -> dict:
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    return {"text": stripped}


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or upgrade it to the latest schema."""
    from sqlalchemy.exc import OperationalError

    store = _store(ctx)
    try:
        before = store.revision()
        store.upgrade()
        after = store.revision()
    except OperationalError as exc:
        _database_down(exc)
    click.echo(f"database at revision {after}" + (f" (was {before or 'empty'})" if before != after else " (up to date)"))


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database."""
    store = _store(ctx)
    current, head = store.revision(), store.head_revision()
    click.echo(f"revision {current or 'none (empty database)'}; latest {head}")
    sys.exit(0 if current == head else 1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Mentions and complaints per source and brand, outbox state, source health."""
    store = _store(ctx)
    store.upgrade()
    figures = store.stats()
    if as_json:
        click.echo(json.dumps(figures, default=str, indent=2))
        return
    click.echo("mentions:")
    for row in figures["mentions"] or [{"source": "-", "brand": "none yet", "mentions": 0, "complaints": 0}]:
        click.echo(f"  {row['source']:<12} {row['brand']:<20} {row['mentions']:>8} mentions {row['complaints']:>7} complaints")
    o = figures["outbox"]
    click.echo(f"alerts: {o['delivered']} delivered, {o['pending']} pending, {o['dead']} dead")
    if figures["complaint_topics"]:
        click.echo("complaint topics: " + ", ".join(f"{t['topic']} {t['complaints']}" for t in figures["complaint_topics"]))
    for source, used in sorted(figures["usage_this_month"].items()):
        click.echo(f"API usage this month: {source} {used['posts_read']:,} posts in {used['requests']:,} requests")
    click.echo("sources:")
    for s in figures["sources"]:
        state = "UNHEALTHY" if s["unhealthy"] else ("failing" if s["consecutive_failures"] else "ok")
        last = s["last_success_at"].strftime("%Y-%m-%d %H:%M:%S") if s["last_success_at"] else "never"
        line = (f"  {s['source']:<12} {state:<9} last success {last}, read {s['posts_read']}, stored {s['posts_stored']},"
                f" rejected {s['posts_rejected']}")
        if s["consecutive_failures"]:
            line += f"; {s['consecutive_failures']} failure(s), last: {s['last_error']}"
        if s["paused_until"] and s["paused_until"] > _now():
            line += f"; paused until {s['paused_until']:%Y-%m-%d %H:%M} UTC"
        click.echo(line)


@cli.command("test-alert")
@click.option("--route", "route_name", help="Only this route (default: every route).")
@click.pass_context
def test_alert(ctx: click.Context, route_name: Optional[str]) -> None:
    """Send a test alert through the configured routes and say what each sink answered."""
    from monitor.components import DeliveryError
    from monitor.model import Alert
    from monitor.schema import utcnow

    config = _load(ctx)
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


@cli.group()
def alerts() -> None:
    """Dead-lettered alerts."""


@alerts.command("dead")
@click.pass_context
def alerts_dead(ctx: click.Context) -> None:
    """List alerts that gave up after their last attempt."""
    rows = _store(ctx).dead_alerts()
    for r in rows:
        click.echo(f"{r['id']:>8}  {r['route']:<16} {r['brand']:<16} attempts {r['attempts']}: {r['last_error']}")
    if not rows:
        click.echo("no dead alerts")


@alerts.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="Only these outbox ids (default: all dead alerts).")
@click.pass_context
def alerts_retry(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Queue dead alerts for delivery again."""
    count = _store(ctx).retry_dead(list(ids) or None)
    click.echo(f"{count} alert(s) queued for delivery")


@cli.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Day to report (default: yesterday).")
@click.option("--brand", help="Only this brand.")
@click.option("--to", "targets", type=click.Choice(["stdout", "file", "slack"]), multiple=True,
              help="Where to send it (repeatable; default stdout).")
@click.option("--force", is_flag=True, help="Send again even if this day's digest was already sent there.")
@click.pass_context
def digest(ctx: click.Context, day, brand: Optional[str], targets: tuple[str, ...], force: bool) -> None:
    """The daily digest per brand: on stdout, as an HTML report + CSV under data/digests/, or to Slack."""
    from monitor.digest_runner import DigestRunner, yesterday

    config = _load(ctx)
    names = [b.name for b in config.brands if not brand or b.name.lower() == brand.lower()]
    if not names:
        click.echo(f"no brand named {brand!r} in the configuration", err=True)
        sys.exit(EXIT_CONFIG)
    if "slack" in targets and not config.root.digest.sink:
        click.echo("--to slack needs digest.sink (and digest.channel) in the configuration", err=True)
        sys.exit(EXIT_CONFIG)
    store = _store(ctx)
    store.upgrade()
    sinks = {n: c.cls(n, c.config) for n, c in config.enabled_sinks().items()} if "slack" in targets else {}
    when: date = day.date() if day else yesterday(config.root.digest.timezone)
    chosen = list(targets) or ["stdout"]
    sent = DigestRunner(config, store, sinks).run(day=when, brands=names, targets=chosen, force=force,
                                                  out=sys.stdout)
    expected = len(names) * len(chosen)
    if sent < expected:
        click.echo(f"{expected - sent} digest(s) not sent: already sent (use --force) or failed (see the log)",
                   err=True)
    sys.exit(0 if sent == expected else 1)


@cli.command("export")
@click.option("--since", required=True, help="First day (YYYY-MM-DD, digest timezone) or an ISO 8601 time.")
@click.option("--until", required=True, help="Last day, inclusive (YYYY-MM-DD), or an ISO 8601 time (exclusive).")
@click.option("--brand", help="Only this brand.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
@click.pass_context
def export_mentions(ctx: click.Context, since: str, until: str, brand: Optional[str], fmt: str, output) -> None:
    """Write stored mentions with their scores, oldest first, for analysts."""
    from monitor import export

    config = _load(ctx)
    tz = config.root.digest.timezone
    try:
        start, end = _instant(since, tz, end_of_day=False), _instant(until, tz, end_of_day=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    store = _store(ctx)
    rows = export.mention_rows(store, start, end, brand)
    count = (export.write_csv if fmt == "csv" else export.write_jsonl)(rows, output)
    click.echo(f"{count} mention(s) exported", err=True)


def _instant(value: str, tz: str, end_of_day: bool):
    from datetime import datetime, timedelta

    from monitor.digest import day_bounds

    if len(value) == 10:
        day = datetime.strptime(value, "%Y-%m-%d").date()
        return day_bounds(day + timedelta(days=1) if end_of_day else day, tz)[0]
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        from zoneinfo import ZoneInfo

        when = when.replace(tzinfo=ZoneInfo(tz))
    return when


def _now():
    from monitor.schema import utcnow

    return utcnow()


def main() -> None:
    cli(prog_name="monitor")


if __name__ == "__main__":
    main()
