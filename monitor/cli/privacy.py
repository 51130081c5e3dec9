"""`monitor purge`, `monitor forget` and `monitor export-subject`: other people's data kept only as long as
the retention says, erased on request everywhere it was copied, and handed over on request."""
from __future__ import annotations

import json
import sys

import click

from monitor.cli.common import EXIT_CONFIG, NOTHING, case_desk, cli, load, open_store

CLEARED_TABLES = ["mentions", "replies", "labels"]


@cli.command("purge")
@click.option("--dry-run", "dry_run", is_flag=True, help="Count what has outlived its retention; change nothing.")
@click.pass_context
def purge(ctx: click.Context, dry_run: bool) -> None:
    """Clear the text, author and link of posts past their retention (the service does it nightly)."""
    config = load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    report = store.privacy.purge(config.root.retention, dry_run=dry_run)
    verb = "would clear" if dry_run else "cleared"
    counts = report.counts
    click.echo(f"{verb}: {counts['mentions']} post(s), the words of {counts['replies']} repl(ies) to closed cases, "
               f"{counts['labels']} bare-text label(s)")
    if not dry_run and report.batches:
        click.echo(f"{report.batches} batch(es); the longest held its rows {report.longest_batch * 1000:.0f} ms")


@cli.command("forget")
@click.option("--author", required=True, help="The author's handle as the network shows it (@ optional; on "
              "Mastodon user@instance).")
@click.option("--source", help="Only this configured source (default: every source).")
@click.option("--as", "actor", required=True, help="Who runs the erasure (recorded in the audit, with the counts).")
@click.pass_context
def forget(ctx: click.Context, author: str, source: str | None, actor: str) -> None:
    """Erase every stored post of an author, the replies to them, their alert messages where the sink can edit
    them, and the digests written to files that quoted them. Figures stay, counted anonymously."""
    from monitor.service import digest_runner

    if not author.strip().removeprefix("@") or not actor.strip():
        click.echo("--author and --as need a value", err=True)
        sys.exit(EXIT_CONFIG)
    config = load(ctx, ("sinks",))
    store = open_store(ctx, ("sinks",))
    store.schema.upgrade()
    desk, sinks = case_desk(config, store)
    erasure = store.privacy.erase(author, source, actor.strip())
    edited = _edit_messages(store, desk, erasure)
    rewritten = _rewrite_digests(config, store, sinks, erasure, digest_runner)
    store.db.scrub(CLEARED_TABLES)
    counts = erasure.counts
    click.echo(f"erased: {counts['mentions']} post(s), {counts['replies']} repl(ies), {counts['labels']} "
               f"bare-text label(s); {counts['alerts_cancelled']} unsent alert(s) cancelled; {edited} case "
               f"message(s) edited; {rewritten} digest file(s) rewritten; recorded in the erasure audit")


def _edit_messages(store, desk, erasure) -> int:
    """Every case message that quoted the posts shows them as removed (chat.update where the sink can)."""
    case_ids = {alert.case.id for alert in map(store.outbox.alert, erasure.alerts) if alert and alert.case}
    case_ids |= set(store.privacy.burst_cases(erasure.bursts))
    desk.show_cases(sorted(case_ids))
    return len(case_ids)


def _rewrite_digests(config, store, sinks, erasure, digest_runner) -> int:
    """The digests written to files while the posts were held, written again without them."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(config.root.digest.timezone)
    by_brand: dict[str, list] = {}
    for brand, posted in erasure.days:
        by_brand.setdefault(brand, []).append(posted.astimezone(zone).date())
    runner, rewritten = digest_runner(config, store, sinks), 0
    for brand, days in by_brand.items():
        for day, weekly in store.digest_runs.written(brand, min(days), max(days)):
            rewritten += runner.run(day=day, brands=[brand], targets=["file"], force=True, weekly=weekly)
    return rewritten


@cli.command("export-subject")
@click.option("--author", required=True, help="The author's handle as the network shows it.")
@click.option("--source", help="Only this configured source.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE (default: "
              "stdout).")
@click.pass_context
def export_subject(ctx: click.Context, author: str, source: str | None, output: str | None) -> None:
    """Everything held about an author, as one JSON document (an access request)."""
    load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    held = store.privacy.subject(author, source)
    document = json.dumps({"author": author.strip(), "source": source, **held}, ensure_ascii=False, indent=2,
                          default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(document + "\n")
    else:
        click.echo(document)
    click.echo(f"{len(held['posts'])} post(s), {len(held['cases'])} case(s), {len(held['replies'])} repl(ies), "
               f"{len(held['labels'])} label(s)", err=True)
