"""Stored mentions: the ingest transaction (mentions, their alerts, the source's cursor and counters) and
mentions read back for export."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update

from monitor.clock import utcnow
from monitor.model import Route
from monitor.store.cases import open_cases
from monitor.store.database import Database
from monitor.store.privacy import redact
from monitor.store.schema import case_events, cases, mentions, outbox
from monitor.store.sources import SourceRepository

ID_CHUNK = 500  # ids per IN (...) list: well under every backend's parameter limit
DELETED_TEXT = "[deleted by its author]"


@dataclass(slots=True)
class StoredBatch:
    stored: int
    duplicates: int
    alerts: int
    inserted: set[str] = field(default_factory=set)  # external ids this batch stored


class MentionRepository:
    def __init__(self, db: Database, sources: SourceRepository) -> None:
        self.db = db
        self.sources = sources

    def forget(self, source: str, external_ids: list[str]) -> tuple[int, list[int]]:
        """Posts their authors deleted: the text, author and link go (the row stays, so counts and figures
        hold), an alert not yet sent is cancelled, and a case still open or claimed closes as gone. Returns how
        many stored posts were forgotten and the cases that closed."""
        now = utcnow()
        forgotten, closed = 0, []
        with self.db.engine.begin() as conn:
            for start in range(0, len(external_ids), ID_CHUNK):
                chunk = external_ids[start:start + ID_CHUNK]
                ids = list(conn.execute(select(mentions.c.id).where(
                    mentions.c.source == source, mentions.c.external_id.in_(chunk),
                    mentions.c.redacted.is_(None))).scalars())
                if not ids:
                    continue
                forgotten += len(ids)
                redact(conn, ids, DELETED_TEXT, "deleted")
                conn.execute(update(outbox).where(outbox.c.mention_id.in_(ids), outbox.c.status == "pending")
                             .values(status="cancelled", last_error="the post was deleted by its author"))
                for case_id, status in conn.execute(select(cases.c.id, cases.c.status)
                                                    .where(cases.c.mention_id.in_(ids))):
                    gone = status in ("open", "claimed")
                    if gone:
                        conn.execute(update(cases).where(cases.c.id == case_id).values(
                            status="gone", closed_at=now, closed_by="its author", updated_at=now))
                        closed.append(case_id)
                    conn.execute(insert(case_events).values(case_id=case_id, action="post_deleted", actor="author",
                                                            origin="auto", from_status=status,
                                                            to_status="gone" if gone else status, at=now))
        return forgotten, closed

    def recent_complaints(self, source: str, since: datetime) -> list[str]:
        """The external ids of the source's complaints posted since ``since`` whose words are still held."""
        stmt = select(mentions.c.external_id).where(mentions.c.source == source, mentions.c.created_at >= since,
                                                    mentions.c.is_complaint.is_(True), mentions.c.redacted.is_(None))
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt.order_by(mentions.c.id)).scalars())

    def known_ids(self, source: str, external_ids: Iterable[str]) -> set[str]:
        ids = list(external_ids)
        known: set[str] = set()
        with self.db.engine.connect() as conn:
            for start in range(0, len(ids), ID_CHUNK):
                chunk = ids[start:start + ID_CHUNK]
                stmt = select(mentions.c.external_id).where(
                    mentions.c.source == source, mentions.c.external_id.in_(chunk))
                known.update(conn.execute(stmt).scalars())
        return known

    def store_batch(self, source: str, rows: list[dict], routes: list[list[Route]],
                    cursor: dict[str, str], read: int, rejected: int) -> StoredBatch:
        """Mentions, their outbox rows, the cursor and the counters: one transaction."""
        inserted: dict[str, int] = {}
        alerts = 0
        with self.db.engine.begin() as conn:
            if rows:
                stmt = self.db.insert_new(mentions, ["source", "external_id"]).returning(
                    mentions.c.id, mentions.c.external_id)
                inserted = {ext: ident for ident, ext in conn.execute(stmt, rows)}
                alerts = self._enqueue(conn, rows, routes, inserted)
                open_cases(
                    conn,
                    {
                        inserted[row["external_id"]]: row["brand"]
                        for row, row_routes in zip(rows, routes, strict=True)
                        if row_routes and row["external_id"] in inserted
                    },
                    utcnow(),
                )
            self.sources.save_cursor(conn, source, cursor)
            self.sources.count_batch(conn, source, read=read, stored=len(inserted), rejected=rejected)
        return StoredBatch(stored=len(inserted), duplicates=len(rows) - len(inserted), alerts=alerts,
                           inserted=set(inserted))

    @staticmethod
    def _enqueue(conn, rows: list[dict], routes: list[list[Route]], inserted: dict[str, int]) -> int:
        """One pending outbox row per route of each newly stored mention (a repeat alerts nobody)."""
        now = utcnow()
        outbox_rows = [
            {"mention_id": inserted[row["external_id"]], "route": r.name, "sink": r.sink,
             "channel": r.channel, "status": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for row, row_routes in zip(rows, routes, strict=True) if row["external_id"] in inserted
            for r in row_routes
        ]
        if outbox_rows:
            conn.execute(insert(outbox), outbox_rows)
        return len(outbox_rows)

    def count_between(self, since: datetime, until: datetime, brands: list[str]) -> int:
        stmt = select(func.count()).select_from(mentions).where(
            mentions.c.created_at >= since, mentions.c.created_at < until, mentions.c.brand.in_(brands))
        with self.db.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def created_range(self, brands: list[str]) -> tuple[datetime | None, datetime | None]:
        """When the oldest and the newest stored mention of these brands were posted."""
        stmt = select(func.min(mentions.c.created_at), func.max(mentions.c.created_at)).where(
            mentions.c.brand.in_(brands))
        with self.db.engine.connect() as conn:
            first, last = conn.execute(stmt).one()
        return first, last

    def created_between(self, fields: list[str], since: datetime, until: datetime,
                        brands: list[str] | None = None, chunk: int = 2000) -> Iterator[dict]:
        """Mentions created in [since, until), oldest first, fetched in chunks so memory stays flat."""
        stmt = select(*(mentions.c[f] for f in fields)).where(mentions.c.created_at >= since,
                                                             mentions.c.created_at < until)
        if brands:
            stmt = stmt.where(mentions.c.brand.in_(brands))
        with self.db.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(
                stmt.order_by(mentions.c.created_at, mentions.c.id))
            for row in result:
                yield dict(row._mapping)
