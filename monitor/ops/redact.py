"""Keeps secret values out of logs, errors and printed output."""
from __future__ import annotations

import logging
import re
import threading

# The password runs to the LAST "@" before the path: a raw "@" inside it must not leave its tail visible.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^\s/]+)(?=@[^@\s/]*)", re.I)
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*bearer\s+)\S+")
# After "bearer", only a value shaped like a token (long, with a digit) is a secret: "the current bearer token"
# in an error message is advice, not a credential.
_BEARER = re.compile(r"(?i)(bearer\s+)(?=[A-Za-z0-9._~+/%=\-]*\d)[A-Za-z0-9._~+/%=\-]{8,}")
_SLACK_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9\-]+")


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
        text = _AUTH_HEADER.sub(r"\g<1>***", text)
        text = _BEARER.sub(r"\g<1>***", text)
        return _SLACK_TOKEN.sub("xox?-***", text)

    def add_url_password(self, url: str) -> None:
        """The password of a URL, also when it holds a raw "@", and its "@"-separated parts: a driver that
        splits it at the first "@" prints the rest as the host name."""
        match = _URL_PASSWORD.search(url)
        if match:
            password = match.group("pw")
            self.add(password)
            for part in password.split("@"):
                self.add(part)


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
