"""Stored mentions with their scores, streamed out for analysts (CSV or JSON lines)."""
from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import IO, Iterator, Optional

from monitor.store.mentions import MentionRepository

FIELDS = ["source", "external_id", "brand", "created_at", "author", "author_reach", "url", "language", "text",
          "compound", "positive", "neutral", "negative", "is_complaint", "confidence", "topic", "priority", "reasons"]


def mention_rows(mentions: MentionRepository, since: datetime, until: datetime, brand: Optional[str] = None,
                 chunk: int = 2000) -> Iterator[dict]:
    """Mentions created in [since, until), oldest first, fetched in chunks so memory stays flat."""
    return mentions.created_between(FIELDS, since, until, brand, chunk)


def _plain(row: dict) -> dict:
    out = dict(row)
    out["created_at"] = row["created_at"].isoformat()
    out["reasons"] = "; ".join(f"{r.get('rule')}:{r.get('match', r.get('score', ''))}" for r in row["reasons"] or [])
    return out


def write_csv(rows: Iterator[dict], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(_plain(row))
        count += 1
    return count


def write_jsonl(rows: Iterator[dict], out: IO[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps({**row, "created_at": row["created_at"].isoformat()}, ensure_ascii=False) + "\n")
        count += 1
    return count
