"""The team's labels: whether a post is a complaint, from case buttons, `monitor label` and imported files.
Append-only; the newest label of a mention, or of a bare text, is the one that counts."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import insert, select

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import labels, mentions


class LabelRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def label_mention(self, mention_id: int, is_complaint: bool, actor: str, origin: str) -> bool:
        """False when there is no such stored mention."""
        with self.db.engine.begin() as conn:
            brand = conn.execute(select(mentions.c.brand).where(mentions.c.id == mention_id)).scalar()
            if brand is None:
                return False
            conn.execute(insert(labels).values(mention_id=mention_id, brand=brand, is_complaint=is_complaint,
                                               actor=actor, origin=origin, at=utcnow()))
        return True

    def import_texts(self, records: list[dict], actor: str, origin: str = "import") -> int:
        """Bare-text labels ({text, complaint, brand}), all in one transaction: a file goes in whole or not."""
        now = utcnow()
        rows = [{"text": r["text"], "brand": r.get("brand"), "is_complaint": r["complaint"], "actor": actor,
                 "origin": origin, "at": now} for r in records]
        with self.db.engine.begin() as conn:
            for start in range(0, len(rows), 1000):
                conn.execute(insert(labels), rows[start:start + 1000])
        return len(rows)

    def newest(self) -> Iterator[dict]:
        """The label that counts for each mention and each bare text, oldest first."""
        stmt = (select(labels, mentions.c.text.label("mention_text"), mentions.c.source, mentions.c.external_id)
                .outerjoin(mentions, mentions.c.id == labels.c.mention_id).order_by(labels.c.id))
        latest: dict[tuple, dict] = {}
        with self.db.engine.connect() as conn:
            for row in conn.execute(stmt):
                m = row._mapping
                key = ("mention", m["mention_id"]) if m["mention_id"] is not None else ("text", m["text"])
                latest.pop(key, None)  # re-inserted: a newer label moves to the end
                latest[key] = {"id": m["id"], "text": m["mention_text"] if m["mention_id"] is not None else m["text"],
                               "complaint": m["is_complaint"], "brand": m["brand"], "mention_id": m["mention_id"],
                               "source": m["source"], "external_id": m["external_id"], "by": m["actor"],
                               "origin": m["origin"], "at": m["at"].isoformat()}
        yield from latest.values()
