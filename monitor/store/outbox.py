"""The alert outbox: claims (one sender per alert, across instances), delivery results, dead letters."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from monitor.clock import utcnow
from monitor.model import Alert, CaseState
from monitor.store.cases import CASE_FIELDS
from monitor.store.database import Database
from monitor.store.schema import cases, mentions, outbox

# folded: a burst's complaint beyond the ones its thread carries; counted in the spike, not posted on its own.
# cancelled: its post was deleted by its author before the alert went out.
STATUSES = ("pending", "sending", "delivered", "folded", "dead", "cancelled")

# Executed with many parameter sets at once: one statement per batch of results.
_DELIVERED = update(outbox).where(outbox.c.id == bindparam("oid")).values(
    status="delivered", delivered_at=bindparam("at"), message_ref=bindparam("ref"), attempts=outbox.c.attempts + 1,
    last_error=None, burst_id=bindparam("burst"))
_FOLDED = update(outbox).where(outbox.c.id == bindparam("oid")).values(
    status="folded", delivered_at=bindparam("at"), attempts=outbox.c.attempts + 1, last_error=None,
    burst_id=bindparam("burst"))
_FAILED = update(outbox).where(outbox.c.id == bindparam("oid")).values(
    status=bindparam("status"), attempts=outbox.c.attempts + 1, last_error=bindparam("error"), claimed_at=None,
    next_attempt_at=bindparam("next_at"))
_RELEASED = update(outbox).where(outbox.c.id == bindparam("oid"), outbox.c.status == "sending").values(
    status="pending", claimed_at=None, claimed_by=None)


def _alert_query():
    case_columns = [cases.c[name].label(f"case_{name}") for name in CASE_FIELDS]
    return (
        select(outbox.c.id, outbox.c.route, outbox.c.channel, outbox.c.attempts, outbox.c.sink,
               outbox.c.claimed_at, outbox.c.message_ref, outbox.c.created_at.label("stored_at"),
               mentions.c.id.label("mention_id"),
               mentions.c.source, mentions.c.brand, mentions.c.external_id, mentions.c.author,
               mentions.c.author_reach, mentions.c.url, mentions.c.text, mentions.c.created_at, mentions.c.compound,
               mentions.c.confidence, mentions.c.reasons, mentions.c.topic, mentions.c.priority, *case_columns)
        .join(mentions, mentions.c.id == outbox.c.mention_id)
        .outerjoin(cases, cases.c.mention_id == outbox.c.mention_id)
    )


def _case(m) -> CaseState | None:
    if m["case_id"] is None:
        return None
    return CaseState(**{name: m[f"case_{name}"] for name in CASE_FIELDS})


def _alert(row: Any) -> Alert:
    m = row._mapping
    return Alert(
        outbox_id=m["id"], route=m["route"], channel=m["channel"], attempt=m["attempts"] + 1,
        mention_id=m["mention_id"], source=m["source"], brand=m["brand"], external_id=m["external_id"],
        author=m["author"], author_reach=m["author_reach"], url=m["url"], text=m["text"],
        created_at=m["created_at"], compound=m["compound"], confidence=m["confidence"],
        reasons=m["reasons"] or [], topic=m["topic"], priority=m["priority"], sink=m["sink"],
        stored_at=m["stored_at"], case=_case(m), message_ref=m["message_ref"])


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_next(self, owner: str, skip_sinks: Iterable[str] = (), now: datetime | None = None) -> Alert | None:
        """The oldest due alert, claimed for ``owner``."""
        claimed = self.claim_batch(owner, 1, skip_sinks, now)
        return claimed[0] if claimed else None

    def claim_batch(self, owner: str, limit: int, skip_sinks: Iterable[str] = (),
                    now: datetime | None = None) -> list[Alert]:
        """Up to ``limit`` of the oldest due alerts, claimed for ``owner`` in one statement, oldest first.
        Rows other instances are claiming are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL), and the claim
        re-checks each row is still pending (SQLite has no row locks), so an alert is never claimed twice."""
        now = now or utcnow()
        where = [outbox.c.status == "pending", outbox.c.next_attempt_at <= now]
        if skip_sinks:
            where.append(outbox.c.sink.not_in(list(skip_sinks)))
        due = select(outbox.c.id).where(*where).order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)
        with self.db.engine.begin() as conn:
            # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n SKIP LOCKED): PostgreSQL may run such
            # a subquery more than once and claim more than n rows.
            locked = list(conn.execute(due).scalars())
            if not locked:
                return []
            ids = list(conn.execute(update(outbox).where(outbox.c.id.in_(locked), outbox.c.status == "pending")
                                    .values(status="sending", claimed_at=utcnow(), claimed_by=owner)
                                    .returning(outbox.c.id)).scalars())
        if not ids:
            return []
        with self.db.engine.connect() as conn:
            return [_alert(row) for row in conn.execute(_alert_query().where(outbox.c.id.in_(ids))
                                                        .order_by(outbox.c.id))]

    def finish(self, delivered: list[tuple[int, str | None, int | None]] = (),
               folded: list[tuple[int, int]] = (), failed: list[tuple[int, str, datetime | None]] = (),
               released: list[int] = ()) -> None:
        """The results of a batch in one transaction: (id, message ref, burst id) delivered, (id, burst id)
        folded into their burst, (id, error, next attempt or None to dead-letter) failed, ids put back."""
        now = utcnow()
        with self.db.engine.begin() as conn:
            if delivered:
                conn.execute(_DELIVERED, [{"oid": i, "at": now, "ref": ref, "burst": b} for i, ref, b in delivered])
            if folded:
                conn.execute(_FOLDED, [{"oid": i, "at": now, "burst": b} for i, b in folded])
            if failed:
                conn.execute(_FAILED, [{"oid": i, "error": error[:2000], "next_at": at or now,
                                        "status": "pending" if at else "dead"} for i, error, at in failed])
            if released:
                conn.execute(_RELEASED, [{"oid": i} for i in released])

    def stale_claims(self, older_than: datetime) -> list[tuple[Alert, datetime]]:
        """Alerts claimed before ``older_than`` and never finished: their sender died. They may or may not
        have reached the sink."""
        stmt = _alert_query().where(outbox.c.status == "sending", outbox.c.claimed_at < older_than) \
            .order_by(outbox.c.id)
        with self.db.engine.connect() as conn:
            return [(_alert(row), row.claimed_at) for row in conn.execute(stmt)]

    def release(self, outbox_id: int) -> None:
        self.finish(released=[outbox_id])

    def mark_delivered(self, outbox_id: int, message_ref: str | None, burst_id: int | None = None) -> None:
        self.finish(delivered=[(outbox_id, message_ref, burst_id)])

    def mark_failed(self, outbox_id: int, error: str, next_attempt_at: datetime | None) -> None:
        """Schedules a retry, or dead-letters the alert when next_attempt_at is None."""
        self.finish(failed=[(outbox_id, error, next_attempt_at)])

    def retry_dead(self, outbox_ids: list[int] | None = None) -> list[int]:
        """Queues dead alerts again (all, or these ids); returns the ids that were dead and are queued."""
        stmt = update(outbox).where(outbox.c.status == "dead")
        if outbox_ids:
            stmt = stmt.where(outbox.c.id.in_(outbox_ids))
        stmt = stmt.values(status="pending", attempts=0, next_attempt_at=utcnow()).returning(outbox.c.id)
        with self.db.engine.begin() as conn:
            return sorted(conn.execute(stmt).scalars())

    def dead_alerts(self, limit: int = 50) -> list[dict]:
        stmt = (select(outbox.c.id, outbox.c.route, outbox.c.attempts, outbox.c.last_error, mentions.c.brand,
                       mentions.c.url).join(mentions, mentions.c.id == outbox.c.mention_id)
                .where(outbox.c.status == "dead").order_by(outbox.c.id).limit(limit))
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def alert(self, outbox_id: int) -> Alert | None:
        """One alert as it stands now, with its case and, once delivered, its message reference."""
        with self.db.engine.connect() as conn:
            row = conn.execute(_alert_query().where(outbox.c.id == outbox_id)).first()
        return _alert(row) if row else None

    def awaiting_reminder(self, routes: list[str]) -> list[tuple[int, str, datetime]]:
        """(outbox id, route, case opened at) of delivered alerts on these routes whose case is still open with
        no response and whose reminder has not gone out."""
        stmt = (select(outbox.c.id, outbox.c.route, cases.c.opened_at)
                .join(cases, cases.c.mention_id == outbox.c.mention_id)
                .where(outbox.c.route.in_(routes), outbox.c.status == "delivered", outbox.c.reminded_at.is_(None),
                       outbox.c.message_ref.is_not(None), cases.c.status == "open",
                       cases.c.first_response_at.is_(None))
                .order_by(outbox.c.id))
        with self.db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(stmt)]

    def claim_reminder(self, outbox_id: int) -> bool:
        with self.db.engine.begin() as conn:
            return conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.reminded_at.is_(None))
                                .values(reminded_at=utcnow())).rowcount == 1

    def release_reminder(self, outbox_id: int) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(reminded_at=None))

    def enqueue(self, mention_id: int, route: str, sink: str, channel: str | None) -> bool:
        """Queues an alert of a stored complaint on one more route (an escalation); once per route."""
        now = utcnow()
        stmt = self.db.insert_new(outbox, ["mention_id", "route"]).values(
            mention_id=mention_id, route=route, sink=sink, channel=channel, status="pending", attempts=0,
            next_attempt_at=now, created_at=now).returning(outbox.c.id)
        with self.db.engine.begin() as conn:
            return conn.execute(stmt).first() is not None

    def counts(self) -> dict[str, int]:
        """Alerts by status, every status present (0 when none)."""
        with self.db.engine.connect() as conn:
            found = dict(conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
        return {status: found.get(status, 0) for status in STATUSES}
