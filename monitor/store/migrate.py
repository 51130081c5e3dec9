"""Schema migrations (Alembic): upgrade on start, serialised across instances starting together."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from monitor.store.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x636F6D706C61  # any constant shared by every instance: "compla"


class SchemaMigrator:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _alembic_config(self, connection: Connection):
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Migrates the schema. Instances starting together take turns: the others then find it done."""
        from alembic import command

        with self._migration_lock(), self.db.engine.begin() as conn:
            if self.db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(self._alembic_config(conn), revision)

    @contextmanager
    def _migration_lock(self):
        """SQLite has no advisory locks: a lock file beside the database serialises the processes."""
        database = self.db.engine.url.database if self.db.dialect == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        import fcntl

        with open(f"{database}.migrate.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        with self.db.engine.connect() as conn:
            return ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()
