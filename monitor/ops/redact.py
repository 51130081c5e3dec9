"""Keeps secret values out of logs, errors and printed output."""
from __future__ import annotations

import logging
import re
import threading

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)", re.I)
_BEARER = re.compile(r"(?i)(bearer\s+|xox[abposr]-)[A-Za-z0-9._\-]+")


class Redactor:
    """Replaces every registered secret, URL passwords and bearer tokens with ***."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        # Very short values would blank out ordinary words in log lines.
        if secret and len(secret) >= 6:
            with self._lock:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, "***")
        text = _URL_PASSWORD.sub(r"\g<scheme>***", text)
        return _BEARER.sub(lambda m: m.group(1) + "***" if m.group(1).lower().startswith("bearer") else "xox?-***", text)


redactor = Redactor()


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redactor(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
