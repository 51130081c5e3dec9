"""Log setup: one event per line, plain or JSON, secrets redacted."""
from __future__ import annotations

import json
import logging
import sys
import threading
import time
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


class LogThrottle:
    """At most one line per kind of event per ``interval`` seconds, for events an outsider can repeat at will
    (refused requests); the next line that is let through says how many were held back."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger, self.interval = logger, interval
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, kind: str, message: str, *args) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next.get(kind, 0.0):
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            self._next[kind] = now + self.interval
            held = self._held.pop(kind, 0)
        if held:
            message += f" (and {held} more like it in the last {self.interval:g}s)"
        self.logger.warning(message, *args)
