"""Answering from Slack on the wire: the Reply button opens the form (views.open), typing updates the length
count as the network counts it (views.update), Send posts under the post on the Mastodon stand-in and the case
shows it; an over-long or refused reply keeps the form open with the reason; approvals wait in the thread."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from monitor.service import MonitorService
from monitor.store.schema import replies
from tests.fake_apis import FakeSlack, signed_request
from tests.fake_reply_apis import FakeMastodonInstance
from tests.support import build_config, write_jsonl
from tests.test_sink_slack import INTERACTIVE_ENV, buttons, slack, status_line, wait_for

POST_URL = "https://other.example/@ann/1199"
POST_URI = "https://other.example/users/ann/statuses/1199"


@pytest.fixture
def fakes(httpserver):
    slack_fake, mastodon = FakeSlack(), FakeMastodonInstance()
    slack_fake.install(httpserver)
    mastodon.install(httpserver)
    mastodon.remote(POST_URL, POST_URI)
    return slack_fake, mastodon


@pytest.fixture
def desk(tmp_path, db_url, httpserver, fakes):
    svc, server = start(tmp_path, db_url, httpserver)
    yield svc, server, httpserver.url_for("")
    server.stop()
    svc.close()


def start(tmp_path, db_url, httpserver, **replies):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": POST_URI, "url": POST_URL, "author": "ann@other.example",
                                           "text": "@pixelcart 3 weeks and my refund still isn't there"}])
    sink = slack(httpserver, interactivity={"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}"})
    section = {"accounts": [{"brand": "Pixelcart", "platform": "mastodon", "access_token": FakeMastodonInstance.TOKEN,
                             "instance": httpserver.url_for("").rstrip("/")}],
               "templates": {"sorry": "Sorry about this, {author}. Please DM us and we'll sort it today."}, **replies}
    config = build_config(tmp_path, db_url, environ=INTERACTIVE_ENV, alerts={"sinks": {"slack": sink}},
                          service={"http": {"enabled": True, "port": 0}},
                          sources={"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"),
                                            "platform": "mastodon"}}, replies=section)
    svc = MonitorService(config)
    svc.prepare()
    svc.run_once()
    return svc, svc.start_ops_server()


def send_payload(server, payload: dict) -> tuple[int, dict]:
    body, headers = signed_request(payload)
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/slack/events", data=body, headers=headers,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return response.status, (json.loads(text) if text.strip().startswith("{") else {})


def _user(user: str) -> dict:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEAM"}


def click(base: str, message: dict, action_id: str, value: str, user: str = "U0ANN") -> dict:
    return {"type": "block_actions", "api_app_id": "A0MONITOR", "team": {"id": "T0TEAM", "domain": "acme"},
            "trigger_id": "1234.5678.abcd", "user": _user(user),
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0SUPPORT"},
            "channel": {"id": "C0SUPPORT", "name": "support"},
            "message": {"type": "message", "ts": message["ts"], "bot_id": "B0BOT", "text": "x"},
            "response_url": f"{base.rstrip('/')}/actions/T0TEAM/1/hook",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": f"{time.time():.6f}"}]}


def in_view(view_id: str, view: dict, user: str = "U0ANN", text: str | None = None, kind: str = "view_submission",
            action: dict | None = None) -> dict:
    draft = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    state = {"values": {draft: {"reply_draft": {"type": "plain_text_input", "value": text}}}}
    payload = {"type": kind, "team": {"id": "T0TEAM", "domain": "acme"}, "user": _user(user),
               "api_app_id": "A0MONITOR", "trigger_id": "1234.5678.efgh",
               "view": {**view, "id": view_id, "hash": "h1", "team_id": "T0TEAM", "state": state, "app_id": "A0MONITOR",
                        "bot_id": "B0BOT", "root_view_id": view_id}}
    if action is not None:
        payload["actions"] = [action]
        payload["container"] = {"type": "view", "view_id": view_id}
    return payload


def texts(view: dict) -> str:
    found = []
    for block in view.get("blocks", []):
        found.append((block.get("text") or {}).get("text", ""))
        found += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(t for t in found if isinstance(t, str))


def open_form(server, base, fake, user="U0ANN") -> tuple[str, dict]:
    alert = fake.messages[0]
    assert send_payload(server, click(base, alert, "reply_open", str(case_of(alert)), user))[0] == 200
    assert wait_for(lambda: fake.views)
    view_id = list(fake.views)[-1]
    return view_id, fake.views[view_id]


def approval_request(fake) -> tuple[dict, str]:
    """The draft's approval message in the alert's thread, once posted, and the value its buttons carry."""
    assert wait_for(lambda: any("reply_approve" in json.dumps(m.get("blocks")) for m in fake.messages))
    ask = next(m for m in fake.messages if "reply_approve" in json.dumps(m.get("blocks")))
    return ask, next(e["value"] for b in ask["blocks"] if b["type"] == "actions" for e in b["elements"])


def case_of(message: dict) -> int:
    return int(next(e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]))


def test_an_agent_answers_from_slack_and_the_reply_appears_under_the_post(desk, fakes):
    svc, server, base = desk
    fake, mastodon = fakes
    assert buttons(fake.messages[0])[-1] == "reply_open"
    view_id, form = open_form(server, base, fake)
    shown = texts(form)
    assert "3 weeks and my refund still isn't there" in shown and "@acmehelp" in shown
    assert "0/500 characters (500 left)" in shown and "Saved replies" in json.dumps(form)
    typed = {"type": "plain_text_input", "action_id": "reply_draft", "block_id": "draft_0",
             "value": "Sorry Ann, refund sent today: https://help.example.com/refunds/abc"}
    send_payload(server, in_view(view_id, form, text=typed["value"], kind="block_actions", action=typed))
    assert wait_for(lambda: "53/500 characters (447 left)" in texts(fake.views[view_id]))  # 30 + 23 for the link
    status, answer = send_payload(server, in_view(view_id, form, text=typed["value"]))
    assert status == 200 and answer["response_action"] == "update"
    assert wait_for(lambda: "Posted on Mastodon" in texts(fake.views[view_id]))
    [posted] = mastodon.posted
    assert posted["in_reply_to_id"] == mastodon.known[POST_URL] and posted["url"] in texts(fake.views[view_id])
    case = svc.store.cases.get(case_of(fake.messages[0]))
    assert case.first_response_by == "<@U0ANN>" and case.public_reply_url == posted["url"]
    assert wait_for(lambda: any(m.get("thread_ts") and posted["url"] in m["text"] for m in fake.messages))
    assert wait_for(lambda: fake.updates and "answered publicly" in status_line(fake.updates[-1]))


def test_an_over_long_reply_keeps_the_form_open_with_the_count(desk, fakes):
    svc, server, base = desk
    fake, mastodon = fakes
    view_id, form = open_form(server, base, fake)
    status, answer = send_payload(server, in_view(view_id, form, text="x" * 501))
    assert answer == {"response_action": "errors",
                      "errors": {"draft_0": "the reply is 501 characters; Mastodon takes at most 500"}}
    assert mastodon.posted == [] and svc.store.cases.get(case_of(fake.messages[0])).first_response_at is None


def test_a_refused_reply_shows_the_networks_message_and_changes_nothing(desk, fakes):
    svc, server, base = desk
    fake, mastodon = fakes
    view_id, form = open_form(server, base, fake)
    mastodon.known.clear()  # deleted meanwhile
    send_payload(server, in_view(view_id, form, text="Sorry about that"))
    assert wait_for(lambda: "Not sent:" in texts(fake.views[view_id]))
    assert "cannot find the post any more" in texts(fake.views[view_id])
    assert '"initial_value": "Sorry about that"' in json.dumps(fake.views[view_id]), "the draft is kept"
    assert mastodon.posted == [] and svc.store.cases.get(case_of(fake.messages[0])).status == "open"


def test_a_saved_reply_fills_the_draft(desk, fakes):
    _svc, server, base = desk
    fake, _mastodon = fakes
    view_id, form = open_form(server, base, fake)
    chosen = {"type": "static_select", "action_id": "reply_template", "block_id": "templates",
              "selected_option": {"text": {"type": "plain_text", "text": "sorry"}, "value": "sorry"}}
    send_payload(server, in_view(view_id, form, kind="block_actions", action=chosen))
    assert wait_for(lambda: "draft_1" in json.dumps(fake.views[view_id]))
    view = json.dumps(fake.views[view_id])
    assert "Sorry about this, @ann@other.example. Please DM us" in view


def test_a_draft_waits_in_the_thread_until_an_approver_clicks(tmp_path, db_url, httpserver, fakes):
    fake, mastodon = fakes
    svc, server = start(tmp_path, db_url, httpserver, require_approval=True, approvers=["U0LEAD"])
    base = httpserver.url_for("")
    try:
        view_id, form = open_form(server, base, fake)
        assert "need an approver" in texts(form)
        send_payload(server, in_view(view_id, form, text="So sorry Ann, refund today"))
        assert wait_for(lambda: "waits for an approver" in texts(fake.views[view_id]))
        ask, value = approval_request(fake)
        assert ask.get("thread_ts") and "So sorry Ann, refund today" in json.dumps(ask["blocks"])
        assert mastodon.posted == []
        send_payload(server, click(base, ask, "reply_approve", value, user="U0ANN"))
        assert wait_for(lambda: any("only an approver" in r.get("text", "") for r in fake.responses))
        assert mastodon.posted == []
        send_payload(server, click(base, ask, "reply_approve", value, user="U0LEAD"))
        assert wait_for(lambda: len(mastodon.posted) == 1)
        assert wait_for(lambda: any(u["ts"] == ask["ts"] and "Approved by" in json.dumps(u["blocks"])
                                    for u in fake.updates))
        assert svc.store.cases.get(case_of(fake.messages[0])).first_response_by == "<@U0ANN>"
    finally:
        server.stop()
        svc.close()


@pytest.mark.timed_waits
def test_the_form_works_over_socket_mode_too(tmp_path, db_url, httpserver, fakes):
    from tests.fake_apis import FakeSocketMode
    from tests.test_sink_slack import ENV

    fake, mastodon = fakes
    socket_end = FakeSocketMode()
    socket_end.install(httpserver)
    write_jsonl(tmp_path / "feed.jsonl", [{"id": POST_URI, "url": POST_URL, "author": "ann@other.example",
                                           "text": "@pixelcart 3 weeks and my refund still isn't there"}])
    sink = slack(httpserver, interactivity={"mode": "socket", "app_token": "${SLACK_APP_TOKEN}"})
    section = {"accounts": [{"brand": "Pixelcart", "platform": "mastodon", "access_token": FakeMastodonInstance.TOKEN,
                             "instance": httpserver.url_for("").rstrip("/")}]}
    svc = MonitorService(build_config(tmp_path, db_url, environ={**ENV, "SLACK_APP_TOKEN": FakeSocketMode.APP_TOKEN},
                                      alerts={"sinks": {"slack": sink}}, replies=section,
                                      sources={"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"),
                                                        "platform": "mastodon"}}))
    svc.prepare()
    svc.run_once()
    base = httpserver.url_for("")
    try:
        svc.listen()
        assert wait_for(lambda: socket_end.connections == 1)
        alert = fake.messages[0]
        socket_end.send(click(base, alert, "reply_open", str(case_of(alert))))
        assert wait_for(lambda: fake.views)
        view_id, form = next(iter(fake.views.items()))
        too_long = socket_end.send(in_view(view_id, form, text="x" * 501))
        assert wait_for(lambda: any(a.get("envelope_id") == too_long for a in socket_end.acks))
        ack = next(a for a in socket_end.acks if a.get("envelope_id") == too_long)
        assert ack["payload"]["response_action"] == "errors" and mastodon.posted == []
        socket_end.send(in_view(view_id, form, text="Sorry Ann, refunded today"))
        assert wait_for(lambda: len(mastodon.posted) == 1)
        assert wait_for(lambda: "Posted on Mastodon" in texts(fake.views[view_id]))
    finally:
        svc.close()
        socket_end.close()


def test_members_of_an_approver_group_approve(tmp_path, db_url, httpserver, fakes):
    fake, mastodon = fakes
    svc, server = start(tmp_path, db_url, httpserver, require_approval={"Pixelcart": True}, approvers=["S0SUPPORT"])
    base = httpserver.url_for("")
    try:
        view_id, form = open_form(server, base, fake)
        send_payload(server, in_view(view_id, form, text="Refund issued, sorry Ann"))
        ask, value = approval_request(fake)
        send_payload(server, click(base, ask, "reply_approve", value, user="U0DAN"))  # in S0SUPPORT
        assert wait_for(lambda: len(mastodon.posted) == 1)
        assert fake.calls.get("usergroups.users.list") == 1
        assert wait_for(lambda: any("Approved by &lt;@U0DAN&gt;" in json.dumps(u["blocks"]) for u in fake.updates))
    finally:
        server.stop()
        svc.close()


def test_an_approver_edits_a_draft_before_it_is_posted(tmp_path, db_url, httpserver, fakes):
    fake, mastodon = fakes
    svc, server = start(tmp_path, db_url, httpserver, require_approval=True, approvers=["U0LEAD"])
    base = httpserver.url_for("")
    try:
        view_id, form = open_form(server, base, fake)
        send_payload(server, in_view(view_id, form, text="sry, will check"))
        ask, value = approval_request(fake)
        opened = len(fake.views)
        send_payload(server, click(base, ask, "reply_edit", value, user="U0LEAD"))
        assert wait_for(lambda: len(fake.views) > opened)
        edit_id, edit_form = list(fake.views.items())[-1]
        assert '"initial_value": "sry, will check"' in json.dumps(edit_form)
        send_payload(server, in_view(edit_id, edit_form, user="U0LEAD", text="Sorry Ann, refunded today."))
        assert wait_for(lambda: len(mastodon.posted) == 1)
        assert wait_for(lambda: "Posted on Mastodon" in texts(fake.views[edit_id]))
        assert "Sorry Ann, refunded today." in mastodon.posted[0]["content"]
        with svc.store.db.engine.connect() as conn:
            [row] = conn.execute(replies.select()).all()
        assert row.approved_by == "<@U0LEAD>" and row.author == "<@U0ANN>"
    finally:
        server.stop()
        svc.close()
