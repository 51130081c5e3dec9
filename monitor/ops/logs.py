"""Log setup: one event per line, plain or JSON, secrets redacted."""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from monitor.ops.redact import RedactingFilter, redactor

# Attributes every LogRecord has; anything else came from `extra=` and is an event field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = redactor.capped(value) if isinstance(value, str) else value
        if record.exc_text:
            event["exception"] = record.exc_text
        return json.dumps(event, ensure_ascii=False)


def setup_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if json_lines:
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job run at INFO, matplotlib its font cache; our own lines say what ran.
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for noisy in ("apscheduler", "alembic", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(quiet)
