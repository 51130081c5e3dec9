"""What the web inbox reads: the cases still being worked (light columns, every one, for ordering by deadline
and counting), the posts of the page shown, one case with its post, an author's other posts, and a version
that changes whenever any case does."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, func, select, type_coerce

from monitor.store.database import Database
from monitor.store.schema import bursts, case_events, cases, mentions, outbox

WORKING = ("open", "claimed")


def _instant(value) -> datetime:
    """A stored UTC instant: SQLite's text ("2026-03-10 12:00:00.000000"), or PostgreSQL's aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


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

    def working(self, changed_since: datetime | None = None) -> tuple[list[WorkingCase], set[int], datetime | None]:
        """Every open or claimed case with the routes its alerts took (their SLAs set its deadline), or, with
        ``changed_since``, only the cases changed since then; also the ids among those that are no longer
        worked, and the newest change read. Read as plain tuples: a queue of ten thousand is read often."""
        opened = cases.c.opened_at
        if self.db.dialect == "sqlite":  # parsed below by datetime.fromisoformat, several times faster
            opened = type_coerce(cases.c.opened_at, String)
        scope = cases.c.status.in_(WORKING) if changed_since is None else cases.c.updated_at >= changed_since
        stmt = (select(cases.c.id, cases.c.status, cases.c.brand, opened, cases.c.claimed_by,
                       cases.c.first_response_at.is_not(None), mentions.c.source, mentions.c.topic,
                       mentions.c.priority, cases.c.mention_id, bursts.c.route)
                .outerjoin(mentions, mentions.c.id == cases.c.mention_id)
                .outerjoin(bursts, bursts.c.id == cases.c.burst_id).where(scope))
        routes_stmt = (select(outbox.c.mention_id, outbox.c.route).distinct()
                       .join(cases, cases.c.mention_id == outbox.c.mention_id).where(scope))
        with self.db.engine.connect() as conn:
            newest = conn.execute(select(func.max(cases.c.updated_at)).where(scope)).scalar()
            routes: dict[int, list[str]] = {}
            for mention_id, route in conn.execute(routes_stmt).all():
                routes.setdefault(mention_id, []).append(route)
            rows = conn.execute(stmt).all()
        worked = [WorkingCase(ident, status, brand, _instant(at), by, bool(answered), source, topic, priority or 0.0,
                              tuple(routes.get(mention, ())) if mention else ((spike,) if spike else ()))
                  for ident, status, brand, at, by, answered, source, topic, priority, mention, spike in rows
                  if status in WORKING]
        left = {row[0] for row in rows if row[1] not in WORKING}
        return worked, left, newest

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
