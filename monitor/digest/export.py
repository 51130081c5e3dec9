"""Stored mentions with their scores, streamed out for analysts (CSV or JSON lines)."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from monitor.store.mentions import MentionRepository

FIELDS = ["source", "external_id", "brand", "created_at", "author", "author_reach", "url", "language", "text",
          "compound", "positive", "neutral", "negative", "is_complaint", "confidence", "topic", "priority", "reasons",
          "rating"]


def mention_rows(mentions: MentionRepository, since: datetime, until: datetime,
                 brands: list[str] | None = None, chunk: int = 2000) -> Iterator[dict]:
    """Mentions created in [since, until), oldest first, fetched in chunks so memory stays flat."""
    return mentions.created_between(FIELDS, since, until, brands, chunk)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe; numbers stay exact."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(row: dict) -> dict:
    out = dict(row)
    out["created_at"] = row["created_at"].isoformat()
    out["reasons"] = "; ".join(f"{r.get('rule')}:{r.get('match', r.get('score', ''))}" for r in row["reasons"] or [])
    return {key: _inert(value) for key, value in out.items()}


def write_csv(rows: Iterator[dict], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    count = 0
    for row in rows:
        if not count:
            writer.writeheader()  # only once the query answered: a failed export writes nothing
        writer.writerow(_plain(row))
        count += 1
    if not count:
        writer.writeheader()
    return count


def write_jsonl(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps({**row, "created_at": row["created_at"].isoformat()}, ensure_ascii=False) + "\n")
        count += 1
    return count
