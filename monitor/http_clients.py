"""HTTP plumbing shared by connectors and sinks whose client libraries use a requests Session."""
from __future__ import annotations

from typing import Optional

from requests.adapters import HTTPAdapter


class ClientAdapter(HTTPAdapter):
    """Sends a client library's requests to another base URL (proxy, test server) with a timeout.

    Client libraries such as tweepy hard-code their API host; mounting this
    adapter on their public ``session`` for that host keeps the library's own
    request and error handling intact while the traffic goes to ``base_url``.
    """

    def __init__(self, official: str, base_url: Optional[str], timeout: float) -> None:
        super().__init__(max_retries=0)  # retries are the scheduler's job: never block a poll thread
        self.official = official.rstrip("/")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def send(self, request, **kwargs):
        if self.base_url and request.url.startswith(self.official):
            request.url = self.base_url + request.url[len(self.official):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def route_session(session, official: str, base_url: Optional[str], timeout: float) -> None:
    """Mounts a ClientAdapter on ``session`` for every request to ``official``."""
    session.mount(official, ClientAdapter(official, base_url, timeout))
