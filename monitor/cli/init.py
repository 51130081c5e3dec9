"""`monitor init`: a commented config.yaml for your own brand, from a few questions or flags."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from monitor.cli.common import EXIT_CONFIG, cli

# What each source needs from the environment, and the block it gets in the file. {brand} is the brand's name.
SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "file": ((), """\
  posts:
    type: file
    # One JSON object per line with at least "text" (id, author, url, created_at, followers...).
    # Export your posts there, or point path at a folder of .jsonl files.
    path: {posts}
    interval: 10s
"""),
    "x": (("X_BEARER_TOKEN",), """\
  x:
    bearer_token: ${{X_BEARER_TOKEN}}   # an app's bearer token from developer.x.com
    interval: 2m
    monthly_post_budget: 10000        # your plan's monthly read cap: the source pauses at it
"""),
    "reddit": (("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"), """\
  reddit:
    client_id: ${{REDDIT_CLIENT_ID}}         # a "script" app at reddit.com/prefs/apps
    client_secret: ${{REDDIT_CLIENT_SECRET}}
    user_agent: "server:complaint-monitor:1.0 (by /u/your_support_account)"
    interval: 2m
"""),
    "bluesky": (("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"), """\
  bluesky:
    handle: ${{BLUESKY_HANDLE}}
    app_password: ${{BLUESKY_APP_PASSWORD}}   # an app password, never the account password
    interval: 2m
"""),
    "mastodon": ((), """\
  mastodon:
    instances:
      - url: https://mastodon.social
    interval: 2m                      # hashtags: the brand's #terms, else its name
"""),
    "hackernews": ((), """\
  hackernews:
    interval: 5m
"""),
}
SINKS = """\
alerts:
  sinks:
{sinks}  routes:
    - name: support
      sink: {route_sink}{channel}
"""


@cli.command("init")
@click.option("--brand", help="The brand's name, as alerts and the digest show it.")
@click.option("--terms", help="Comma-separated words, #hashtags and @handles that mean the brand.")
@click.option("--own-accounts", default=None, help="Comma-separated handles of the brand's own accounts.")
@click.option("--sources", default=None,
              help=f"Comma-separated sources: {', '.join(SOURCES)} (default: file).")
@click.option("--posts", default="data/posts.jsonl", show_default=True, help="The file source's JSON-lines file.")
@click.option("--slack-channel", default=None, help="Post alerts to this Slack channel (ID or #name); "
              "default: print them.")
@click.option("--out", default="config.yaml", show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the configuration.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--non-interactive", is_flag=True, help="Ask nothing: take the flags (and their defaults).")
def init(brand, terms, own_accounts, sources, posts, slack_channel, out: Path, force: bool,
         non_interactive: bool) -> None:
    """Write a commented config.yaml for your own brand (then: monitor --config FILE check-config)."""
    if out.exists() and not force:
        click.echo(f"{out} exists: choose another --out, or --force to replace it", err=True)
        sys.exit(EXIT_CONFIG)
    ask = not non_interactive
    brand = brand or (click.prompt("Brand name") if ask else None)
    if not brand or not brand.strip():
        click.echo("--brand is required", err=True)
        sys.exit(EXIT_CONFIG)
    terms = terms or (click.prompt("Words, #hashtags and @handles that mean it (comma-separated)",
                                   default=brand.strip().lower()) if ask else brand.strip().lower())
    if own_accounts is None:
        own_accounts = click.prompt("The brand's own accounts (comma-separated, empty for none)", default="",
                                    show_default=False) if ask else ""
    if sources is None:
        sources = click.prompt(f"Sources ({', '.join(SOURCES)})", default="file") if ask else "file"
    if slack_channel is None and ask:
        slack_channel = click.prompt("Slack channel for alerts (empty: print them)", default="",
                                     show_default=False) or None
    chosen = _names(sources)
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        click.echo(f"unknown source(s): {', '.join(unknown) or 'none given'}; choose from {', '.join(SOURCES)}",
                   err=True)
        sys.exit(EXIT_CONFIG)
    text = render(brand.strip(), _names(terms), _names(own_accounts), chosen, posts, slack_channel)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if "file" in chosen:
        Path(posts).parent.mkdir(parents=True, exist_ok=True)  # where the team's export goes
    waiting = [s for s in chosen if not _ready(s)]
    click.echo(f"wrote {out} for {brand.strip()}")
    for source in waiting:
        click.echo(f"  {source} is written disabled: set {', '.join(SOURCES[source][0])} in the environment, "
                   f"then enabled: true")
    click.echo(f"next: monitor --config {out} check-config, then monitor --config {out} run")


def render(brand: str, terms: list[str], own: list[str], sources: list[str], posts: str,
           slack_channel: str | None) -> str:
    """The configuration text: only the keys a first setup needs, each commented; the README has the rest."""
    source_blocks = ""
    for name in sources:
        block = SOURCES[name][1].format(posts=_quote(posts))
        if not _ready(name):
            head, rest = block.split("\n", 1)
            block = f"{head}\n    enabled: false   # set {', '.join(SOURCES[name][0])}, then true\n{rest}"
        source_blocks += block
    sinks = "    console: {}          # alerts printed to the terminal\n"
    if slack_channel:
        sinks += ("    slack:\n      token: ${SLACK_BOT_TOKEN}   # the app's bot token (xoxb-); "
                  "deploy/slack-app-manifest.yaml creates the app\n")
    return "\n".join([
        "# Complaint monitor configuration, written by `monitor init`. Every key is documented in README.md",
        "# (\"Configuration reference\"); secrets come from the environment as ${VAR}, never this file.",
        "",
        "database:",
        "  url: ${DATABASE_URL:-sqlite:///data/monitor.db}   # SQLite under data/; PostgreSQL in production",
        "",
        "brands:",
        f"  - name: {_quote(brand)}",
        f"    terms: [{', '.join(_quote(t) for t in terms)}]   # words, #hashtags, @handles that mean it",
        f"    own_accounts: [{', '.join(_quote(a) for a in own)}]   # the brand's own posts never alert",
        "",
        "sources:",
        source_blocks.rstrip("\n"),
        "",
        SINKS.format(sinks=sinks, route_sink="slack" if slack_channel else "console",
                     channel=f"\n      channel: {_quote(slack_channel)}" if slack_channel else "").rstrip("\n"),
        "",
        "digest:",
        "  time: \"08:00\"                 # yesterday's digest, every morning",
        "  timezone: UTC                 # your team's timezone, e.g. Europe/London",
        "  targets: [stdout, file]       # file: HTML and CSV under data/digests",
        "",
    ])


def _names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _ready(source: str) -> bool:
    return all(os.environ.get(var) for var in SOURCES[source][0])


def _quote(value: str) -> str:
    """A YAML scalar that reads back as ``value``: quoted unless it is plain letters, digits and a few marks."""
    if re.fullmatch(r"[A-Za-z][\w .\-/]*", value) and value.strip() == value and ": " not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
