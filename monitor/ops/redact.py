"""Keeps secret values out of logs, errors and printed output.

Everything here runs on text that outsiders can shape (request bodies a library logs, error messages that
quote an answer), so every scan is linear: possessive quantifiers, no pattern that can backtrack over an
unbounded run, and URL passwords found by plain string searches. Log lines are also cut to MAX_LOGGED
characters before they are redacted, with a note of how much was left out.
"""
from __future__ import annotations

import logging
import re
import threading

MAX_LOGGED = 2048         # characters of one log message that are kept
MAX_TRACEBACK = 8192      # characters of a traceback kept: its head and its tail, where the error is named
_LOOKAHEAD = 512          # redacted past the cut too, so a secret across it never shows its first half

_CREDENTIAL_CHAR = r"[A-Za-z0-9._~+/%=\-]"  # noqa: S105 - a character class, not a secret
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*+bearer\s++)\S++")
# After "bearer", only a value shaped like a token (8+ characters with a digit) is a secret: "the current
# bearer token" in an error message is advice, not a credential. The atomic group commits to the first digit.
_BEARER = re.compile(rf"(?i)(bearer\s++)((?>{_CREDENTIAL_CHAR}*?\d){_CREDENTIAL_CHAR}*+)")
_SLACK_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9\-]++")
_AUTHORITY_END = re.compile(r"[\s/]")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def _url_password_spans(text: str):
    """(start, end) of each URL's password: from the first ":" of the authority to its LAST "@" (a raw "@"
    inside the password must not leave its tail visible). One pass: each authority ends at a "/" or a space,
    and the next "://" is searched from its last character, so each character is read at most twice."""
    i = text.find("://")
    while i != -1:
        start = i + 3
        found = _AUTHORITY_END.search(text, start)
        end = found.start() if found else len(text)
        if _has_scheme(text, i):
            authority = text[start:end]
            at, colon = authority.rfind("@"), authority.find(":")
            if 0 < colon < at - 1 and "@" not in authority[:colon]:
                yield start + colon + 1, start + at
        i = text.find("://", max(end - 1, i + 1))  # "a://b:c@d://…": the next scheme's ":" ends this one


def _has_scheme(text: str, i: int) -> bool:
    """A scheme ([a-z][a-z0-9+.-]*) ends at i: the run of scheme characters before it holds a letter. The
    walk back stops at the previous "://" (its "/" is no scheme character), so it stays linear."""
    j = i - 1
    while j >= 0 and text[j] in _SCHEME_CHARS:
        if text[j].isalpha():
            return True
        j -= 1
    return False


def _mask_url_passwords(text: str) -> str:
    spans = list(_url_password_spans(text))
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], "***"]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _mask_bearer(match: re.Match) -> str:
    return match.group(1) + "***" if len(match.group(2)) >= 8 else match.group(0)


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
        text = _mask_url_passwords(text)
        text = _AUTH_HEADER.sub(r"\g<1>***", text)
        text = _BEARER.sub(_mask_bearer, text)
        return _SLACK_TOKEN.sub("xox?-***", text)

    def add_url_password(self, url: str) -> None:
        """The password of a URL, also when it holds a raw "@", and its "@"-separated parts: a driver that
        splits it at the first "@" prints the rest as the host name."""
        for start, end in _url_password_spans(url):
            password = url[start:end]
            self.add(password)
            for part in password.split("@"):
                self.add(part)
            return

    def capped(self, text: str, limit: int = MAX_LOGGED) -> str:
        """The first ``limit`` characters, redacted, and a note of how many more were not kept."""
        if len(text) <= limit:
            return self(text)
        kept = self(text[:limit + _LOOKAHEAD])[:limit]
        return f"{kept}… ({len(text) - limit:,} more characters not logged)"

    def capped_traceback(self, text: str) -> str:
        if len(text) <= MAX_TRACEBACK:
            return self(text)
        half = MAX_TRACEBACK // 2
        head = self(text[:half + _LOOKAHEAD])[:half]
        tail = self(text[-half - _LOOKAHEAD:])[-half:]
        return f"{head}\n… ({len(text) - 2 * half:,} characters of traceback not logged) …\n{tail}"


redactor = Redactor()


class RedactingFilter(logging.Filter):
    """Every record leaves redacted and cut to MAX_LOGGED characters, its traceback to MAX_TRACEBACK."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True  # a record passes a logger's filters and then each handler's: cut and redact it once
        record._redacted = True
        message = record.getMessage()
        cleaned = redactor.capped(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.capped_traceback(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
