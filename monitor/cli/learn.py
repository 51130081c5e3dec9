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
@click.option("--history", is_flag=True, help="List the stored models with their figures, and stop.")
@click.option("--rollback", is_flag=True, help="Reactivate the model active before the current one (or the rules "
              "alone), and stop.")
@click.pass_context
def learn(ctx: click.Context, dry_run: bool, folds: int, min_labels: int, history: bool, rollback: bool) -> None:
    """Train on every label, compare with the rules on the same labels, and activate the model only when it
    beats them by more than its fold-to-fold spread. Every instance then scores with the active model."""
    from monitor.scoring.learning_run import run_learning
    from monitor.scoring.training import NotEnoughLabels

    config = load(ctx, NOTHING)
    store = open_store(ctx)
    store.schema.upgrade()
    if history:
        _history(store.models.history())
        return
    if rollback:
        _rollback(store.models)
        return
    try:
        outcome = run_learning(store.labels, store.models, config.root.scoring, config.root.topics,
                               folds=folds, min_labels=min_labels, dry_run=dry_run)
    except NotEnoughLabels as exc:
        click.echo(f"not learning: {exc} (see `monitor labels import`)", err=True)
        sys.exit(1)
    click.echo(outcome.report())


def _history(models: list[dict]) -> None:
    if not models:
        click.echo("no models yet: the rules alone score every post (train one with `monitor learn`)")
        return
    for m in models:
        figures = m["figures"] or {}
        gains = figures.get("fold_gains") or []
        spread = f", gain per fold {sum(gains) / len(gains):+.3f}" if gains else ""
        click.echo(f"model {m['id']}  {m['created_at']:%Y-%m-%d %H:%M} UTC  {m['labels']} labels  "
                   f"F1 {m['model_f1']:.3f} vs rules {m['rules_f1']:.3f}{spread}  threshold "
                   f"{figures.get('threshold', 0.5):.2f}" + ("  ACTIVE" if m["active"] else ""))


def _rollback(models) -> None:
    deactivated, reactivated = models.rollback()
    if deactivated is None:
        click.echo("no active model: the rules alone already score every post", err=True)
        sys.exit(1)
    now = f"model {reactivated} is active again" if reactivated else "the rules alone score every post"
    click.echo(f"model {deactivated} deactivated; {now} (every instance within 5 minutes)")
