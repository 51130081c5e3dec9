"""The web inbox over a real service: posts read from a file source and scored, their cases opened, users
added, and the inbox served by uvicorn on 127.0.0.1 (a free port)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from monitor.service import MonitorService
from monitor.web.context import Inbox
from monitor.web.server import WebServer
from tests.support import RecordingSink, build_config, write_jsonl

PASSWORD = "correct horse battery"
ROUTES = [{"name": "support", "sink": "rec", "channel": "#support", "sla": {"first_response": "30m"}}]


def post(ident: str, text: str, minutes_ago: float, now: datetime, author: str = "sam", **more) -> dict:
    return {"id": ident, "text": text, "author": author, "created_at": (now - timedelta(minutes=minutes_ago))
            .isoformat(), "url": f"https://social.example/{author}/{ident}", **more}


@dataclass
class Running:
    svc: MonitorService
    server: WebServer
    clients: list = field(default_factory=list)

    def client(self) -> httpx.Client:
        """An HTTP client of the inbox, closed with it."""
        self.clients.append(httpx.Client(base_url=self.url, follow_redirects=False, timeout=10))
        return self.clients[-1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def case_of(self, external_id: str) -> int:
        [alert] = [a for a in RecordingSink.sent["rec"] if a.external_id == external_id]
        return alert.case.id

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()
        self.svc.close()


def serve(tmp_path, db_url, posts: list[dict], users=(("ana", "agent"), ("vic", "viewer")), web=None,
          routes=None) -> Running:
    write_jsonl(tmp_path / "feed.jsonl", posts)
    config = build_config(tmp_path, db_url, alerts={"sinks": {"rec": {"type": "test-recording"}},
                                                    "routes": ROUTES if routes is None else routes},
                          web={"listen": "127.0.0.1:0", "refresh": "1s", **(web or {})})
    svc = MonitorService(config)
    svc.prepare()
    svc.run_once()
    for name, role in users:
        svc.store.users.add(name, role, PASSWORD)
    server = WebServer(Inbox(config, svc.store, svc.desk, None))
    server.start()
    return Running(svc, server)


def signed_in(running: Running, name: str = "ana") -> httpx.Client:
    """An HTTP client signed in as ``name`` (it went through the login form like a browser)."""
    client = running.client()
    form = client.get("/login")
    token = csrf_of(form.text)
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                                         "next": "/cases"})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(page: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
