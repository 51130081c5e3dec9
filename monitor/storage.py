"""MentionStore: every read and write the service makes, on any SQLAlchemy URL."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Optional

from sqlalchemy import and_, case, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from monitor.model import Alert
from monitor.schema import (
    bursts,
    cursors,
    digest_runs,
    leases,
    mentions,
    outbox,
    source_health,
    source_usage,
    utcnow,
)

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x636F6D706C61  # any constant shared by every instance: "compla"


class StoreError(Exception):
    """The database URL or schema is unusable; the message says what to do."""


@dataclass(slots=True)
class Route:
    name: str
    sink: str
    channel: Optional[str]


@dataclass(slots=True)
class StoredBatch:
    stored: int
    duplicates: int
    alerts: int
    inserted: set[str] = field(default_factory=set)  # external ids this batch stored


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler's threads read while one writes; busy_timeout waits out short locks.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
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


class MentionStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------

    def _alembic_config(self, connection: Connection):
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Migrates the schema. Instances starting together take turns: the others then find it done."""
        from alembic import command

        with self._migration_lock(), self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(self._alembic_config(conn), revision)

    @contextmanager
    def _migration_lock(self):
        """SQLite has no advisory locks: a lock file beside the database serialises the processes."""
        database = self.engine.url.database if self.dialect == "sqlite" else None
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

    def revision(self) -> Optional[str]:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            return ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()

    # -- upserts --------------------------------------------------------------

    def _upsert(self, conn: Connection, table, keys: dict, values: dict) -> None:
        """Insert or update one row by primary key, portably."""
        if self.dialect in ("sqlite", "postgresql"):
            if self.dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as dialect_insert
            else:
                from sqlalchemy.dialects.postgresql import insert as dialect_insert
            stmt = dialect_insert(table).values(**keys, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=values))
            return
        where = and_(*(table.c[k] == v for k, v in keys.items()))
        if conn.execute(update(table).where(where).values(**values)).rowcount == 0:
            conn.execute(insert(table).values(**keys, **values))

    def _insert_new(self, table, conflict: list[str]):
        """INSERT that skips rows already present (another poll or instance stored them)."""
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        elif self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            return insert(table)
        return dialect_insert(table).on_conflict_do_nothing(index_elements=conflict)

    # -- cursors ---------------------------------------------------------------

    def load_cursor(self, source: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(cursors.c.key, cursors.c.value).where(cursors.c.source == source))
            return {key: value for key, value in rows}

    # -- ingest ----------------------------------------------------------------

    def known_ids(self, source: str, external_ids: Iterable[str]) -> set[str]:
        ids = list(external_ids)
        known: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                stmt = select(mentions.c.external_id).where(
                    mentions.c.source == source, mentions.c.external_id.in_(chunk))
                known.update(conn.execute(stmt).scalars())
        return known

    def store_batch(self, source: str, rows: list[dict], routes: list[list[Route]],
                    cursor: dict[str, str], read: int, rejected: int) -> StoredBatch:
        """Mentions, their outbox rows, the cursor and the counters: one transaction."""
        now = utcnow()
        stored = alerts = 0
        with self.engine.begin() as conn:
            if rows:
                stmt = self._insert_new(mentions, ["source", "external_id"]).returning(
                    mentions.c.id, mentions.c.external_id)
                inserted = {ext: ident for ident, ext in conn.execute(stmt, rows)}
                stored = len(inserted)
                outbox_rows = [
                    {"mention_id": inserted[row["external_id"]], "route": r.name, "sink": r.sink,
                     "channel": r.channel, "status": "pending", "attempts": 0,
                     "next_attempt_at": now, "created_at": now}
                    for row, row_routes in zip(rows, routes) if row["external_id"] in inserted
                    for r in row_routes
                ]
                if outbox_rows:
                    conn.execute(insert(outbox), outbox_rows)
                alerts = len(outbox_rows)
            for key, value in cursor.items():
                self._upsert(conn, cursors, {"source": source, "key": key}, {"value": value, "updated_at": now})
            self._count(conn, source, read=read, stored=stored, rejected=rejected)
        return StoredBatch(stored=stored, duplicates=len(rows) - stored, alerts=alerts,
                           inserted=set(inserted) if rows else set())

    # -- source health ------------------------------------------------------------

    def _count(self, conn: Connection, source: str, read: int, stored: int, rejected: int) -> None:
        self._ensure_health_row(conn, source)
        conn.execute(update(source_health).where(source_health.c.source == source).values(
            posts_read=source_health.c.posts_read + read,
            posts_stored=source_health.c.posts_stored + stored,
            posts_rejected=source_health.c.posts_rejected + rejected,
            updated_at=utcnow()))

    def _ensure_health_row(self, conn: Connection, source: str) -> None:
        self._insert_or_ignore(conn, source_health, {"source": source}, {
            "consecutive_failures": 0, "posts_read": 0, "posts_stored": 0, "posts_rejected": 0,
            "unhealthy": False, "updated_at": utcnow()})

    def record_success(self, source: str) -> bool:
        """Returns True when the source was failing before (it recovered)."""
        with self.engine.begin() as conn:
            self._ensure_health_row(conn, source)
            before = conn.execute(select(source_health.c.consecutive_failures)
                                  .where(source_health.c.source == source)).scalar_one()
            conn.execute(update(source_health).where(source_health.c.source == source).values(
                last_success_at=utcnow(), consecutive_failures=0, unhealthy=False, paused_until=None,
                updated_at=utcnow()))
        return before > 0

    def record_failure(self, source: str, error: str, *, unhealthy: bool = False) -> int:
        """Returns the number of consecutive failures including this one."""
        with self.engine.begin() as conn:
            self._ensure_health_row(conn, source)
            conn.execute(update(source_health).where(source_health.c.source == source).values(
                last_error_at=utcnow(), last_error=error[:2000],
                consecutive_failures=source_health.c.consecutive_failures + 1,
                unhealthy=unhealthy, updated_at=utcnow()))
            return conn.execute(select(source_health.c.consecutive_failures)
                                .where(source_health.c.source == source)).scalar_one()

    def ping(self) -> None:
        """Raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def add_usage(self, source: str, posts: int, requests: int) -> None:
        """Counts API reads at once, in their own transaction: they are billed even if the batch is not stored."""
        period = utcnow().strftime("%Y-%m")
        key = {"source": source, "period": period}
        with self.engine.begin() as conn:
            self._insert_or_ignore(conn, source_usage, key, {"posts_read": 0, "requests": 0, "updated_at": utcnow()})
            conn.execute(update(source_usage).where(source_usage.c.source == source, source_usage.c.period == period)
                         .values(posts_read=source_usage.c.posts_read + posts,
                                 requests=source_usage.c.requests + requests, updated_at=utcnow()))

    def usage(self, period: Optional[str] = None) -> dict[str, dict]:
        """{source: {posts_read, requests}} for a month (default: this month, UTC)."""
        period = period or utcnow().strftime("%Y-%m")
        with self.engine.connect() as conn:
            rows = conn.execute(select(source_usage).where(source_usage.c.period == period))
            return {r.source: {"posts_read": r.posts_read, "requests": r.requests} for r in rows}

    def _insert_or_ignore(self, conn: Connection, table, keys: dict, values: dict) -> None:
        conn.execute(self._insert_new(table, list(keys)).values(**keys, **values))

    def set_paused(self, source: str, until: Optional[datetime]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(source_health).where(source_health.c.source == source).values(paused_until=until))

    def paused_sources(self) -> dict[str, datetime]:
        """Sources paused past now (rate limit, budget, backoff): a restart honours them."""
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(select(source_health.c.source, source_health.c.paused_until)
                                .where(source_health.c.paused_until > now))
            return {r.source: r.paused_until for r in rows}

    def source_health(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(source_health).order_by(source_health.c.source))]

    # -- outbox -------------------------------------------------------------------

    def _alert_query(self):
        return (
            select(outbox.c.id, outbox.c.route, outbox.c.channel, outbox.c.attempts, outbox.c.sink,
                   outbox.c.claimed_at, outbox.c.created_at.label("stored_at"), mentions.c.id.label("mention_id"), mentions.c.source, mentions.c.brand,
                   mentions.c.external_id, mentions.c.author, mentions.c.author_reach, mentions.c.url,
                   mentions.c.text, mentions.c.created_at, mentions.c.compound, mentions.c.confidence,
                   mentions.c.reasons, mentions.c.topic, mentions.c.priority)
            .join(mentions, mentions.c.id == outbox.c.mention_id)
        )

    def stale_claims(self, older_than: datetime) -> list[tuple[Alert, datetime]]:
        """Alerts claimed before ``older_than`` and never finished: their sender died. They may or may not
        have reached the sink."""
        stmt = self._alert_query().where(outbox.c.status == "sending", outbox.c.claimed_at < older_than) \
            .order_by(outbox.c.id)
        with self.engine.connect() as conn:
            return [(self._alert(row), row.claimed_at) for row in conn.execute(stmt)]

    def claim_next(self, owner: str, skip_sinks: Iterable[str] = (), now: Optional[datetime] = None) -> Optional[Alert]:
        """The oldest due alert, claimed for ``owner``. Rows other instances are claiming are skipped
        (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL), so instances never wait on or share an alert."""
        now = now or utcnow()
        where = [outbox.c.status == "pending", outbox.c.next_attempt_at <= now]
        if skip_sinks:
            where.append(outbox.c.sink.not_in(list(skip_sinks)))
        for _ in range(5):  # SQLite has no row locks: another process may win the race; try the next row
            with self.engine.begin() as conn:
                ident = conn.execute(select(outbox.c.id).where(*where).order_by(outbox.c.id).limit(1)
                                     .with_for_update(skip_locked=True)).scalar()
                if ident is None:
                    return None
                won = conn.execute(update(outbox).where(outbox.c.id == ident, outbox.c.status == "pending")
                                   .values(status="sending", claimed_at=utcnow(), claimed_by=owner)).rowcount
            if won:
                with self.engine.connect() as conn:
                    return self._alert(conn.execute(self._alert_query().where(outbox.c.id == ident)).one())
        return None

    # -- leases -----------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl: float) -> bool:
        """Takes or renews the lease ``name`` for ``ttl`` seconds; False while another owner holds it."""
        now = utcnow()
        expires = now + timedelta(seconds=ttl)
        with self.engine.begin() as conn:
            taken = conn.execute(self._insert_new(leases, ["name"]).values(name=name, owner=owner, expires_at=expires)
                                 .returning(leases.c.name)).first()
            if taken:
                return True
            return conn.execute(update(leases).where(leases.c.name == name,
                                                     (leases.c.owner == owner) | (leases.c.expires_at < now))
                                .values(owner=owner, expires_at=expires)).rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.owner == owner))

    def release(self, outbox_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "sending")
                         .values(status="pending", claimed_at=None, claimed_by=None))

    @staticmethod
    def _alert(row: Any) -> Alert:
        m = row._mapping
        alert = Alert(
            outbox_id=m["id"], route=m["route"], channel=m["channel"], attempt=m["attempts"] + 1,
            mention_id=m["mention_id"], source=m["source"], brand=m["brand"], external_id=m["external_id"],
            author=m["author"], author_reach=m["author_reach"], url=m["url"], text=m["text"],
            created_at=m["created_at"], compound=m["compound"], confidence=m["confidence"],
            reasons=m["reasons"] or [], topic=m["topic"], priority=m["priority"], sink=m["sink"],
            stored_at=m["stored_at"])
        return alert

    def mark_delivered(self, outbox_id: int, message_ref: Optional[str], burst_id: Optional[int] = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(
                status="delivered", delivered_at=utcnow(), message_ref=message_ref,
                attempts=outbox.c.attempts + 1, last_error=None, burst_id=burst_id))

    def mark_failed(self, outbox_id: int, error: str, next_attempt_at: Optional[datetime]) -> None:
        """Schedules a retry, or dead-letters the alert when next_attempt_at is None."""
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": error[:2000], "claimed_at": None}
        if next_attempt_at is None:
            values["status"] = "dead"
        else:
            values.update(status="pending", next_attempt_at=next_attempt_at)
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(**values))

    def retry_dead(self, outbox_ids: Optional[list[int]] = None) -> int:
        stmt = update(outbox).where(outbox.c.status == "dead")
        if outbox_ids:
            stmt = stmt.where(outbox.c.id.in_(outbox_ids))
        with self.engine.begin() as conn:
            return conn.execute(stmt.values(status="pending", attempts=0, next_attempt_at=utcnow())).rowcount

    def dead_alerts(self, limit: int = 50) -> list[dict]:
        stmt = (select(outbox.c.id, outbox.c.route, outbox.c.attempts, outbox.c.last_error, mentions.c.brand,
                       mentions.c.url).join(mentions, mentions.c.id == outbox.c.mention_id)
                .where(outbox.c.status == "dead").order_by(outbox.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # -- bursts -------------------------------------------------------------------

    def open_burst(self, route: str, brand: str, since: datetime) -> Optional[dict]:
        """The burst still running for a route and brand: its last complaint is inside the window."""
        stmt = (select(bursts).where(bursts.c.route == route, bursts.c.brand == brand, bursts.c.last_at >= since)
                .order_by(bursts.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
            return dict(row._mapping) if row else None

    def start_burst(self, route: str, brand: str) -> dict:
        now = utcnow()
        with self.engine.begin() as conn:
            ident = conn.execute(insert(bursts).values(route=route, brand=brand, started_at=now, last_at=now)
                                 .returning(bursts.c.id)).scalar_one()
        return {"id": ident, "route": route, "brand": brand, "started_at": now, "last_at": now, "message_ref": None}

    def update_burst(self, burst_id: int, message_ref: Optional[str] = None) -> None:
        values: dict[str, Any] = {"last_at": utcnow()}
        if message_ref is not None:
            values["message_ref"] = message_ref
        with self.engine.begin() as conn:
            conn.execute(update(bursts).where(bursts.c.id == burst_id).values(**values))

    def _recent(self, route: str, brand: str, since: datetime):
        return (outbox.c.route == route, mentions.c.brand == brand, outbox.c.created_at >= since)

    def recent_complaints(self, route: str, brand: str, since: datetime) -> int:
        stmt = (select(func.count()).select_from(outbox.join(mentions, mentions.c.id == outbox.c.mention_id))
                .where(*self._recent(route, brand, since)))
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def burst_summary(self, route: str, brand: str, since: datetime, top: int = 3) -> dict:
        joined = outbox.join(mentions, mentions.c.id == outbox.c.mention_id)
        where = self._recent(route, brand, since)
        with self.engine.connect() as conn:
            topics = conn.execute(select(mentions.c.topic, func.count()).select_from(joined).where(*where)
                                  .group_by(mentions.c.topic).order_by(func.count().desc(), mentions.c.topic)
                                  .limit(3)).all()
            posts = conn.execute(select(mentions.c.author, mentions.c.author_reach, mentions.c.text, mentions.c.url)
                                 .select_from(joined).where(*where)
                                 .order_by(mentions.c.author_reach.desc(), mentions.c.id).limit(top)).all()
        return {"top_topics": [(t, n) for t, n in topics], "top_posts": [dict(p._mapping) for p in posts]}

    # -- ops notices ------------------------------------------------------------------

    def set_ops_notified(self, source: str, notified: bool) -> None:
        with self.engine.begin() as conn:
            self._ensure_health_row(conn, source)
            conn.execute(update(source_health).where(source_health.c.source == source)
                         .values(ops_notified=notified))

    def ops_notified(self, source: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(source_health.c.ops_notified)
                                     .where(source_health.c.source == source)).scalar())

    # -- figures ----------------------------------------------------------------

    def stats(self) -> dict:
        with self.engine.connect() as conn:
            by_brand = conn.execute(
                select(mentions.c.source, mentions.c.brand, func.count(),
                       func.sum(case((mentions.c.is_complaint, 1), else_=0)))
                .group_by(mentions.c.source, mentions.c.brand).order_by(mentions.c.source, mentions.c.brand)
            ).all()
            outbox_counts = dict(conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
            topics = conn.execute(
                select(mentions.c.topic, func.count()).where(mentions.c.is_complaint.is_(True))
                .group_by(mentions.c.topic).order_by(func.count().desc())
            ).all()
        return {
            "mentions": [{"source": s, "brand": b, "mentions": n, "complaints": int(c or 0)} for s, b, n, c in by_brand],
            "outbox": {k: outbox_counts.get(k, 0) for k in ("pending", "sending", "delivered", "dead")},
            "complaint_topics": [{"topic": t, "complaints": n} for t, n in topics],
            "sources": self.source_health(),
            "usage_this_month": self.usage(),
        }

    def claim_digest(self, brand: str, day, target: str, force: bool = False) -> bool:
        """Reserves a digest run so that one instance sends it, once; ``force`` takes it over."""
        with self.engine.begin() as conn:
            where = [digest_runs.c.brand == brand, digest_runs.c.day == day, digest_runs.c.target == target]
            stale = utcnow() - timedelta(hours=1)  # a sender that died mid-send
            if force:
                conn.execute(digest_runs.delete().where(*where))
            else:
                conn.execute(digest_runs.delete().where(*where, digest_runs.c.status == "sending",
                                                        digest_runs.c.created_at < stale))
            stmt = self._insert_new(digest_runs, ["brand", "day", "target"]).values(
                brand=brand, day=day, target=target, status="sending", created_at=utcnow(), detail="")
            return conn.execute(stmt.returning(digest_runs.c.id)).first() is not None

    def finish_digest(self, brand: str, day, target: str, detail: Optional[str]) -> None:
        """Marks the run sent, or (detail None) removes the reservation so the next run retries."""
        where = [digest_runs.c.brand == brand, digest_runs.c.day == day, digest_runs.c.target == target]
        with self.engine.begin() as conn:
            if detail is None:
                conn.execute(digest_runs.delete().where(*where))
            else:
                conn.execute(update(digest_runs).where(*where).values(status="sent", detail=detail[:2000]))


class SourceMeter:
    """A connector's UsageMeter backed by the source_usage table."""

    def __init__(self, store: MentionStore, source: str, monthly_budget: int = 0) -> None:
        self.store, self.source, self.budget = store, source, monthly_budget

    def used(self) -> int:
        return self.store.usage().get(self.source, {}).get("posts_read", 0)

    def reserve(self, posts: int) -> None:
        if not self.budget:
            return
        used = self.used()
        if used + posts > self.budget:
            now = utcnow()
            next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
            from monitor.components import SourceError

            raise SourceError(f"monthly post budget reached: {used:,} of {self.budget:,} read in {now:%Y-%m}; "
                              f"paused until {next_month:%Y-%m-%d} (raise monthly_post_budget to resume)",
                              retry_after=(next_month - now).total_seconds(), notice=True, pause_reason="budget")

    def add(self, posts: int, requests: int = 1) -> None:
        from monitor.metrics import API_REQUESTS

        API_REQUESTS.labels(self.source).inc(requests)
        self.store.add_usage(self.source, posts, requests)
