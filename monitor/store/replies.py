"""Public replies written in the monitor. A reply's row is committed before the network is called, and each
change of its status is one guarded UPDATE, so a double click, two instances or a crash post it once; the
sent reply and the case's first response are recorded in one transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from monitor.clock import utcnow
from monitor.model import CaseState, ReplyTarget, SentReply
from monitor.store.cases import case_state
from monitor.store.database import Database
from monitor.store.schema import case_events, cases, mentions, replies

#: statuses a new attempt may take over (the same text again after a failure or a rejection)
RETRYABLE = ("failed", "rejected")


@dataclass(frozen=True)
class Reply:
    id: int
    case_id: int
    platform: str
    text: str
    key: str
    status: str
    author: str
    origin: str
    approved_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    external_id: str | None
    url: str | None
    error: str | None
    message_ref: str | None


def _reply(row: Any) -> Reply:
    return Reply(**{k: row._mapping[k] for k in Reply.__dataclass_fields__})


def fingerprint(case_id: int, text: str) -> str:
    """One row per case and wording: the same words twice are the same reply (a double click)."""
    return hashlib.sha256(f"{case_id}\n{' '.join(text.split())}".encode()).hexdigest()


class ReplyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def target(self, case_id: int, platform_of) -> ReplyTarget | None:
        """The post a case is about (None: no case, or a spike's case without one post)."""
        stmt = select(cases.c.id, cases.c.mention_id, cases.c.brand, mentions.c.source, mentions.c.external_id,
                      mentions.c.url, mentions.c.author, mentions.c.text).join(
            mentions, mentions.c.id == cases.c.mention_id).where(cases.c.id == case_id)
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return ReplyTarget(case_id=row.id, mention_id=row.mention_id, brand=row.brand, source=row.source,
                           platform=platform_of(row.source), external_id=row.external_id, url=row.url,
                           author=row.author, text=row.text)

    def get(self, reply_id: int) -> Reply | None:
        with self.db.engine.connect() as conn:
            row = conn.execute(select(replies).where(replies.c.id == reply_id)).first()
        return _reply(row) if row else None

    def of_case(self, case_id: int) -> list[Reply]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(replies).where(replies.c.case_id == case_id).order_by(replies.c.id)).all()
        return [_reply(r) for r in rows]

    def start(self, case_id: int, platform: str, text: str, key: str, author: str, origin: str, status: str,
              approved_by: str | None = None) -> tuple[Reply, bool]:
        """Stores the reply as ``status`` (sending or awaiting_approval) before anything is posted. Returns the
        row and whether this call owns it; an existing row of the same words is returned unowned unless it
        failed or was rejected, when this attempt takes it over with a new key."""
        now = utcnow()
        values = {"case_id": case_id, "platform": platform, "text": text, "key": key, "status": status,
                  "author": author, "origin": origin, "approved_by": approved_by, "updated_at": now, "error": None}
        mark = fingerprint(case_id, text)
        try:
            with self.db.engine.begin() as conn:
                ident = conn.execute(insert(replies).values(fingerprint=mark, created_at=now, **values)
                                     .returning(replies.c.id)).scalar_one()
                return _reply(conn.execute(select(replies).where(replies.c.id == ident)).one()), True
        except IntegrityError:
            pass
        with self.db.engine.begin() as conn:
            won = conn.execute(update(replies).where(replies.c.fingerprint == mark, replies.c.status.in_(RETRYABLE))
                               .values(**values)).rowcount
            row = conn.execute(select(replies).where(replies.c.fingerprint == mark)).one()
        return _reply(row), bool(won)

    def in_flight(self, case_id: int) -> Reply | None:
        """A reply of the case that is being sent or waits for approval."""
        stmt = select(replies).where(replies.c.case_id == case_id,
                                     replies.c.status.in_(("sending", "awaiting_approval"))).order_by(replies.c.id)
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return _reply(row) if row else None

    def move(self, reply_id: int, from_status: tuple[str, ...], to_status: str, **values) -> Reply | None:
        """The reply moved to ``to_status`` if it was in ``from_status`` (None when someone else moved it)."""
        with self.db.engine.begin() as conn:
            won = conn.execute(update(replies).where(replies.c.id == reply_id, replies.c.status.in_(from_status))
                               .values(status=to_status, updated_at=utcnow(), **values)).rowcount
            row = conn.execute(select(replies).where(replies.c.id == reply_id)).first()
        return _reply(row) if won and row else None

    def note_error(self, reply_id: int, error: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(replies).where(replies.c.id == reply_id).values(error=error[:1000],
                                                                                  updated_at=utcnow()))

    def unsettled(self, older_than: timedelta = timedelta(0)) -> list[Reply]:
        """Replies left 'sending' (a crash or a timeout between the call and the record)."""
        stmt = select(replies).where(replies.c.status == "sending",
                                     replies.c.updated_at <= utcnow() - older_than).order_by(replies.c.id)
        with self.db.engine.connect() as conn:
            return [_reply(r) for r in conn.execute(stmt)]

    def record_sent(self, reply: Reply, sent: SentReply, actor: str) -> tuple[CaseState, bool] | None:
        """The reply is public: its row and the case's response in one transaction. Returns the case and
        whether this was its first response; None when the reply was already recorded."""
        now = utcnow()
        with self.db.engine.begin() as conn:
            won = conn.execute(update(replies).where(replies.c.id == reply.id, replies.c.status == "sending")
                               .values(status="sent", sent_at=now, updated_at=now, external_id=sent.external_id,
                                       url=sent.url, error=None)).rowcount
            if not won:
                return None
            return self._answered(conn, reply.case_id, actor, reply.origin, "reply", sent.url, now)

    def record_off_platform(self, reply: Reply, actor: str) -> tuple[CaseState, bool] | None:
        now = utcnow()
        with self.db.engine.begin() as conn:
            return self._answered(conn, reply.case_id, actor, reply.origin, "off_platform", None, now)

    @staticmethod
    def _answered(conn, case_id: int, actor: str, origin: str, action: str, url: str | None,
                  now: datetime) -> tuple[CaseState, bool]:
        """The case was answered: its first response if it had none, claimed if open, the link kept."""
        before = conn.execute(select(cases).where(cases.c.id == case_id)).one()
        first = before.first_response_at is None
        conn.execute(update(cases).where(cases.c.id == case_id).values(
            first_response_at=func.coalesce(cases.c.first_response_at, now),
            first_response_by=case((cases.c.first_response_at.is_(None), actor), else_=cases.c.first_response_by),
            public_reply_url=func.coalesce(cases.c.public_reply_url, url),
            status=case((cases.c.status == "open", "claimed"), else_=cases.c.status),
            claimed_by=func.coalesce(cases.c.claimed_by, actor), claimed_at=func.coalesce(cases.c.claimed_at, now),
            updated_at=now))
        after = conn.execute(select(cases).where(cases.c.id == case_id)).one()
        conn.execute(insert(case_events).values(case_id=case_id, action=action, actor=actor, origin=origin,
                                                from_status=before.status, to_status=after.status, at=now))
        return case_state(after), first

    def counts(self) -> dict[str, int]:
        with self.db.engine.connect() as conn:
            return dict(conn.execute(select(replies.c.status, func.count()).group_by(replies.c.status)).all())

    def awaiting(self, case_id: int | None = None) -> list[Reply]:
        where = [replies.c.status == "awaiting_approval"]
        if case_id is not None:
            where.append(replies.c.case_id == case_id)
        with self.db.engine.connect() as conn:
            return [_reply(r) for r in conn.execute(select(replies).where(and_(*where)).order_by(replies.c.id))]

    def set_message(self, reply_id: int, message_ref: str | None) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(replies).where(replies.c.id == reply_id).values(message_ref=message_ref))

    def sent_for(self, case_id: int) -> list[Reply]:
        stmt = select(replies).where(replies.c.case_id == case_id, or_(replies.c.status == "sent",
                                                                        replies.c.status == "off_platform"))
        with self.db.engine.connect() as conn:
            return [_reply(r) for r in conn.execute(stmt.order_by(replies.c.id))]
