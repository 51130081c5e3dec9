"""HTTP plumbing shared by connectors, sinks and reply platforms: routing a client library's requests Session to
another base URL, praw's requestor with a real timeout, and a small reader for plain HTTP APIs and feeds."""
from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from monitor import clock
from monitor.components import SourceError
from monitor.http_deadline import DEFAULT_DEADLINE, DeadlineAdapter, deadline, mount_deadline


class PostUnconfirmed(Exception):
    """A POST whose answer never came (a timeout, a 5xx): it may have taken effect, so it is not retried."""


def praw_requestor(never_retry: str | None = None):
    """praw's requestor (its documented ``requestor_class`` hook) that applies the ``timeout`` it was given
    (prawcore's session otherwise passes its own 16 s to every request) and, for POSTs to ``never_retry``, turns
    a lost answer into PostUnconfirmed, which prawcore does not retry: a retried comment could post twice."""
    import prawcore

    class TimedRequestor(prawcore.Requestor):
        def request(self, *args, timeout=None, **kwargs):
            method, url = (list(args) + [kwargs.get("method"), kwargs.get("url")])[:2]
            once = bool(never_retry) and method == "POST" and never_retry in str(url)
            try:
                response = super().request(*args, timeout=min(timeout or self.timeout, self.timeout), **kwargs)
            except prawcore.exceptions.RequestException as exc:
                if once:
                    raise prawcore.exceptions.RequestException(PostUnconfirmed(
                        type(exc.original_exception).__name__), args, kwargs) from None
                raise
            if once and response.status_code >= 500:
                raise prawcore.exceptions.RequestException(PostUnconfirmed(f"HTTP {response.status_code}"), args,
                                                           kwargs)
            return response

    return TimedRequestor


class ClientAdapter(DeadlineAdapter):
    """Sends a client library's requests to another base URL (proxy, test server) with a timeout and a
    deadline for the whole request.

    Client libraries such as tweepy hard-code their API host; mounting this
    adapter on their public ``session`` for that host keeps the library's own
    request and error handling intact while the traffic goes to ``base_url``.
    """

    def __init__(self, official: str, base_url: str | None, timeout: float, seconds: float = DEFAULT_DEADLINE) -> None:
        super().__init__(seconds, max_retries=0)  # retries are the scheduler's job: never block a poll thread
        self.official = official.rstrip("/")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def send(self, request, **kwargs):
        if self.base_url and request.url.startswith(self.official):
            request.url = self.base_url + request.url[len(self.official):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def route_session(session, official: str, base_url: str | None, timeout: float,
                  seconds: float = DEFAULT_DEADLINE) -> None:
    """Mounts a ClientAdapter on ``session`` for every request to ``official``."""
    session.mount(official, ClientAdapter(official, base_url, timeout, seconds))


#: a response larger than this is refused rather than read into memory (hostile or broken endpoints)
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
USER_AGENT = "complaint-monitor/0.1 (self-hosted brand complaint monitor)"


class HttpReader:
    """A requests session for the plain HTTP APIs and feeds that connectors read (Algolia, app-store feeds,
    RSS): one base URL, a timeout, a size cap, and every failure turned into a SourceError that says what
    happened and, for rate limits, how long to pause the source."""

    def __init__(self, service: str, base_url: str, timeout: float, seconds: float = DEFAULT_DEADLINE,
                 user_agent: str = USER_AGENT) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.timeout, self.deadline = timeout, seconds
        self.session = mount_deadline(requests.Session(), seconds)
        self.session.headers["User-Agent"] = user_agent

    def get(self, path: str, params: dict | None = None, headers: dict | None = None,
            method: str = "GET", data: bytes | None = None, tolerate: tuple[int, ...] = ()):
        """The response of ``base_url + path`` (or an absolute URL) with status 2xx, 304 or one of
        ``tolerate``, body read."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        try:
            with deadline(self.deadline):  # the capped read of the body too
                response = self.session.request(method, url, params=params, headers=headers, data=data,
                                                timeout=self.timeout, stream=True, allow_redirects=True)
                body = _read_capped(response)
        except requests.RequestException as exc:
            raise SourceError(f"cannot reach {self.service}: {type(exc).__name__}: {exc}"[:400]) from None
        response._content = body
        if response.status_code in tolerate:
            return response
        if response.status_code in (429, 503) or (response.status_code == 403 and _window_used(response)):
            wait = retry_after(response.headers) or 60.0
            raise SourceError(f"{self.service} rate limit reached ({response.status_code}); paused for "
                              f"{wait:.0f}s", retry_after=wait)
        if response.status_code in (401, 403):
            raise SourceError(f"{self.service} refused access ({response.status_code}) to {_safe(url)}: check "
                              "the source's credentials and settings", unhealthy=True)
        if response.status_code == 404:
            raise SourceError(f"{self.service} has nothing at {_safe(url)} (404): check the source's ids and URLs",
                              unhealthy=True)
        if response.status_code >= 500:
            raise SourceError(f"{self.service} server error {response.status_code}; retrying at later runs")
        if response.status_code >= 400:
            raise SourceError(f"{self.service} rejected the request ({response.status_code}): "
                              f"{body[:200].decode('utf-8', 'replace')}")
        return response

    def get_json(self, path: str, params: dict | None = None) -> Any:
        response = self.get(path, params)
        try:
            return response.json()
        except ValueError as exc:
            raise SourceError(f"{self.service} returned a malformed response (not JSON: {exc})"[:300]) from None

    def close(self) -> None:
        self.session.close()


def _read_capped(response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            response.close()
            raise SourceError(f"response from {_safe(response.url)} is over {MAX_RESPONSE_BYTES // 2**20} MB; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _window_used(response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0"


def retry_after(headers) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date) or an X-RateLimit-Reset / RateLimit-Reset
    header (epoch seconds, or seconds from now when small)."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(1.0, float(value))
        except ValueError:
            try:
                return max(1.0, parsedate_to_datetime(value).timestamp() - clock.timestamp())
            except (TypeError, ValueError):
                pass
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if value:
            try:
                number = float(value)
            except ValueError:
                try:
                    number = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
                except ValueError:
                    continue
            return max(1.0, number - clock.timestamp()) if number > 1e9 else max(1.0, number)
    return None


def _safe(url: str) -> str:
    """A URL without its query string, which may carry a token."""
    return url.split("?", 1)[0][:200]
