"""A JSON-over-HTTP session for the app stores' reply APIs (no client library covers them): one base URL, a
timeout, and each failure as a ReplyError carrying the store's own message."""
from __future__ import annotations

from typing import Any

from monitor.components import ReplyError
from monitor.http_clients import USER_AGENT


class StoreApi:
    def __init__(self, store: str, base_url: str, timeout: float) -> None:
        import requests

        self.store, self.base_url, self.timeout = store, base_url.rstrip("/"), timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def call(self, method: str, path: str, token: str, body: dict | None = None, sending: bool = False,
             missing_ok: bool = False) -> Any:
        import requests

        url = path if path.startswith("http") else self.base_url + path
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout,
                                            headers={"Authorization": f"Bearer {token}"})
        except requests.RequestException as exc:
            raise ReplyError(f"{self.store} did not answer: {type(exc).__name__}", unknown=sending) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise ReplyError(f"{self.store} refused it ({response.status_code}: {said(response)})",
                             off_platform=response.status_code in (401, 403))
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise ReplyError(f"{self.store} returned a malformed answer (not JSON)", unknown=sending) from None

    def close(self) -> None:
        self.session.close()


def said(response) -> str:
    """The store's own error text: Google's error.message, Apple's errors[].detail, else the status text."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "error"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("status"))[:300]
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        return str(first.get("detail") or first.get("title") or first.get("code"))[:300]
    if isinstance(body, dict) and body.get("error_description"):
        return str(body["error_description"])[:300]
    return response.reason or "error"
