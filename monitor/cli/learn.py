"""`monitor learn`: train the complaint classifier on the team's labels, measured against the rules."""
from __future__ import annotations

import sys

import click

from monitor.cli.common import NOTHING, cli, load, open_store


@cli.command("learn")
@click.option("--dry-run", is_flag=True, help="Measure only: store nothing, change nothing.")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True,
              help="Cross-validation folds (stratified).")
@click.option("--min-labels", type=click.IntRange(10), default=40, show_default=True,
              help="Fewer labels than this: do not learn.")
@click.pass_context
def learn(ctx: click.Context, dry_run: bool, folds: int, min_labels: int) -> None:
    """Train on every label, compare with the rules on the same labels, and activate the model only when it
    scores better. Every instance then scores with the active model."""
    from monitor.scoring.learning_run import run_learning
    from monitor.scoring.training import NotEnoughLabels

    config = load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    try:
        outcome = run_learning(store.labels, store.models, config.root.scoring, config.root.topics,
                               folds=folds, min_labels=min_labels, dry_run=dry_run)
    except NotEnoughLabels as exc:
        click.echo(f"not learning: {exc} (see `monitor labels import`)", err=True)
        sys.exit(1)
    click.echo(outcome.report())
