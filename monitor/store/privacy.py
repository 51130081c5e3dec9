"""Other people's data, kept only as long as it should be: the retention purge, an author's erasure (with its
audit row) and an author's copy of what is held.

Clearing is done field by field, never by deleting the row: a mention's scores, topic, brand, source and time
stay, so every digest figure and trend computed before is computed the same after. Each batch is its own short
transaction, so the pipeline never waits on the purge for long.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, insert, not_, or_, select, update

from monitor.clock import utcnow
from monitor.store.database import Database
from monitor.store.schema import case_events, cases, erasures, labels, mentions, outbox, replies

EXPIRED_TEXT = "[expired: kept for its counts only]"
ERASED_TEXT = "[removed at the author's request]"
HELD = ("open", "claimed")  # a case the team is still working keeps its post


def subject_key(handle: str) -> str:
    """How an author is named in the audit: a hash of the handle as the networks compare it."""
    return hashlib.sha256(normalise(handle).encode()).hexdigest()


def normalise(handle: str) -> str:
    return handle.strip().removeprefix("@").lower()


def bare_reasons(reasons) -> list[dict]:
    """A post's reasons without the words they quoted from it: which rules fired and their scores stay."""
    return [{k: v for k, v in r.items() if k not in ("match", "terms")} for r in reasons or [] if isinstance(r, dict)]


def redact(conn, ids: list[int], text: str, why: str) -> None:
    """Clears the personal fields of the mentions ``ids``: text (to ``text``), author, link, quoted words."""
    rows = conn.execute(select(mentions.c.id, mentions.c.reasons).where(mentions.c.id.in_(ids))).all()
    conn.execute(update(mentions).where(mentions.c.id == bindparam("rid")).values(
        text=text, author="", url=None, redacted=why, reasons=bindparam("bare")),
        [{"rid": row.id, "bare": bare_reasons(row.reasons)} for row in rows])


@dataclass
class PurgeReport:
    counts: dict[str, int] = field(default_factory=lambda: {"mentions": 0, "replies": 0, "labels": 0})
    batches: int = 0
    longest_batch: float = 0.0   # seconds the longest transaction held its rows
    compacted: float = 0.0       # seconds the search index took to drop the cleared posts' words


@dataclass
class Erasure:
    counts: dict[str, int]
    alerts: list[int]             # outbox ids of delivered alerts whose messages show the post
    bursts: list[int]             # spikes whose message quotes one of the posts
    days: list[tuple[str, datetime]]  # (brand, posted at) of each erased post: the digests that quoted them


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- retention ------------------------------------------------------------------------

    def purge(self, retention, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
        """Clears what outlived ``retention`` (a RetentionConfig); with ``dry_run`` only counts it."""
        now = now or utcnow()
        report = PurgeReport()
        for name, condition, clear in self._rules(retention, now):
            if dry_run:
                with self.db.engine.connect() as conn:
                    report.counts[name] += conn.execute(select(func.count()).select_from(condition[0])
                                                        .where(*condition[1:])).scalar_one()
                continue
            self._in_batches(report, name, condition, clear, retention.batch_size)
        if not dry_run and report.counts["mentions"]:
            started = time.monotonic()
            self.db.compact_search()  # the expired posts' words leave the search index too
            report.compacted = time.monotonic() - started
        return report

    def _rules(self, retention, now: datetime):
        held = exists().where(cases.c.mention_id == mentions.c.id, cases.c.status.in_(HELD))
        expiring = []
        if retention.mentions:
            expiring.append(and_(mentions.c.is_complaint.is_(True),
                                 mentions.c.created_at < now - timedelta(days=retention.mentions)))
        if retention.non_complaints:
            expiring.append(and_(mentions.c.is_complaint.is_(False),
                                 mentions.c.created_at < now - timedelta(days=retention.non_complaints)))
        if expiring:
            yield ("mentions", (mentions, mentions.c.redacted.is_(None), or_(*expiring), not_(held)),
                   lambda conn, ids: redact(conn, ids, EXPIRED_TEXT, "expired"))
        if retention.cases_closed:
            closed = select(cases.c.id).where(cases.c.status.in_(("resolved", "dismissed")),
                                              cases.c.closed_at < now - timedelta(days=retention.cases_closed))
            yield ("replies", (replies, replies.c.case_id.in_(closed), replies.c.text != EXPIRED_TEXT,
                               replies.c.text != ERASED_TEXT),
                   lambda conn, ids: conn.execute(update(replies).where(replies.c.id.in_(ids)).values(
                       text=EXPIRED_TEXT)))
        if retention.labels:
            yield ("labels", (labels, labels.c.mention_id.is_(None), labels.c.text.is_not(None),
                              labels.c.at < now - timedelta(days=retention.labels)),
                   lambda conn, ids: conn.execute(delete(labels).where(labels.c.id.in_(ids))))

    def _in_batches(self, report: PurgeReport, name: str, condition, clear: Callable, size: int) -> None:
        """Walks the table in windows of ``size`` ids (the primary key's order, whatever index the conditions
        could use), each window one short transaction."""
        table, where = condition[0], condition[1:]
        with self.db.engine.connect() as conn:
            last = conn.execute(select(func.max(table.c.id))).scalar() or 0
        low = 0
        while low < last:
            started = time.monotonic()
            with self.db.engine.begin() as conn:
                ids = list(conn.execute(select(table.c.id).where(table.c.id > low, table.c.id <= low + size, *where)
                                        .order_by(table.c.id)).scalars())
                if ids:
                    clear(conn, ids)
            low += size
            if ids:
                report.counts[name] += len(ids)
                report.batches += 1
                report.longest_batch = max(report.longest_batch, time.monotonic() - started)

    # -- an author's data ----------------------------------------------------------------------

    def _authored(self, handle: str, source: str | None):
        where = [func.lower(mentions.c.author) == normalise(handle)]
        if source:
            where.append(mentions.c.source == source)
        return where

    def erase(self, handle: str, source: str | None, actor: str, batch_size: int = 500) -> Erasure:
        """Every stored post of ``handle`` (on ``source``, or everywhere) loses its text, author and link; the
        replies to their cases lose their words; alerts not yet sent are cancelled; bare-text labels that name
        the handle are deleted. One audit row, without the handle or any erased words."""
        result = Erasure({"mentions": 0, "replies": 0, "alerts_cancelled": 0, "labels": 0}, [], [], [])
        where = self._authored(handle, source)
        while True:
            with self.db.engine.begin() as conn:
                found = conn.execute(select(mentions.c.id, mentions.c.brand, mentions.c.created_at)
                                     .where(*where).limit(batch_size)).all()
                if not found:
                    break
                ids = [row.id for row in found]
                result.days += [(row.brand, row.created_at) for row in found]
                self._erase_batch(conn, ids, result)
        result.counts["labels"] = self._erase_label_texts(handle)
        with self.db.engine.begin() as conn:
            conn.execute(insert(erasures).values(at=utcnow(), actor=actor, subject=subject_key(handle),
                                                 source=source, counts=result.counts))
        return result

    @staticmethod
    def _erase_batch(conn, ids: list[int], result: Erasure) -> None:
        redact(conn, ids, ERASED_TEXT, "erased")
        result.counts["mentions"] += len(ids)
        case_ids = select(cases.c.id).where(cases.c.mention_id.in_(ids))
        result.counts["replies"] += conn.execute(update(replies).where(replies.c.case_id.in_(case_ids))
                                                 .values(text=ERASED_TEXT)).rowcount
        result.counts["alerts_cancelled"] += conn.execute(
            update(outbox).where(outbox.c.mention_id.in_(ids), outbox.c.status.in_(("pending", "dead")))
            .values(status="cancelled", last_error="the author's data was erased")).rowcount
        shown = conn.execute(select(outbox.c.id, outbox.c.burst_id).where(outbox.c.mention_id.in_(ids))).all()
        result.alerts += [row.id for row in shown]
        result.bursts += sorted({row.burst_id for row in shown if row.burst_id})
        for case_id, status in conn.execute(select(cases.c.id, cases.c.status).where(cases.c.id.in_(case_ids))):
            conn.execute(insert(case_events).values(case_id=case_id, action="erased", actor="data protection",
                                                    origin="cli", from_status=status, to_status=status,
                                                    at=utcnow()))

    def _erase_label_texts(self, handle: str) -> int:
        name = normalise(handle)
        with self.db.engine.begin() as conn:
            rows = conn.execute(select(labels.c.id, labels.c.text).where(labels.c.text.is_not(None))).all()
            ids = [r.id for r in rows if f"@{name}" in r.text.lower() or name in r.text.lower().split()]
            if ids:
                conn.execute(delete(labels).where(labels.c.id.in_(ids)))
        return len(ids)

    def burst_cases(self, burst_ids: list[int]) -> list[int]:
        if not burst_ids:
            return []
        with self.db.engine.connect() as conn:
            return list(conn.execute(select(cases.c.id).where(cases.c.burst_id.in_(burst_ids))).scalars())

    def erasures(self) -> list[dict]:
        with self.db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(erasures).order_by(erasures.c.id))]

    def subject(self, handle: str, source: str | None) -> dict:
        """Everything held about ``handle``: the posts, their scores, cases, the replies to them, the labels."""
        with self.db.engine.connect() as conn:
            posts = [dict(r._mapping) for r in conn.execute(select(mentions).where(*self._authored(handle, source))
                                                            .order_by(mentions.c.id))]
            ids = [p["id"] for p in posts]
            held = {"posts": posts, "cases": [], "replies": [], "labels": []}
            if ids:
                held["cases"] = [dict(r._mapping) for r in conn.execute(select(cases).where(
                    cases.c.mention_id.in_(ids)).order_by(cases.c.id))]
                case_ids = [c["id"] for c in held["cases"]]
                held["replies"] = [dict(r._mapping) for r in conn.execute(select(replies).where(
                    replies.c.case_id.in_(case_ids)).order_by(replies.c.id))] if case_ids else []
                held["labels"] = [dict(r._mapping) for r in conn.execute(select(labels).where(
                    labels.c.mention_id.in_(ids)).order_by(labels.c.id))]
        return held
