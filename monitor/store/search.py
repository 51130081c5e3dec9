"""Full-text search over the stored mentions: SQLite's FTS5 table or PostgreSQL's tsvector column and index
(migration 0015), newest first, a page at a time.

What people type is never handed to either engine's query language: it is read as words, "quoted phrases" and
word* prefixes, and rebuilt from word characters only, so no input can be a syntax error or an injection."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, column, func, literal_column, select, table, text
from sqlalchemy.sql.elements import ColumnElement

from monitor.store.database import Database
from monitor.store.schema import mentions

MAX_TERMS = 12
COUNT_CAP = 1000  # counting every hit of a common word would cost more than the page itself
SCAN_CAP = 5000   # a count looks at most at this many of the newest posts holding the words
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
_fts = table("mentions_fts", column("rowid"))


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False   # the last word is a prefix (refund* finds refunds, refunded)


@dataclass(frozen=True)
class SearchFilters:
    brand: str | None = None
    source: str | None = None
    complaint: bool | None = None      # None: complaints and not
    since: datetime | None = None       # posted at or after
    until: datetime | None = None       # posted before
    author: str | None = None


@dataclass(frozen=True)
class SearchPage:
    rows: list[dict]
    total: int               # hits, up to COUNT_CAP + 1 ("more than 1000"); -1 on a later page (not counted)
    next_before: int | None  # the id to page on from, when there are older hits
    exact: bool = True       # False: counted among the newest SCAN_CAP posts holding the words only


def parse_query(query: str) -> list[Term]:
    """Words, "quoted phrases" and word* prefixes; anything else in the query is only a separator."""
    terms = []
    for phrase, bare in _TOKEN.findall(query or ""):
        words = tuple(w.lower()[:64] for w in _WORD.findall(phrase or bare))
        if words:
            terms.append(Term(words, prefix=bool(bare) and bare.endswith("*")))
    return terms[:MAX_TERMS]


def fts5_query(terms: list[Term]) -> str:
    """FTS5 syntax: every term must match; words are only \\w characters, so quoting them is always safe."""
    return " ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def _tsquery(terms: list[Term]) -> ColumnElement:
    parts = []
    for term in terms:
        if term.prefix and len(term.words) == 1:
            parts.append(func.to_tsquery(literal_column("'simple'"), f"{term.words[0]}:*"))
        else:
            parts.append(func.phraseto_tsquery(literal_column("'simple'"), " ".join(term.words)))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


class MentionSearch:
    def __init__(self, db: Database, scan_cap: int = SCAN_CAP) -> None:
        self.db, self.scan_cap = db, scan_cap

    def search(self, query: str, filters: SearchFilters, limit: int = 50, before: int | None = None) -> SearchPage:
        terms = parse_query(query)
        if not terms:
            return SearchPage([], 0, None)
        stmt, id_column = self._matching(terms)
        conditions = self._conditions(filters)
        page_stmt = stmt.add_columns(*self._shown()).where(*conditions).order_by(id_column.desc()).limit(limit + 1)
        if before:
            page_stmt = page_stmt.where(id_column < before)
        with self.db.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(page_stmt)]
            more = len(rows) > limit
            # One page holds every hit: no need to walk them again to count them.
            total, exact = (-1, True) if before is not None else (len(rows), True) if not more else \
                self._count(conn, stmt, id_column, conditions)
        rows = rows[:limit]
        return SearchPage(rows, total, rows[-1]["id"] if more else None, exact)

    def _count(self, conn, stmt, id_column, conditions) -> tuple[int, bool]:
        """How many posts match, up to COUNT_CAP + 1. PostgreSQL combines the word index with the filters'
        indexes, so it counts them all. SQLite's search walks the posts holding the words, newest first: there
        only the newest ``scan_cap`` of them are looked at, so a count costs a bounded walk however common the
        words and however narrow the filters, and it is exact when fewer posts than that hold the words."""
        if self.db.dialect != "sqlite":
            matching = stmt.add_columns(mentions.c.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
            return conn.execute(select(func.count()).select_from(matching)).scalar_one(), True
        newest = stmt.add_columns(id_column.label("hit")).order_by(id_column.desc()).limit(self.scan_cap).subquery()
        holding = conn.execute(select(func.count()).select_from(newest)).scalar_one()
        counted = conn.execute(select(func.count()).select_from(
            select(mentions.c.id).where(mentions.c.id.in_(select(newest.c.hit)), *conditions)
            .limit(COUNT_CAP + 1).subquery())).scalar_one()
        return counted, holding < self.scan_cap

    def _matching(self, terms: list[Term]):
        """A select over the mentions that match, and the id column its pages are ordered on."""
        if self.db.dialect == "sqlite":
            # FTS5 walks its own rowids newest first, so a page stops after `limit` hits however common the word.
            stmt = (select().select_from(_fts.join(mentions, mentions.c.id == _fts.c.rowid))
                    .where(text("mentions_fts MATCH :fts_query").bindparams(fts_query=fts5_query(terms))))
            return stmt, _fts.c.rowid
        vector = literal_column("mentions.search_vector")  # generated from the text, indexed (migration 0015)
        return select().select_from(mentions).where(vector.op("@@")(_tsquery(terms))), mentions.c.id

    @staticmethod
    def _shown():
        return (mentions.c.id, mentions.c.source, mentions.c.brand, mentions.c.author, mentions.c.url,
                mentions.c.text, mentions.c.created_at, mentions.c.is_complaint, mentions.c.topic,
                mentions.c.priority, mentions.c.compound)

    @staticmethod
    def _conditions(filters: SearchFilters) -> list:
        found = [mentions.c.redacted.is_(None)]
        if filters.brand:
            found.append(mentions.c.brand == filters.brand)
        if filters.source:
            found.append(mentions.c.source == filters.source)
        if filters.complaint is not None:
            found.append(mentions.c.is_complaint.is_(filters.complaint))
        if filters.since:
            found.append(mentions.c.created_at >= filters.since)
        if filters.until:
            found.append(mentions.c.created_at < filters.until)
        if filters.author:
            found.append(mentions.c.author == filters.author)
        return [and_(*found)]
