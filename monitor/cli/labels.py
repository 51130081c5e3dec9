"""`monitor label` and `monitor labels`: the team's verdicts on posts, given one at a time, imported from a
file (bare texts need not be stored mentions) and exported for analysis or training elsewhere."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.common import EXIT_CONFIG, NOTHING, RowId, cli, load, open_store


@cli.command("label")
@click.argument("mention_id", type=RowId("stored post"))
@click.argument("verdict", type=click.Choice(["complaint", "not"]))
@click.option("--as", "actor", required=True, help="Who says so (recorded with the label).")
@click.pass_context
def label(ctx: click.Context, mention_id: int, verdict: str, actor: str) -> None:
    """Label a stored mention as a complaint or not (ids: `monitor export --format jsonl`, `monitor cases`)."""
    load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    if not store.labels.label_mention(mention_id, verdict == "complaint", actor.strip() or "cli", "cli"):
        click.echo(f"no stored mention {mention_id}", err=True)
        sys.exit(1)
    click.echo(f"mention {mention_id} labelled {'a complaint' if verdict == 'complaint' else 'not a complaint'}")


@cli.group("labels")
def labels_group() -> None:
    """Import and export labels."""


@labels_group.command("next")
@click.option("--count", type=click.IntRange(1, 500), default=20, show_default=True, help="How many posts.")
@click.option("--brand", help="Only this brand's posts.")
@click.option("--source", help="Only posts from this source (a name under sources).")
@click.pass_context
def labels_next(ctx: click.Context, count: int, brand: str | None, source: str | None) -> None:
    """The stored posts most worth labelling next, as JSON lines: mostly those the detector is least sure
    about, one in four at random. Label them with `monitor label ID complaint|not --as NAME`."""
    from monitor.cli.common import brand_names
    from monitor.pipeline.labelling import LabellingQueue

    config = load(ctx, NOTHING)
    names = brand_names(config, brand) if brand else [None]
    store = open_store(ctx)
    store.schema.upgrade()
    picks = LabellingQueue(store, config.root.scoring, config.root.topics).next(count, names[0], source)
    for pick in picks:
        click.echo(json.dumps(pick.as_json(), ensure_ascii=False))
    if not picks:
        click.echo("nothing to label: every stored post that matches is labelled (or none is stored yet)", err=True)


@labels_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "actor", default="import", show_default=True, help="Who the labels come from.")
@click.pass_context
def labels_import(ctx: click.Context, path: Path, actor: str) -> None:
    """Import JSON lines of {"text", "complaint": true|false, "brand"?} or {"mention_id", "complaint"}: all of
    them, or none."""
    from monitor.pipeline.label_file import LabelFileError, read_label_file

    load(ctx, NOTHING)
    try:
        records = read_label_file(path)
    except LabelFileError as exc:
        click.echo(f"nothing imported from {path}:\n{exc}", err=True)
        sys.exit(EXIT_CONFIG)
    store = open_store(ctx)
    store.schema.upgrade()
    ids = [r["mention_id"] for r in records if "mention_id" in r]
    known = store.labels.known_mentions(ids) if ids else set()
    unknown = [f"line {r['line']}: no stored post {r['mention_id']}" for r in records
               if "mention_id" in r and r["mention_id"] not in known]
    if unknown:
        click.echo(f"nothing imported from {path}:\n{LabelFileError(unknown)}", err=True)
        sys.exit(EXIT_CONFIG)
    count = store.labels.import_texts(records, actor)
    complaints = sum(r["complaint"] for r in records)
    click.echo(f"{count} label(s) imported: {complaints} complaint(s), {count - complaints} not")


@labels_group.command("export")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
@click.pass_context
def labels_export(ctx: click.Context, output) -> None:
    """The label that counts for each post, as JSON lines (importable again)."""
    load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    count = 0
    for record in store.labels.newest():
        output.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    click.echo(f"{count} label(s) exported", err=True)
