"""The team's labels: whether a post is a complaint, from case buttons, `monitor label` and imported files.
Append-only; the newest label of a mention, or of a bare text, is the one that counts."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exists, insert, or_, select

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import label_picks, labels, mentions


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
        """Labels from a file, all in one transaction: a file goes in whole or not. A record is a bare text
        ({text, complaint, brand}) or a stored mention's id ({mention_id, complaint}); the ids must exist."""
        now = utcnow()
        ids = [r["mention_id"] for r in records if r.get("mention_id") is not None]
        with self.db.engine.begin() as conn:
            brands: dict[int, str] = {}
            for start in range(0, len(ids), 1000):
                brands.update(conn.execute(select(mentions.c.id, mentions.c.brand)
                                           .where(mentions.c.id.in_(ids[start:start + 1000]))).all())
            rows = [{"mention_id": r["mention_id"], "text": None, "brand": brands[r["mention_id"]]}
                    if r.get("mention_id") is not None else {"mention_id": None, "text": r["text"],
                                                              "brand": r.get("brand")} for r in records]
            rows = [{**row, "is_complaint": r["complaint"], "actor": actor, "origin": origin, "at": now}
                    for row, r in zip(rows, records, strict=True)]
            for start in range(0, len(rows), 1000):
                conn.execute(insert(labels), rows[start:start + 1000])
        return len(rows)

    def unlabelled(self, brand: str | None = None, source: str | None = None, limit: int = 3000,
                   posted: tuple | None = None) -> list[dict]:
        """The newest stored mentions nobody has labelled (posted within ``posted`` = (start, end) when given):
        the labelling queue's candidates."""
        stmt = (select(mentions.c.id, mentions.c.text, mentions.c.brand, mentions.c.source, mentions.c.url)
                .where(~exists().where(labels.c.mention_id == mentions.c.id), mentions.c.redacted.is_(None))
                .order_by(mentions.c.id.desc()).limit(limit))
        if brand:
            stmt = stmt.where(mentions.c.brand == brand)
        if source:
            stmt = stmt.where(mentions.c.source == source)
        if posted:
            stmt = stmt.where(mentions.c.created_at >= posted[0], mentions.c.created_at < posted[1])
        with self.db.engine.connect() as conn:
            return [{"mention_id": r.id, "text": r.text, "brand": r.brand, "source": r.source, "url": r.url}
                    for r in conn.execute(stmt)]

    def record_picks(self, picks: list[tuple[int, str, float]]) -> None:
        """(mention_id, kind, confidence) of what the queue asked about, so a label can say how it was chosen."""
        now = utcnow()
        with self.db.engine.begin() as conn:
            if picks:
                conn.execute(insert(label_picks), [{"mention_id": m, "kind": k, "confidence": c, "picked_at": now}
                                                   for m, k, c in picks])

    def known_mentions(self, ids: list[int]) -> set[int]:
        """Which of ``ids`` are stored mentions."""
        found: set[int] = set()
        with self.db.engine.connect() as conn:
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                found.update(conn.execute(select(mentions.c.id).where(mentions.c.id.in_(chunk))).scalars())
        return found

    def still_unlabelled(self, ids: list[int]) -> set[int]:
        """Which of ``ids`` nobody has labelled yet and still hold their words."""
        if not ids:
            return set()
        stmt = select(mentions.c.id).where(mentions.c.id.in_(ids[:1000]), mentions.c.redacted.is_(None),
                                           ~exists().where(labels.c.mention_id == mentions.c.id))
        with self.db.engine.connect() as conn:
            return set(conn.execute(stmt).scalars())

    def newest(self) -> Iterator[dict]:
        """The label that counts for each mention and each bare text, oldest first."""
        # A post whose words are gone (deleted, expired, erased) teaches nothing: its label is left out.
        stmt = (select(labels, mentions.c.text.label("mention_text"), mentions.c.source, mentions.c.external_id)
                .outerjoin(mentions, mentions.c.id == labels.c.mention_id)
                .where(or_(labels.c.mention_id.is_(None), mentions.c.redacted.is_(None))).order_by(labels.c.id))
        latest: dict[tuple, dict] = {}
        with self.db.engine.connect() as conn:
            random_picks = set(conn.execute(select(label_picks.c.mention_id).where(label_picks.c.kind == "random"))
                               .scalars())
            for row in conn.execute(stmt):
                m = row._mapping
                key = ("mention", m["mention_id"]) if m["mention_id"] is not None else ("text", m["text"])
                latest.pop(key, None)  # re-inserted: a newer label moves to the end
                latest[key] = {"id": m["id"], "text": m["mention_text"] if m["mention_id"] is not None else m["text"],
                               "complaint": m["is_complaint"], "brand": m["brand"], "mention_id": m["mention_id"],
                               "source": m["source"], "external_id": m["external_id"], "by": m["actor"],
                               "origin": m["origin"], "at": m["at"].isoformat(),
                               # chosen blind to the detector: a fair sample (queue's random picks, bulk imports)
                               "representative": m["mention_id"] in random_picks or m["origin"] == "import"}
        yield from latest.values()
