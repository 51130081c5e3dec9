"""The web inbox over HTTP: who gets in and how (login CSRF, lockouts, cookies, sessions that end), what a
signed-in user may do (CSRF on every form, viewers read only), what every response carries (its policy), and
what a bad request gets (a clear answer, nothing changed)."""
from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from monitor.ops.metrics import REGISTRY
from tests.support import until
from tests.web_support import NOW, PASSWORD, csrf_of, post, serve, signed_in


@pytest.fixture
def inbox(tmp_path, clock_at):
    clock_at(NOW)
    running = serve(tmp_path, None, [post("c1", "@pixelcart my order never arrived, refund please", 5, NOW),
                                     post("c2", "pixelcart app crashes when i pay, lost my basket", 3, NOW,
                                          author="lee")],
                    web={"max_failed_logins": 3, "lockout": "10m", "session_lifetime": "1h"})
    yield running
    running.close()


def client(running) -> httpx.Client:
    return running.client()


def login(http: httpx.Client, name: str, password: str, token: str | None = None, next_path: str = "/cases"):
    form = http.get("/login")
    return http.post("/login", data={"username": name, "password": password, "next": next_path,
                                     "csrf_token": csrf_of(form.text) if token is None else token})


def test_pages_need_a_session_and_say_where_to_go(inbox):
    http = client(inbox)
    answer = http.get("/cases?brand=Pixelcart")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fcases%3Fbrand%3DPixelcart"
    assert http.get("/cases/version").status_code == 401
    assert http.post("/cases/1/claim", data={"csrf_token": "x"}).status_code == 401
    assert http.get("/healthz").text == "ok\n"


def test_signing_in_sets_a_strict_cookie_and_goes_where_it_was_asked(inbox):
    http = client(inbox)
    answer = login(http, "ana", PASSWORD, next_path="/search?q=refund")
    assert answer.status_code == 303 and answer.headers["location"] == "/search?q=refund"
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and "monitor_session=" in v)
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes and "secure" not in attributes
    assert "max-age=3600" in attributes
    assert http.get("/cases").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_after_signing_in_it_never_leaves_the_inbox(inbox, target):
    answer = login(client(inbox), "ana", PASSWORD, next_path=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"


def test_the_cookie_is_secure_when_the_inbox_is_served_over_https(tmp_path, clock_at):
    clock_at(NOW)
    running = serve(tmp_path, None, [], web={"base_url": "https://inbox.example.com"})
    try:
        form = client(running).get("/login")
        login_cookie = form.headers["set-cookie"]
        assert "secure" in {part.strip().lower() for part in login_cookie.split(";")}
        token = csrf_of(form.text)  # a browser sends a Secure cookie over https only: the proxy's side here
        answer = httpx.post(f"{running.url}/login", headers={"cookie": f"monitor_login_csrf={token}"},
                            data={"username": "ana", "password": PASSWORD, "csrf_token": token, "next": "/cases"})
        cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and "monitor_session=" in v)
        assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    finally:
        running.close()


def test_the_login_form_needs_its_own_token(inbox):
    http = client(inbox)
    answer = login(http, "ana", PASSWORD, token="forged")
    assert answer.status_code == 403 and "expired" in answer.text
    assert "monitor_session" not in answer.headers.get("set-cookie", "")
    bare = httpx.post(f"{inbox.url}/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "x"})
    assert bare.status_code == 403


def test_wrong_passwords_lock_the_name_until_the_lockout_passes(inbox, clock_at):
    http = client(inbox)
    for _ in range(2):
        assert login(http, "ana", "wrong password").status_code == 401
    unknown = login(http, "nobody", "wrong password")
    assert unknown.status_code == 401 and "Wrong user name or password." in unknown.text  # same words for both
    locked = login(http, "ana", "wrong again")
    assert locked.status_code == 429 and "locked for 10 min" in locked.text
    assert login(http, "ana", PASSWORD).status_code == 429  # the right password does not help meanwhile
    assert login(client(inbox), "bea", PASSWORD).status_code == 401  # (no such user) other names are not locked
    clock_at(NOW + timedelta(minutes=11))
    assert login(http, "ana", PASSWORD).status_code == 303


def test_an_address_that_keeps_failing_waits(inbox):
    http = client(inbox)
    statuses = [login(http, f"guess{i}", "wrong password").status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert "from this address" in login(http, "ana", PASSWORD).text
    assert sample("monitor_web_sign_ins_total", outcome="throttled") >= 2


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_session_ends_when_it_expires_when_signed_out_and_when_the_user_is_removed(inbox, clock_at):
    ana = signed_in(inbox, "ana")
    clock_at(NOW + timedelta(minutes=61))
    assert ana.get("/cases").status_code == 303
    clock_at(NOW)
    ana = signed_in(inbox, "ana")
    token, copied = csrf_of(ana.get("/cases").text), ana.cookies["monitor_session"]
    assert ana.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    # A copy of the cookie taken before signing out opens nothing: the session is gone on the server.
    assert client(inbox).get("/cases", headers={"cookie": f"monitor_session={copied}"}).status_code == 303
    vic = signed_in(inbox, "vic")
    kept = vic.cookies["monitor_session"]
    assert inbox.svc.store.users.remove("vic")
    assert client(inbox).get("/cases", headers={"cookie": f"monitor_session={kept}"}).status_code == 303


def test_every_form_needs_the_sessions_token(inbox):
    ana = signed_in(inbox, "ana")
    case_id = inbox.case_of("c1")
    for data in ({}, {"csrf_token": "guessed"}, {"csrf_token": csrf_of(signed_in(inbox, "ana").get("/cases").text)}):
        answer = ana.post(f"/cases/{case_id}/claim", data=data)
        assert answer.status_code == 403, data  # the last is another session's token
    assert inbox.svc.store.cases.get(case_id).status == "open"
    token = csrf_of(ana.get("/cases").text)
    assert ana.post(f"/cases/{case_id}/claim", data={"csrf_token": token}).status_code == 303
    assert inbox.svc.store.cases.get(case_id).claimed_by == "ana"


def test_viewers_read_everything_and_change_nothing(inbox):
    vic = signed_in(inbox, "vic")
    case_id = inbox.case_of("c1")
    page = vic.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "data-action" not in page.text
    token = csrf_of(page.text)
    mention = inbox.svc.store.cases.get(case_id).mention_id
    for path, data in ((f"/cases/{case_id}/claim", {}), (f"/cases/{case_id}/label", {"verdict": "not"}),
                       ("/labels", {"mention_id": str(mention), "verdict": "complaint"})):
        answer = vic.post(path, data={"csrf_token": token, **data})
        assert answer.status_code == 403 and "Viewers" in answer.text
    assert inbox.svc.store.cases.get(case_id).status == "open"
    assert inbox.svc.store.cases.labels_of(mention) == []
    for path in ("/cases", "/search?q=refund", "/labels", "/digest"):
        assert vic.get(path).status_code == 200, path


def test_every_page_carries_a_policy_without_inline_script(inbox):
    ana = signed_in(inbox, "ana")
    for path in ("/login", "/cases", f"/cases/{inbox.case_of('c1')}", "/search?q=x", "/labels", "/digest"):
        headers = (ana if path != "/login" else client(inbox)).get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy, path
        assert "frame-ancestors 'none'" in policy and headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    report = ana.get("/digest/report").headers
    assert report["content-security-policy"].startswith("default-src 'none'") and "script" not in \
        report["content-security-policy"]
    assert report["x-frame-options"] == "SAMEORIGIN"
    assert "<script" not in ana.get("/digest/report").text


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/cases/999999", 404), ("GET", "/cases/abc", 404), ("GET", "/cases/0", 404),
    ("GET", "/cases/99999999999999999999999", 404), ("POST", "/cases/1/explode", 404),
    ("POST", "/cases/999999/claim", 303), ("GET", "/nowhere", 404), ("GET", "/search?q=%22%22%22", 200),
    ("GET", "/search?q=refund&since=yesterday", 200), ("GET", "/cases?offset=-5", 200),
    ("POST", "/labels", 400), ("GET", "/digest?day=not-a-day&period=hourly&brand=Nobody", 200),
])
def test_bad_requests_get_a_clear_answer(inbox, method, path, status):
    ana = signed_in(inbox, "ana")
    token = csrf_of(ana.get("/cases").text)
    answer = ana.request(method, path, data={"csrf_token": token} if method == "POST" else None)
    assert answer.status_code == status, answer.text
    assert "Traceback" not in answer.text


def test_a_refused_action_says_why(inbox):
    ana = signed_in(inbox, "ana")
    token = csrf_of(ana.get("/cases").text)
    answer = ana.post("/cases/999999/claim", data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 404 and "There is no case 999999" in answer.text


def test_requests_are_counted_by_page(inbox):
    before = sample("monitor_web_requests_total", page="/cases/{case_id}", status="200")
    ana = signed_in(inbox, "ana")
    ana.get(f"/cases/{inbox.case_of('c1')}")
    ana.get(f"/cases/{inbox.case_of('c2')}")
    # Counted as the response finishes, which the client may see a moment before the count moves.
    assert until(lambda: sample("monitor_web_requests_total", page="/cases/{case_id}", status="200") == before + 2)
    assert sample("monitor_web_requests_total", page="/cases/{case_id}", status="200") == before + 2


def test_the_queue_page_filters_and_pages(inbox):
    ana = signed_in(inbox, "ana")
    page = ana.get("/cases?topic=delivery").text
    shown = re.findall(r'data-case="(\d+)"', page)
    assert shown == [str(inbox.case_of("c1"))]
    assert 'data-filter="topic" data-value="product quality"' in page  # the other value, counted, to switch to


def test_the_queue_shows_a_change_made_elsewhere_at_once(inbox):
    from monitor.model import CaseAction

    ana = signed_in(inbox, "ana")
    case_id = inbox.case_of("c2")
    before = ana.get("/cases").text
    version = ana.get("/cases/version").json()["version"]
    assert f'data-case="{case_id}"' in before and "claimed by carl" not in before
    inbox.svc.desk.act(CaseAction(case_id, "claim", "carl", "cli"))
    assert ana.get("/cases/version").json()["version"] != version
    assert "claimed by carl" in ana.get("/cases").text
    inbox.svc.desk.act(CaseAction(case_id, "resolve", "carl", "cli"))
    assert f'data-case="{case_id}"' not in ana.get("/cases").text


def test_a_count_that_stopped_looking_says_so(tmp_path, clock_at):
    from monitor.store.search import MentionSearch

    clock_at(NOW)
    running = serve(tmp_path, None, [post(f"p{n}", f"pixelcart order {n} is late", 30 - n, NOW, author=f"a{n}")
                                     for n in range(12)], web={"page_size": 10})
    try:
        ana = signed_in(running, "ana")
        assert "12 posts match;" in ana.get("/search?q=pixelcart").text
        running.server.config.app.state.inbox.search = MentionSearch(running.svc.store.db, scan_cap=11)
        shown = ana.get("/search?q=pixelcart").text
        assert "11 posts match among the newest 11 holding these words, and older ones may" in shown
        assert "Older results" in shown
    finally:
        running.close()


def test_the_queue_follows_an_instance_whose_clock_is_behind(inbox, clock_at):
    from monitor.model import CaseAction

    queue = inbox.server.config.app.state.inbox
    first, second = inbox.case_of("c1"), inbox.case_of("c2")
    assert {c.id for c in queue.working()[0]} == {first, second}
    clock_at(NOW + timedelta(minutes=10))
    inbox.svc.desk.act(CaseAction(first, "claim", "ana", "web"))
    assert {c.id: c.status for c in queue.working()[0]}[first] == "claimed"
    clock_at(NOW + timedelta(minutes=7))  # another instance, three minutes behind, resolves the other case
    inbox.svc.desk.act(CaseAction(second, "resolve", "bea", "slack"))
    assert [c.id for c in queue.working()[0]] == [first]


def test_an_agent_labels_a_cases_post_from_its_page(inbox):
    ana = signed_in(inbox, "ana")
    case_id = inbox.case_of("c1")
    token = csrf_of(ana.get(f"/cases/{case_id}").text)
    shown = ana.post(f"/cases/{case_id}/label", data={"csrf_token": token, "verdict": "not"}, follow_redirects=True)
    mention = inbox.svc.store.cases.get(case_id).mention_id
    assert f"post {mention} is labelled not a complaint" in shown.text
    assert [(x["is_complaint"], x["actor"], x["origin"]) for x in inbox.svc.store.cases.labels_of(mention)] == [
        (False, "ana", "web")]
    assert inbox.svc.store.cases.get(case_id).status == "open"  # a label is not a dismissal
    assert ana.post(f"/cases/{case_id}/label", data={"csrf_token": token, "verdict": "maybe"}).status_code == 404


def test_what_the_inbox_remembers_is_bounded_and_forgets_the_least_recent():
    from monitor.web.recent import Recent

    kept = Recent(3)
    for key in "abc":
        kept.put(key, key.upper())
    assert kept.get("a") == "A"
    kept.setdefault("a", list)       # used again: now the most recent
    kept.put("d", "D")               # past the size: the least recently used (b) goes
    assert [kept.get(k) for k in "abcd"] == ["A", None, "C", "D"]
    assert kept.setdefault("e", lambda: "new") == "new" and kept.get("c") is None
    assert kept.pop("e") == "new" and kept.pop("e", "gone") == "gone"
