"""Alembic environment: run by `monitor db upgrade` and on `monitor run` start."""
from alembic import context
from sqlalchemy import create_engine

from monitor.store.schema import declared, metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=declared,  # the search index is the migration's own, per backend
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
