"""`monitor db`: the database schema."""
from __future__ import annotations

import sys

import click

from monitor.cli.common import cli, database_down, open_store


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or upgrade it to the latest schema."""
    from sqlalchemy.exc import OperationalError

    store = open_store(ctx)
    try:
        before = store.schema.revision()
        store.schema.upgrade()
        after = store.schema.revision()
    except OperationalError as exc:
        database_down(exc)
    click.echo(
        f"database at revision {after}" + (f" (was {before or 'empty'})" if before != after else " (up to date)")
    )


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database."""
    store = open_store(ctx)
    current, head = store.schema.revision(), store.schema.head_revision()
    click.echo(f"revision {current or 'none (empty database)'}; latest {head}")
    sys.exit(0 if current == head else 1)
