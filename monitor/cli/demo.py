"""`monitor demo`: the service on the bundled sample posts, replayed as if posted in the last day, on a
throwaway database, printing its alerts: nothing to configure, alerts on any day, wherever it runs."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from monitor.cli.common import EXIT_CONFIG, cli

# The brands the sample posts are about.
DEMO_BRANDS = [
    {"name": "Pixelcart", "terms": ["pixelcart", "#pixelcart", "@pixelcart", "pixel cart"],
     "exclude": ["giveaway", "pixelcart careers"], "own_accounts": ["pixelcart", "pixelcarthelp"]},
    {"name": "Northwind Air", "terms": ["northwind", "northwind air", "@northwindair", "#northwindair"],
     "exclude": ["northwind traders"], "own_accounts": ["northwindair"], "languages": ["en"]},
]
SAMPLES = Path("samples") / "mentions.jsonl"


def sample_posts(given: str | None) -> Path | None:
    """--posts, else $MONITOR_SAMPLES, else samples/ in the working directory (the container's /app), else the
    samples of the checkout the package runs from."""
    if given:
        return Path(given) if Path(given).is_file() else None
    checkout = Path(__file__).resolve().parents[2] / SAMPLES
    for candidate in (os.environ.get("MONITOR_SAMPLES"), SAMPLES, checkout):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def demo_config(posts: Path, data: Path):
    from monitor.config import parse_config

    return parse_config({
        "database": {"url": f"sqlite:///{data / 'demo.db'}"},
        "brands": DEMO_BRANDS,
        "sources": {"samples": {"type": "file", "path": str(posts), "shift_to_now": True, "interval": "10s"}},
        "alerts": {"sinks": {"console": {"type": "console"}}},
        "digest": {"directory": str(data / "digests")},
    }, "demo", environ={})


@cli.command()
@click.option("--posts", help="A JSON-lines file of posts to replay (default: the bundled samples).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the demo database here (default: a temporary folder, removed at exit).")
@click.option("--once", is_flag=True, help="Read the posts once, print the alerts and exit.")
@click.pass_context
def demo(ctx: click.Context, posts: str | None, data: Path | None, once: bool) -> None:
    """Run on the bundled sample posts, dated as if posted in the last day; alerts print here."""
    from monitor.cli.service import serve
    from monitor.ops.logs import setup_logging
    from monitor.store import Store

    found = sample_posts(posts)
    if found is None:
        click.echo(f"no such file: {posts}" if posts else "no sample posts: pass --posts FILE, set "
                   f"MONITOR_SAMPLES, or run from the project folder (it has {SAMPLES})", err=True)
        sys.exit(EXIT_CONFIG)
    folder = data or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = demo_config(found, folder)
    setup_logging(ctx.obj.get("log_level") or "INFO", False)
    click.echo(f"demo: replaying {found} as if posted in the last day; database in {folder}"
               + ("" if data else " (removed at exit)"), err=True)
    def remove() -> None:
        if not data:
            shutil.rmtree(folder, ignore_errors=True)

    serve(config, Store(config.database_url), once, before_exit=remove)
