"""The web inbox in a real browser: sign in, work the queue by deadline, follow a change made elsewhere, race
another agent for a claim, search, label with the keyboard, read the digest; hostile posts stay text. Each
page's screenshot is written under the test's tmp dir."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from monitor.model import CaseAction
from monitor.store.schema import mentions
from tests.browser import browser, sign_in  # noqa: F401 - the fixture
from tests.support import write_jsonl
from tests.web_support import NOW, PASSWORD, post, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def inbox(tmp_path, clock_at):
    """Two complaints opened 40 minutes apart under a 30-minute SLA (the first is overdue), a positive post,
    and three users: agents ana and bea, viewer vic."""
    clock = clock_at(NOW - timedelta(minutes=40))
    running = serve(tmp_path, None, [post("late1", "@pixelcart my order never arrived, 3 weeks now. refund please",
                                          5, clock.utcnow(), author="sam")],
                    users=(("ana", "agent"), ("bea", "agent"), ("vic", "viewer")))
    clock.set(NOW)
    write_jsonl(tmp_path / "feed.jsonl", [
        post("new2", "pixelcart app crashes every time i open the cart, lost my whole basket", 2, NOW, author="lee"),
        post("fan3", "love my new pixelcart hoodie, great quality", 1, NOW, author="kim")])
    running.svc.run_once()
    yield running
    running.close()


def shot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_an_agent_works_the_queue_by_deadline_and_another_session_follows(browser, inbox, tmp_path):  # noqa: F811
    ana = sign_in(browser, inbox.url, "ana", PASSWORD)
    rows = ana.locator("tr.case")
    assert rows.count() == 2
    late, fresh = inbox.case_of("late1"), inbox.case_of("new2")
    # Overdue first, and marked so; the other is due 30 minutes after it was opened (now), in 30 min.
    assert rows.nth(0).get_attribute("data-case") == str(late)
    assert "overdue" in rows.nth(0).get_attribute("class")
    assert rows.nth(0).locator("td.due").inner_text() == "10 min overdue"
    assert rows.nth(1).locator("td.due").inner_text() == "in 30 min"
    assert "1 overdue" in ana.locator("h1").inner_text()
    shot(ana, tmp_path, "cases")

    bea = sign_in(browser, inbox.url, "bea", PASSWORD)
    bea.goto(f"/cases/{late}")
    assert bea.locator("[data-status]").inner_text() == "open"

    ana.click(f"tr[data-case='{late}'] a >> nth=0")
    ana.wait_for_url(f"**/cases/{late}")
    assert "my order never arrived" in ana.locator("blockquote.post").inner_text()
    shot(ana, tmp_path, "case")
    ana.click("button[data-action=claim]")
    assert ana.locator(".flash.good").inner_text() == f"Case {late} is claimed"
    assert ana.locator("[data-status]").inner_text() == "claimed"

    # Bea's open page shows ana's claim without a reload: the page polls once a second.
    expect(bea.locator("[data-status]")).to_have_text("claimed", timeout=10_000)
    assert bea.locator("body").get_attribute("data-refreshed") == "1"  # swapped in place, not reloaded
    assert "claim by ana (web: open → claimed)" in bea.locator("ol.history").inner_text()

    # A change from the CLI's desk shows too.
    inbox.svc.desk.act(CaseAction(late, "resolve", "carl", "cli"))
    expect(bea.locator("[data-status]")).to_have_text("resolved", timeout=10_000)
    assert inbox.svc.store.cases.get(late).closed_by == "carl"
    assert inbox.svc.store.cases.get(fresh).status == "open"


def test_two_agents_race_for_one_claim_and_one_wins(browser, inbox):  # noqa: F811
    case_id = inbox.case_of("new2")
    ana = sign_in(browser, inbox.url, "ana", PASSWORD)
    bea = sign_in(browser, inbox.url, "bea", PASSWORD)
    for page in (ana, bea):
        page.goto(f"/cases/{case_id}")
    ana.click("button[data-action=claim]")
    bea.click("button[data-action=claim]")  # her button was there when she clicked
    assert bea.locator(".flash.bad").inner_text() == (f"Case {case_id} was not changed: already claimed by ana")
    assert inbox.svc.store.cases.get(case_id).claimed_by == "ana"
    claims = [e for e in inbox.svc.store.cases.history(case_id) if e["action"] == "claim"]
    assert [(e["actor"], e["origin"]) for e in claims] == [("ana", "web")]


def test_search_finds_posts_and_filters_them(browser, inbox, tmp_path):  # noqa: F811
    ana = sign_in(browser, inbox.url, "ana", PASSWORD)
    ana.click("nav >> text=Search")
    ana.fill("input[name=q]", "REFUND")
    ana.press("input[name=q]", "Enter")
    results = ana.locator("li.result")
    assert results.count() == 1
    assert "refund please" in results.first.inner_text()
    assert "1 post match" in ana.locator("p.summary").inner_text()
    shot(ana, tmp_path, "search")
    ana.fill("input[name=q]", "pixelcart")
    ana.select_option("select[name=complaint]", "no")
    ana.click("form.search button")
    assert [r.get_attribute("data-mention") for r in ana.locator("li.result").all()] == \
        [str(m) for m in _mention_ids(inbox, ["fan3"])]


def _mention_ids(inbox, external_ids: list[str]) -> list[int]:
    from tests.support import stored_mentions

    stored = stored_mentions(inbox.svc)
    return [stored[e].id for e in external_ids]


def test_labelling_with_the_keyboard_records_the_verdicts(browser, inbox, tmp_path):  # noqa: F811
    ana = sign_in(browser, inbox.url, "ana", PASSWORD)
    ana.goto("/labels")
    picks = ana.locator("li.pick")
    assert picks.count() == 3  # nobody has labelled any of the three posts yet
    shot(ana, tmp_path, "labels")
    first = int(picks.first.get_attribute("data-mention"))
    with ana.expect_navigation():
        ana.keyboard.press("n")
    assert "labelled not a complaint" in ana.locator(".flash.good").inner_text()
    assert ana.locator("li.pick").count() == 2
    second = int(ana.locator("li.pick").nth(1).get_attribute("data-mention"))
    ana.keyboard.press("j")
    with ana.expect_navigation():
        ana.keyboard.press("c")
    assert ana.locator("li.pick").count() == 1
    verdicts = {(m, labels[-1]["is_complaint"], labels[-1]["actor"], labels[-1]["origin"])
                for m in (first, second) for labels in (inbox.svc.store.cases.labels_of(m),)}
    assert verdicts == {(first, False, "ana", "web"), (second, True, "ana", "web")}


def test_the_digest_shows_its_figures_and_report(browser, inbox, tmp_path, clock_at):  # noqa: F811
    clock_at(NOW + timedelta(days=1))  # the posts' day is now yesterday, the latest digest
    page = sign_in(browser, inbox.url, "vic", PASSWORD)
    page.click("nav >> text=Digest")
    figures = page.locator("ul.figures").inner_text()
    assert "Mentions (posts naming Pixelcart): 3 (feed 3)" in figures
    assert "Complaints (posts the detector flagged; a complaint need not sound negative): 2" in figures
    report = page.frame_locator("iframe.report")
    assert report.locator("h2", has_text="Complaint topics").count() == 1
    assert report.locator("img").count() == 2  # the trend and the topics charts
    shot(page, tmp_path, "digest")
    page.select_option("select[name=period]", "weekly")
    page.click("form.inline button")
    assert "Weekly digest" in page.locator("h1").inner_text()


def test_a_viewer_reads_but_cannot_change_a_case(browser, inbox):  # noqa: F811
    case_id = inbox.case_of("new2")
    page = sign_in(browser, inbox.url, "vic", PASSWORD)
    page.goto(f"/cases/{case_id}")
    assert page.locator("button[data-action]").count() == 0
    assert "an agent account is needed" in page.locator("main").inner_text()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate("""async ([id, token]) => (await fetch(`/cases/${id}/claim`, {method: "POST",
        body: new URLSearchParams({csrf_token: token})})).status""", [case_id, token])
    assert status == 403
    assert inbox.svc.store.cases.get(case_id).status == "open"


def test_a_hostile_post_renders_as_text(browser, tmp_path, clock_at):  # noqa: F811
    clock_at(NOW)
    hostile = "pixelcart broke my order <img src=x onerror=alert(1)><script>alert(2)</script> \u202eevil\u202c"
    running = serve(tmp_path, None, [post("h1", hostile, 1, NOW, author="<b>mallory</b>\u202e")])
    # Intake keeps only web links; a row from before that rule (or any other way in) must still not be one here.
    with running.svc.store.db.engine.begin() as conn:
        conn.execute(sa.update(mentions).values(url="javascript:alert(3)"))
    try:
        page = sign_in(browser, running.url, "ana", PASSWORD)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        case_id = running.case_of("h1")
        answer = page.goto(f"/cases/{case_id}")
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        shown = page.locator("blockquote.post").inner_text()
        assert "<img src=x onerror=alert(1)><script>alert(2)</script>" in shown
        assert "\u202e" not in shown and "\u202e" not in page.locator("main").inner_text()
        assert page.locator("main img, main script, main b").count() == 0
        assert page.locator("a.external").count() == 0  # a javascript: link is shown as text, never a link
        assert "javascript:alert(3)" in page.locator("main code").inner_text()
        page.goto("/cases")
        page.goto("/search?q=broke")
        assert page.locator("main img, main script").count() == 0
        page.wait_for_timeout(300)
        assert dialogs == []
    finally:
        running.close()
