"""Answering a case in public from the inbox: the same reply desk as Slack and the CLI, against the Mastodon
stand-in on the wire, so a double submit posts once and the case records its response."""
from __future__ import annotations

import re

from monitor.web.context import Inbox
from monitor.web.server import WebServer
from tests.reply_support import case_for, reply_service
from tests.test_replies import POST_URI, POSTS, account, instance  # noqa: F401 - the fixture
from tests.web_support import PASSWORD, Running, csrf_of, signed_in


def test_an_agent_replies_from_the_case_page_once(tmp_path, httpserver, instance):  # noqa: F811
    svc = reply_service(tmp_path, None, "mastodon", account(httpserver), POSTS)
    svc.store.users.add("ana", "agent", PASSWORD)
    server = WebServer(Inbox(svc.config, svc.store, svc.desk, svc.replies), port=0)
    server.start()
    running = Running(svc, server)
    try:
        case_id = case_for(svc, POST_URI)
        ana = signed_in(running, "ana")
        page = ana.get(f"/cases/{case_id}").text
        assert re.search(r"Reply in public\s+as @acmehelp on \S+ on Mastodon \(up to 500 characters\)", page)
        words = "Sorry about the double charge, @ann@other.example: refunded today."
        token = csrf_of(page)
        for _ in range(2):  # a double submit
            shown = ana.post(f"/cases/{case_id}/reply", data={"csrf_token": token, "text": words},
                             follow_redirects=True).text
        assert len(instance.posted) == 1
        assert "already posted" in shown
        case = svc.store.cases.get(case_id)
        assert case.status == "claimed" and case.first_response_by == "ana"
        assert [e["origin"] for e in svc.store.cases.history(case_id) if e["action"] == "reply"] == ["web"]
    finally:
        running.close()
