"""The `monitor` command group and what every command shares: the validated config, the store, exit codes.

Heavy libraries load inside commands so `monitor --help` stays fast."""
from __future__ import annotations

import logging
import sys

import click

EXIT_CONFIG = 2


class RowId(click.ParamType):
    """A stored row's number: a whole number from 1 up to the largest id a database can hold."""

    name = "id"

    def __init__(self, noun: str) -> None:
        self.noun = noun

    def convert(self, value, param, ctx) -> int:
        from monitor.model import MAX_ROW_ID

        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a {self.noun} number", param, ctx)
        if not 0 < number <= MAX_ROW_ID:
            self.fail(f"there is no {self.noun} with that number", param, ctx)
        return number
EVERYTHING = ("sources", "sinks", "replies")
NOTHING: tuple[str, ...] = ()


def load(ctx: click.Context, needs: tuple[str, ...] = EVERYTHING):
    """The validated config, or exit 2 with the problems and no traceback. ``needs``: the parts the command
    runs ("sources", "sinks"), whose secrets must be set; the first call of a command decides."""
    from monitor.config import ConfigError, load_config
    from monitor.ops.logs import setup_logging
    from monitor.ops.redact import redactor

    if "config" in ctx.obj:
        return ctx.obj["config"]
    try:
        config = load_config(ctx.obj["config_path"], needs=needs)
    except ConfigError as exc:
        click.echo(redactor(exc.render()), err=True)
        sys.exit(EXIT_CONFIG)
    setup_logging(ctx.obj.get("log_level") or config.root.logging.level, config.root.logging.json_lines)
    if ctx.info_name != "check-config":  # which prints them in its report
        for warning in config.warnings:
            logging.getLogger("monitor.config").warning("%s", warning)
    ctx.obj["config"] = config
    return config


def brand_names(config, brand: str | None) -> list[str]:
    """The configured names ``--brand`` means (any case), every brand without it; exit 2 when none matches."""
    if not brand:
        return [b.name for b in config.brands]
    names = [b.name for b in config.brands if b.name.casefold() == brand.casefold()]
    if not names:
        click.echo(f"no brand named {brand!r} in the configuration (brands: "
                   f"{', '.join(b.name for b in config.brands)})", err=True)
        sys.exit(EXIT_CONFIG)
    return names


def peek_database(url: str, read, missing=None, unreachable=None):
    """What ``read(store)`` finds in the configured database, never creating it: ``missing`` when the embedded
    database file does not exist yet, ``unreachable`` when it cannot be read. For commands that work offline."""
    from pathlib import Path

    from monitor.store import Store

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return missing
    try:
        store = Store(url)
        try:
            return read(store)
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - best effort: these commands must not need the database
        return unreachable


def open_store(ctx: click.Context, needs: tuple[str, ...] = NOTHING):
    from monitor.store import Store, StoreError

    config = load(ctx, needs)
    try:
        return Store(config.database_url)
    except StoreError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def case_desk(config, store):
    """The enabled sinks, each linking its case messages to the web inbox, and a case desk over them: what a
    command that changes or re-shows cases needs so that the messages follow, as they do in the service."""
    from monitor.cases.desk import CaseDesk

    sinks = {n: c.cls(n, c.config) for n, c in config.enabled_sinks().items()}
    for sink in sinks.values():
        sink.link_cases(config.root.web.case_link)
    return CaseDesk(store.cases, store.outbox, sinks, store.bursts, store.labels), sinks


def database_down(exc: Exception) -> None:
    from monitor.ops.redact import redactor

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    click.echo(redactor(f"database error: {type(getattr(exc, 'orig', None) or exc).__name__}: "
                        f"{detail[0] if detail else 'no detail'} (is the database running, and is database.url "
                        "right?)"), err=True)
    sys.exit(1)


def is_database_error(exc: BaseException) -> bool:
    """Without importing SQLAlchemy: a command that never touched the database cannot have raised one."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, (errors.DBAPIError, errors.TimeoutError))


class MonitorGroup(click.Group):
    """An unreachable database is one line for the operator, whichever command met it, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if is_database_error(exc):
                database_down(exc)
            raise


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="MONITOR_CONFIG", default="config.yaml", show_default=True,
              help="Configuration file (env: MONITOR_CONFIG).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Override logging.level from the config.")
@click.version_option(package_name="complaint-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str, log_level: str | None) -> None:
    """Watch public mentions of your brands, flag complaints, alert your support team."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, log_level=log_level.upper() if log_level else None)


def now():
    from monitor.clock import utcnow

    return utcnow()
