"""The database connection every repository shares, and the portable statements they build on."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import and_, create_engine, event, insert, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


class StoreError(Exception):
    """The database URL or schema is unusable; the message says what to do."""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler's threads read while one writes; busy_timeout waits out short locks.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA secure_delete=ON")  # cleared text is overwritten in the file, not left in free pages
    cur.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database.url: not a database URL: {make_url_safe(url)}") from None
    try:
        parsed.get_dialect()
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"database.url: cannot use {parsed.drivername!r} databases ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


def make_url_safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _dialect_insert(dialect: str):
    """The INSERT construct with ON CONFLICT for this dialect, or None where there is none."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        return None
    return dialect_insert


class Database:
    """One SQLAlchemy engine on any supported URL (SQLite embedded, PostgreSQL in production)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def scrub(self, tables: list[str]) -> None:
        """After an erasure, leaves no old copy of the cleared fields in the files: SQLite's write-ahead log is
        checkpointed and truncated (the pages themselves were overwritten, secure_delete); PostgreSQL vacuums
        the tables, dropping the old row versions an UPDATE leaves behind."""
        if self.engine.dialect.name == "sqlite":
            self.compact_search()
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f'VACUUM "{table}"')

    def compact_search(self) -> None:
        """SQLite's search index only marks a cleared post's words as deleted until its segments are merged:
        merged now, the words leave the file (secure_delete overwrites the freed pages). PostgreSQL's index
        drops them when the table is vacuumed."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.begin() as conn:
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'mentions_fts'").first():
                conn.exec_driver_sql("INSERT INTO mentions_fts(mentions_fts) VALUES ('optimize')")

    def upsert(self, conn: Connection, table, keys: dict, values: dict) -> None:
        """Insert or update one row by primary key, portably."""
        dialect_insert = _dialect_insert(self.dialect)
        if dialect_insert is not None:
            stmt = dialect_insert(table).values(**keys, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=values))
            return
        where = and_(*(table.c[k] == v for k, v in keys.items()))
        if conn.execute(update(table).where(where).values(**values)).rowcount == 0:
            conn.execute(insert(table).values(**keys, **values))

    def insert_new(self, table, conflict: list[str]):
        """INSERT that skips rows already present (another poll or instance stored them)."""
        dialect_insert = _dialect_insert(self.dialect)
        if dialect_insert is None:
            return insert(table)
        return dialect_insert(table).on_conflict_do_nothing(index_elements=conflict)

    def insert_or_ignore(self, conn: Connection, table, keys: dict, values: dict) -> None:
        conn.execute(self.insert_new(table, list(keys)).values(**keys, **values))
