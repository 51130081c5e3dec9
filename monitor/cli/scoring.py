"""`monitor score`: the detector on posts from a file or stdin, without the service."""
from __future__ import annotations

import json
from pathlib import Path

import click

from monitor.cli.common import NOTHING, cli, load, peek_database


@cli.command()
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@click.option("--brand-reach", "reach", type=int, default=None, help="Reach to assume when a post has none.")
@click.option("--only-complaints", is_flag=True, help="Print only posts flagged as complaints.")
@click.pass_context
def score(ctx: click.Context, source, reach: int | None, only_complaints: bool) -> None:
    """Score posts from a file or stdin: JSON lines with "text", or plain text lines.

    Prints one JSON line per post with sentiment, complaint flag, reasons, topic and
    priority. Uses the scoring and topics sections of the config when it exists, and the active learned
    model of its database when there is one (see `monitor learn`).
    """
    from monitor.config import ScoringConfig
    from monitor.pipeline.normalize import Rejected, clean_text
    from monitor.scoring.learned import make_scorer

    if Path(ctx.obj["config_path"]).exists():
        config = load(ctx, NOTHING)
        scorer = make_scorer(config.root.scoring, config.root.topics, peek_database(config.database_url, _active_model))
    else:
        scorer = make_scorer(ScoringConfig(), None, None)
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


def _active_model(store):
    """The active model's data, or None (a schema not yet migrated, or no model): the rules alone."""
    if store.schema.revision() != store.schema.head_revision():
        return None
    active = store.models.active()
    return active[1] if active else None
