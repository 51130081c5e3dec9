"""X replies on the wire through tweepy: POST /2/tweets with reply.in_reply_to_tweet_id as the brand's user
token, X's rule that only posts which mention, answer or quote the account may be answered (checked before
sending, and the 403 when X says it), the weighted 280 count, and the account's timeline after a crash."""
from __future__ import annotations

import pytest

from replies._counting import x_weighted_length
from tests.fake_reply_apis import FakeXWrite
from tests.reply_support import case_for, interrupted, reply_service, send


@pytest.fixture
def x_api(httpserver):
    fake = FakeXWrite()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, x_api, text="@pixelcart charged me twice for order 5512, fix it",
            token=FakeXWrite.TOKEN, **more):
    ident = x_api.tweet(text)
    posts = [{"id": ident, "url": f"https://x.com/ann/status/{ident}", "author": "ann", "text": text}]
    account = {"access_token": token, "api_base_url": httpserver.url_for("").rstrip("/"), **more}
    return reply_service(tmp_path, db_url, "x", account, posts), ident


def test_a_reply_to_a_post_that_mentions_the_account(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    case_id = case_for(svc, ident)
    result = send(svc, case_id, "So sorry @ann, the second charge is refunded. Details in DM.")
    assert result.ok, result.message
    [reply] = x_api.replies()
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": ident}]
    assert result.url == f"https://x.com/pixelcart/status/{reply['id']}"
    assert svc.store.cases.get(case_id).public_reply_url == result.url
    svc.close()


def test_a_post_that_does_not_engage_the_account_is_offered_off_platform(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api, text="pixelcart charged me twice, awful company")
    result = send(svc, case_for(svc, ident), "Sorry! DM us")
    assert not result.ok and result.off_platform and "mention or quote it" in result.off_platform
    assert result.link == f"https://x.com/ann/status/{ident}" and x_api.replies() == []
    posts = [r for r in x_api.requests if r["path"] == "/2/tweets" and r["method"] == "POST"]
    assert posts == [], "nothing is sent that X would refuse"
    svc.close()


def test_xs_403_is_shown_as_the_off_platform_reason(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    case_id = case_for(svc, ident)
    x_api.tweets[ident]["text"] = "charged twice"  # edited: the mention is gone, X now refuses
    result = send(svc, case_id, "Sorry! DM us")
    assert not result.ok and result.off_platform
    assert "(X: Reply to this conversation is not allowed because you have not been mentioned" in result.message
    assert svc.store.cases.get(case_id).first_response_at is None
    svc.close()


def test_a_deleted_post_is_refused(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    del x_api.tweets[ident]
    result = send(svc, case_for(svc, ident), "Sorry!")
    assert not result.ok and "no longer has the post" in result.message
    svc.close()


def test_an_expired_token_says_so(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api, token="expired")
    result = send(svc, case_for(svc, ident), "Sorry!")
    assert not result.ok and result.off_platform and "401" in result.message
    svc.close()


@pytest.mark.parametrize("text, weighted", [
    ("a" * 280, 280), ("日本語" * 47, 282), ("see https://example.com/" + "x" * 100, 27),
    ("👩‍👩‍👧‍👦", 2), ("e\u0301" * 10, 10), ("—“quotes”", 9),
])
def test_x_weighs_what_it_counts(text, weighted):
    assert x_weighted_length(text) == weighted


def test_the_weighted_limit_is_enforced_before_sending(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    result = send(svc, case_for(svc, ident), "申し訳ありません" * 18)  # 144 characters, each weighing 2
    assert not result.ok and result.message == "the reply is 288 characters; X takes at most 280"
    assert x_api.replies() == []
    svc.close()


def test_a_double_click_posts_once(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    case_id = case_for(svc, ident)
    assert send(svc, case_id, "On it, @ann").ok and not send(svc, case_id, "On it, @ann").ok
    assert len(x_api.replies()) == 1
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_crash_is_settled_from_the_accounts_timeline(tmp_path, db_url, httpserver, x_api, posted):
    svc, ident = service(tmp_path, db_url, httpserver, x_api)
    case_id = case_for(svc, ident)
    again, row = interrupted(svc, case_id, "x", "Refunded, sorry @ann", posted)
    assert row.status == ("sent" if posted else "failed") and len(x_api.replies()) == int(posted)
    again.close()


@pytest.mark.timed_waits
def test_a_timeout_is_not_resent(tmp_path, db_url, httpserver, x_api):
    svc, ident = service(tmp_path, db_url, httpserver, x_api, timeout="1s")
    case_id = case_for(svc, ident)
    x_api.delay = 1.5
    assert "did not confirm" in send(svc, case_id, "Refunded, sorry @ann").message
    x_api.delay = 0
    assert svc.replies.reconcile() == 1 and len(x_api.replies()) == 1
    svc.close()
