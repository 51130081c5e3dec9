"""What keeps the inbox safe to open on the internet: strict response headers (a Content-Security-Policy that
allows no inline script), the session cookie's attributes, CSRF tokens on every form, and a per-address brake on
failed sign-ins on top of the per-name lockout kept in the database."""
from __future__ import annotations

import hmac
import secrets
import time
from collections import deque

from monitor.web.recent import Recent

SESSION_COOKIE = "monitor_session"
LOGIN_CSRF_COOKIE = "monitor_login_csrf"

# Scripts and styles only from the inbox's own /static; nothing inline, nothing from elsewhere. The digest
# report (its own inline styles, no scripts) is framed from the same origin.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'self'"
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",   # links to posts never tell the network where the inbox lives
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every response; a response that set its own policy keeps it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                if b"content-security-policy" not in present:
                    extra += [(b"content-security-policy", PAGE_POLICY.encode()), (b"x-frame-options", b"DENY")]
                if scope["path"].startswith("/static/"):
                    extra = [h for h in extra if h[0] != b"cache-control"]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


class AddressBrake:
    """Failed sign-ins per client address within a window; past the limit the address waits. Bounded memory:
    the least recently seen addresses are forgotten first."""

    def __init__(self, limit: int = 20, window: float = 900.0, remembered: int = 10_000) -> None:
        self.limit, self.window = limit, window
        self._failures = Recent(remembered)   # address -> the times of its latest failures

    def blocked(self, address: str) -> float:
        """Seconds the address must still wait (0: it may try)."""
        failures = self._recent(address)
        if len(failures) < self.limit:
            return 0.0
        return max(0.0, failures[0] + self.window - time.monotonic())

    def failed(self, address: str) -> None:
        self._recent(address).append(time.monotonic())

    def _recent(self, address: str) -> deque:
        failures = self._failures.setdefault(address, lambda: deque(maxlen=self.limit))
        while failures and failures[0] + self.window < time.monotonic():
            failures.popleft()
        return failures


class Flashes:
    """One-time messages after an action ("case 12 is claimed"), kept per session until the next page shows
    them. Bounded: the oldest sessions' messages go first."""

    def __init__(self, remembered: int = 5000) -> None:
        self._messages = Recent(remembered)

    def add(self, session_key: str, ok: bool, text: str) -> None:
        self._messages.setdefault(session_key, list).append((ok, text))

    def take(self, session_key: str) -> list[tuple[bool, str]]:
        return self._messages.pop(session_key, [])
