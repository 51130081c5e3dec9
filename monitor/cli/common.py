"""The `monitor` command group and what every command shares: the validated config, the store, exit codes.

Heavy libraries load inside commands so `monitor --help` stays fast."""
from __future__ import annotations

import sys
from typing import Optional

import click

EXIT_CONFIG = 2


def load(ctx: click.Context):
    """The validated config, or exit 2 with the problems and no traceback."""
    from monitor.config import ConfigError, load_config
    from monitor.ops.logs import setup_logging
    from monitor.ops.redact import redactor

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


def open_store(ctx: click.Context):
    from monitor.store import Store, StoreError

    config = load(ctx)
    try:
        return Store(config.database_url)
    except StoreError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def database_down(exc: Exception) -> None:
    from monitor.ops.redact import redactor

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


def now():
    from monitor.clock import utcnow

    return utcnow()
