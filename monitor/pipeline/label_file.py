"""Reading a labels file: JSON lines of {"text": ..., "complaint": true|false, "brand": optional}, or of a stored
post's id, {"mention_id": 12, "complaint": true}. Every problem is reported with its line number and nothing is
imported unless the whole file is good."""
from __future__ import annotations

import json
from pathlib import Path

from monitor.pipeline.normalize import Rejected, clean_text

MAX_FILE_BYTES = 20 * 1024 * 1024   # tens of thousands of labelled posts; anything bigger is not a label file
MAX_PROBLEMS_SHOWN = 20


class LabelFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more else [])))
        self.problems = problems


def read_label_file(path: Path) -> list[dict]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LabelFileError([f"{path}: {exc.strerror}"]) from None
    if size > MAX_FILE_BYTES:
        raise LabelFileError([f"{path} is {size:,} bytes; a labels file may have at most {MAX_FILE_BYTES:,}"])
    records, problems = [], []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
            if not line:
                continue
            try:
                records.append({**_record(line), "line": number})
            except ValueError as exc:
                problems.append(f"line {number}: {exc}")
    if problems:
        raise LabelFileError(problems)
    if not records:
        raise LabelFileError([f"{path}: no labels in it"])
    return records


def _record(line: str) -> dict:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if "complaint" not in data:
        raise ValueError('"complaint" is missing (true or false)')
    if not isinstance(data["complaint"], bool):
        raise ValueError(f'"complaint" must be true or false, got {json.dumps(data["complaint"])[:40]}')
    if data.get("mention_id") is not None:  # an export's bare-text lines carry "mention_id": null
        return {"mention_id": _mention_id(data["mention_id"]), "complaint": data["complaint"]}
    try:
        text = clean_text(data.get("text"))
    except Rejected as why:
        raise ValueError(f'"text": {why}') from None
    brand = data.get("brand")
    if brand is not None and (not isinstance(brand, str) or len(brand) > 128):
        raise ValueError('"brand" must be a name of at most 128 characters')
    return {"text": text, "complaint": data["complaint"], "brand": brand}


def _mention_id(value) -> int:
    from monitor.model import MAX_ROW_ID

    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROW_ID:
        raise ValueError(f'"mention_id" must be a stored post\'s number, got {json.dumps(value)[:40]}')
    return value
