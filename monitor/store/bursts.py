"""Bursts: many complaints about one brand on one route within a window, grouped under one spike message."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import bursts, mentions, outbox

_JOINED = outbox.join(mentions, mentions.c.id == outbox.c.mention_id)


def _recent(route: str, brand: str, since: datetime):
    # By publication time: a backfill of last week's complaints arriving together is history, not an incident.
    return (outbox.c.route == route, mentions.c.brand == brand, mentions.c.created_at >= since)


def _tops(conn, where, top: int) -> dict:
    """The top topics and the most-read posts among the complaints matching ``where``."""
    topics = conn.execute(select(mentions.c.topic, func.count()).select_from(_JOINED).where(*where)
                          .group_by(mentions.c.topic).order_by(func.count().desc(), mentions.c.topic)
                          .limit(3)).all()
    posts = conn.execute(select(mentions.c.author, mentions.c.author_reach, mentions.c.text, mentions.c.url)
                         .select_from(_JOINED).where(*where)
                         .order_by(mentions.c.author_reach.desc(), mentions.c.id).limit(top)).all()
    return {"top_topics": [(t, n) for t, n in topics], "top_posts": [dict(p._mapping) for p in posts]}


class BurstRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open_burst(self, route: str, brand: str, since: datetime) -> dict | None:
        """The burst still running for a route and brand: its last complaint is inside the window."""
        stmt = (select(bursts).where(bursts.c.route == route, bursts.c.brand == brand, bursts.c.last_at >= since)
                .order_by(bursts.c.id.desc()).limit(1))
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt).first()
            return dict(row._mapping) if row else None

    def start_burst(self, route: str, brand: str) -> dict:
        now = utcnow()
        with self.db.engine.begin() as conn:
            ident = conn.execute(insert(bursts).values(route=route, brand=brand, started_at=now, last_at=now)
                                 .returning(bursts.c.id)).scalar_one()
        return {"id": ident, "route": route, "brand": brand, "started_at": now, "last_at": now, "message_ref": None}

    def update_burst(self, burst_id: int, message_ref: str | None = None) -> None:
        values: dict[str, Any] = {"last_at": utcnow()}
        if message_ref is not None:
            values["message_ref"] = message_ref
        with self.db.engine.begin() as conn:
            conn.execute(update(bursts).where(bursts.c.id == burst_id).values(**values))

    def spike(self, burst_id: int) -> dict | None:
        """A burst as its spike message shows it now: the live count of threaded complaints, their top topics
        and most-read posts, and where the spike was posted (the sink and channel of its thread)."""
        threaded = outbox.c.burst_id == burst_id
        with self.db.engine.connect() as conn:
            burst = conn.execute(select(bursts).where(bursts.c.id == burst_id)).first()
            first = conn.execute(select(outbox.c.sink, outbox.c.channel).where(threaded).order_by(outbox.c.id)
                                 .limit(1)).first()
            if burst is None or first is None:
                return None
            count = conn.execute(select(func.count()).select_from(outbox).where(threaded)).scalar_one()
            tops = _tops(conn, (threaded,), 3)
        return {"route": burst.route, "brand": burst.brand, "message_ref": burst.message_ref, "sink": first.sink,
                "channel": first.channel, "complaints": count, "started_at": burst.started_at,
                "last_at": burst.last_at, **tops}

    def replies(self, burst_id: int) -> int:
        """Complaints posted in the burst's thread so far (folded ones are not)."""
        stmt = select(func.count()).select_from(outbox).where(outbox.c.burst_id == burst_id,
                                                               outbox.c.status == "delivered")
        with self.db.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def top_waiting(self, route: str, brand: str, since: datetime, limit: int) -> list[int]:
        """Outbox ids of the highest-priority complaints of the window not yet delivered (pending or being sent)."""
        stmt = (select(outbox.c.id).select_from(_JOINED)
                .where(*_recent(route, brand, since), outbox.c.status.in_(("pending", "sending")))
                .order_by(mentions.c.priority.desc(), outbox.c.id).limit(limit))
        with self.db.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def recent_complaints(self, route: str, brand: str, since: datetime) -> int:
        stmt = select(func.count()).select_from(_JOINED).where(*_recent(route, brand, since))
        with self.db.engine.connect() as conn:
            return conn.execute(stmt).scalar_one()

    def summary(self, route: str, brand: str, since: datetime, top: int = 3) -> dict:
        """The window's top topics and its most-read posts, for the spike message."""
        with self.db.engine.connect() as conn:
            return _tops(conn, _recent(route, brand, since), top)
