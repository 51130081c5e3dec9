"""Posts whose label would teach the detector most: possible misses (negative or near the threshold, but not
flagged) and the least certain alerts, not yet labelled by anyone."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from monitor.store.database import Database
from monitor.store.schema import labels, mentions

MISS_COMPOUND = -0.3     # clearly negative, yet not flagged
MISS_CONFIDENCE = 0.3    # the rules saw some evidence, not enough


def posts_to_label(db: Database, brand: str, start: datetime, end: datetime, misses: int = 3,
                   uncertain: int = 2) -> list[dict]:
    unlabelled = ~select(labels.c.id).where(labels.c.mention_id == mentions.c.id).exists()
    day = (mentions.c.brand == brand, mentions.c.created_at >= start, mentions.c.created_at < end, unlabelled,
           mentions.c.redacted.is_(None))
    columns = (mentions.c.id, mentions.c.text, mentions.c.url, mentions.c.confidence, mentions.c.compound)
    with db.engine.connect() as conn:
        missed = conn.execute(select(*columns).where(
            *day, mentions.c.is_complaint.is_(False),
            or_(mentions.c.compound <= MISS_COMPOUND, mentions.c.confidence >= MISS_CONFIDENCE))
            .order_by(mentions.c.confidence.desc(), mentions.c.compound, mentions.c.id).limit(misses)).all()
        unsure = conn.execute(select(*columns).where(and_(*day, mentions.c.is_complaint.is_(True)))
                              .order_by(mentions.c.confidence, mentions.c.id).limit(uncertain)).all()
    return ([{"mention_id": r.id, "text": r.text, "url": r.url, "why": "possible miss"} for r in missed]
            + [{"mention_id": r.id, "text": r.text, "url": r.url, "why": "uncertain alert"} for r in unsure])
