"""What the web inbox reads: the cases still being worked (light columns, every one, for ordering by deadline
and counting), the posts of the page shown, one case with its post, an author's other posts, and a version
that changes whenever any case does."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from monitor.store.database import Database
from monitor.store.schema import bursts, case_events, cases, mentions, outbox

WORKING = ("open", "claimed")


@dataclass(frozen=True, slots=True)
class WorkingCase:
    id: int
    status: str
    brand: str
    opened_at: datetime
    claimed_by: str | None
    answered: bool         # it has its first response
    source: str | None     # None for a spike's case
    topic: str | None
    priority: float
    routes: tuple[str, ...]


class InboxReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def working(self) -> list[WorkingCase]:
        """Every open or claimed case, with the routes its alerts took (their SLAs set its deadline)."""
        stmt = (select(cases.c.id, cases.c.status, cases.c.brand, cases.c.opened_at, cases.c.claimed_by,
                       cases.c.first_response_at.is_not(None).label("answered"), mentions.c.source,
                       mentions.c.topic, mentions.c.priority, bursts.c.route)
                .outerjoin(mentions, mentions.c.id == cases.c.mention_id)
                .outerjoin(bursts, bursts.c.id == cases.c.burst_id)
                .where(cases.c.status.in_(WORKING)))
        routes_stmt = (select(outbox.c.mention_id, outbox.c.route).distinct()
                       .join(cases, cases.c.mention_id == outbox.c.mention_id)
                       .where(cases.c.status.in_(WORKING)))
        with self.db.engine.connect() as conn:
            routes: dict[int, list[str]] = {}
            for mention_id, route in conn.execute(routes_stmt):
                routes.setdefault(mention_id, []).append(route)
            rows = conn.execute(stmt.add_columns(cases.c.mention_id)).all()
        return [WorkingCase(r.id, r.status, r.brand, r.opened_at, r.claimed_by, bool(r.answered), r.source,
                            r.topic, r.priority or 0.0,
                            tuple(routes.get(r.mention_id, ())) if r.mention_id else ((r.route,) if r.route else ()))
                for r in rows]

    def posts(self, case_ids: list[int]) -> dict[int, dict]:
        """The post of each case (text, author, link, reasons), by case id."""
        if not case_ids:
            return {}
        stmt = (select(cases.c.id, mentions.c.text, mentions.c.author, mentions.c.url, mentions.c.reasons,
                       mentions.c.redacted, mentions.c.author_reach, cases.c.burst_id)
                .outerjoin(mentions, mentions.c.id == cases.c.mention_id).where(cases.c.id.in_(case_ids)))
        with self.db.engine.connect() as conn:
            return {r.id: dict(r._mapping) for r in conn.execute(stmt)}

    def case(self, case_id: int) -> dict | None:
        """A case with its post's every column (mention columns prefixed ``post_``)."""
        post = [c.label(f"post_{c.name}") for c in mentions.c]
        stmt = (select(cases, *post).outerjoin(mentions, mentions.c.id == cases.c.mention_id)
                .where(cases.c.id == case_id))
        with self.db.engine.connect() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            found = dict(row._mapping)
            found["routes"] = list(conn.execute(select(outbox.c.route).distinct()
                                                .where(outbox.c.mention_id == row.mention_id)).scalars()) \
                if row.mention_id else []
            if row.burst_id:
                found["spike_route"] = conn.execute(select(bursts.c.route)
                                                    .where(bursts.c.id == row.burst_id)).scalar()
        return found

    def author_posts(self, source: str, author: str, except_id: int, limit: int = 10) -> list[dict]:
        """The author's other stored posts on the same network, newest first, with their case if any."""
        if not author:
            return []
        stmt = (select(mentions.c.id, mentions.c.text, mentions.c.url, mentions.c.created_at, mentions.c.brand,
                       mentions.c.is_complaint, cases.c.id.label("case_id"), cases.c.status.label("case_status"))
                .outerjoin(cases, cases.c.mention_id == mentions.c.id)
                .where(mentions.c.source == source, mentions.c.author == author, mentions.c.id != except_id,
                       mentions.c.redacted.is_(None))
                .order_by(mentions.c.created_at.desc()).limit(limit))
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def version(self, case_id: int | None = None) -> str:
        """Changes whenever a case (or the one case) is opened, moved or annotated, whichever process did it."""
        where = [] if case_id is None else [cases.c.id == case_id]
        events = select(func.max(case_events.c.id))
        if case_id is not None:
            events = events.where(case_events.c.case_id == case_id)
        with self.db.engine.connect() as conn:
            top, newest, count = conn.execute(select(func.max(cases.c.id), func.max(cases.c.updated_at),
                                                     func.count()).where(*where)).one()
            event = conn.execute(events).scalar()
        return f"{top or 0}.{event or 0}.{count}.{newest.timestamp() if newest else 0:.6f}"
