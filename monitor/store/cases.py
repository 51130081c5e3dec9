"""Cases, their history and the labels they leave: each transition is one guarded UPDATE, so double clicks,
two agents at once and several instances change a case once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.engine import Connection

from monitor.cases.machine import STATUSES, TRANSITIONS, refusal
from monitor.clock import utcnow
from monitor.model import CaseState, PublicReply
from monitor.store.database import Database
from monitor.store.schema import case_events, cases, labels, mentions, outbox

CASE_FIELDS = tuple(CaseState.__dataclass_fields__)


@dataclass(frozen=True)
class Outcome:
    case: CaseState | None    # the case as it is now (None: no such case)
    changed: bool
    reason: str = ""             # why nothing changed
    first_response: bool = False  # this action was the case's first response


def case_state(row: Any) -> CaseState:
    return CaseState(**{k: row._mapping[k] for k in CASE_FIELDS})


def open_cases(conn: Connection, mentions_by_id: dict[int, str], now: datetime) -> None:
    """Part of the ingest transaction: a case for each newly alerted complaint ({mention id: brand})."""
    if mentions_by_id:
        conn.execute(insert(cases), [{"mention_id": ident, "brand": brand, "status": "open", "opened_at": now,
                                      "updated_at": now} for ident, brand in mentions_by_id.items()])


class CaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, case_id: int) -> CaseState | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
        return case_state(row) if row else None

    def apply(self, case_id: int, action: str, actor: str, origin: str) -> Outcome:
        """Moves the case if ``action`` applies to its state now; history and label in the same transaction."""
        transition = TRANSITIONS[action]
        now = utcnow()
        with self.db.engine.begin() as conn:
            before = conn.execute(select(cases).where(cases.c.id == case_id)).first()
            if before is None:
                return Outcome(None, False, f"there is no case {case_id}")
            won = conn.execute(update(cases).where(cases.c.id == case_id,
                                                   cases.c.status.in_(transition.allowed_from))
                               .values(**self._changes(action, actor, now))).rowcount
            after = conn.execute(select(cases).where(cases.c.id == case_id)).one()
            if not won:
                by = after.closed_by if after.status in ("resolved", "dismissed") else after.claimed_by
                return Outcome(case_state(after), False, refusal(action, after.status, by))
            conn.execute(insert(case_events).values(case_id=case_id, action=action, actor=actor, origin=origin,
                                                    from_status=before.status, to_status=transition.to, at=now))
            if transition.label is not None and after.mention_id is not None:  # a spike's case labels no post
                conn.execute(insert(labels).values(mention_id=after.mention_id, brand=after.brand,
                                                   is_complaint=transition.label,
                                                   actor=actor, origin=origin, at=now))
        return Outcome(case_state(after), True, first_response=before.first_response_at is None
                       and after.first_response_at is not None)

    @staticmethod
    def _changes(action: str, actor: str, now: datetime) -> dict:
        values: dict[str, Any] = {"status": TRANSITIONS[action].to, "updated_at": now}
        first = {"first_response_at": func.coalesce(cases.c.first_response_at, now),
                 "first_response_by": func.coalesce(cases.c.first_response_by, actor)}
        if action == "claim":
            values.update(claimed_by=actor, claimed_at=now, **first)
        elif action in ("resolve", "dismiss"):
            values.update(closed_by=actor, closed_at=now, **first)
        else:  # reopen: back in the queue; the first response stays what it was
            values.update(closed_by=None, closed_at=None, claimed_by=None, claimed_at=None)
        return values

    def counts(self) -> dict[str, int]:
        """Cases by status, every status present."""
        with self.db.engine.connect() as conn:
            found = dict(conn.execute(select(cases.c.status, func.count()).group_by(cases.c.status)).all())
        return {status: found.get(status, 0) for status in STATUSES}

    def answer_publicly(self, reply: PublicReply) -> Outcome | None:
        """The brand answered the post in public: the case's first response, unless it already had one; an
        open case counts as claimed by the brand account. None when the post has no case of the account's
        brands: the post is found by source and id together (ids repeat across networks), and another
        brand's account answering it is not this brand's response."""
        with self.db.engine.begin() as conn:
            before = conn.execute(select(cases).join(mentions, mentions.c.id == cases.c.mention_id).where(
                mentions.c.source == reply.source, mentions.c.external_id == reply.in_reply_to,
                cases.c.brand.in_(reply.brands))).first()
            if before is None:
                return None
            at = max(reply.at, before.opened_at) if reply.at else before.opened_at
            won = conn.execute(update(cases).where(cases.c.id == before.id, cases.c.first_response_at.is_(None))
                               .values(first_response_at=at, first_response_by=reply.account,
                                       public_reply_url=reply.url, updated_at=utcnow(),
                                       status=case((cases.c.status == "open", "claimed"), else_=cases.c.status),
                                       claimed_by=func.coalesce(cases.c.claimed_by, reply.account),
                                       claimed_at=func.coalesce(cases.c.claimed_at, at))).rowcount
            after = conn.execute(select(cases).where(cases.c.id == before.id)).one()
            if not won:
                return Outcome(case_state(after), False, "it already had a first response")
            conn.execute(insert(case_events).values(case_id=before.id, action="answer", actor=reply.account,
                                                    origin="auto", from_status=before.status,
                                                    to_status=after.status, at=utcnow()))
        return Outcome(case_state(after), True, first_response=True)

    def open_for_burst(self, burst_id: int, brand: str) -> CaseState:
        """The spike's case, opened once however many deliveries reach the burst."""
        now = utcnow()
        with self.db.engine.begin() as conn:
            conn.execute(self.db.insert_new(cases, ["burst_id"]).values(
                burst_id=burst_id, brand=brand, status="open", opened_at=now, updated_at=now))
            return case_state(conn.execute(select(cases).where(cases.c.burst_id == burst_id)).one())

    def open_in_thread(self, burst_id: int) -> list[int]:
        """The still-open cases of the complaints threaded under a spike (nobody claimed them separately)."""
        stmt = (select(cases.c.id).join(outbox, outbox.c.mention_id == cases.c.mention_id)
                .where(outbox.c.burst_id == burst_id, cases.c.status == "open").distinct().order_by(cases.c.id))
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def note(self, case_id: int, action: str, actor: str, origin: str) -> None:
        """Records something that happened to a case without changing its state (an SLA reminder)."""
        with self.db.engine.begin() as conn:
            status = conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar_one()
            conn.execute(insert(case_events).values(case_id=case_id, action=action, actor=actor, origin=origin,
                                                    from_status=status, to_status=status, at=utcnow()))

    def history(self, case_id: int) -> list[dict]:
        stmt = select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def labels_of(self, mention_id: int) -> list[dict]:
        stmt = select(labels).where(labels.c.mention_id == mention_id).order_by(labels.c.id)
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def find(self, status: str | None = None, brand: str | None = None,
             opened_before: datetime | None = None, limit: int = 200) -> list[dict]:
        """Cases with their post, oldest first."""
        stmt = (select(cases, mentions.c.text, mentions.c.url, mentions.c.author, mentions.c.topic,
                       mentions.c.priority, mentions.c.created_at)
                .outerjoin(mentions, mentions.c.id == cases.c.mention_id)
                .order_by(cases.c.opened_at, cases.c.id)
                .limit(limit))
        if status:
            stmt = stmt.where(cases.c.status == status)
        if brand:
            stmt = stmt.where(cases.c.brand == brand)
        if opened_before:
            stmt = stmt.where(cases.c.opened_at < opened_before)
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def messages(self, case_id: int) -> list[int]:
        """The outbox ids of the case's delivered alerts: the messages that show its state."""
        stmt = (select(outbox.c.id).join(cases, cases.c.mention_id == outbox.c.mention_id)
                .where(cases.c.id == case_id, outbox.c.status == "delivered", outbox.c.message_ref.is_not(None))
                .order_by(outbox.c.id))
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())
