"""Bluesky connector: the real atproto SDK against a local XRPC stand-in with expiring JWT sessions."""
from __future__ import annotations

import pytest
from werkzeug import Response

from tests.fake_sources import FakeBluesky
from tests.support import start_service, stored_mentions

ENV = {"BLUESKY_HANDLE": FakeBluesky.HANDLE, "BLUESKY_APP_PASSWORD": FakeBluesky.PASSWORD}


@pytest.fixture
def bsky(httpserver):
    fake = FakeBluesky()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, environ=ENV, **options):
    source = {"type": "bluesky", "handle": "${BLUESKY_HANDLE}", "app_password": "${BLUESKY_APP_PASSWORD}",
              "api_base_url": httpserver.url_for("/").rstrip("/"), **options}
    return start_service(tmp_path, db_url, {"sky": source}, environ)


def test_posts_become_mentions_with_app_links(tmp_path, db_url, httpserver, bsky):
    uri = bsky.post("@pixelcart.com my parcel says delivered but it's not here", likes=40)
    reply = bsky.post("northwind cancelled my flight again", handle="bo.bsky.social", reply_to=uri)
    bsky.post("lovely weather today")
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 2
    rows = stored_mentions(svc)
    rkey = uri.rsplit("/", 1)[1]
    assert rows[uri].url == f"https://bsky.app/profile/ann.bsky.social/post/{rkey}"
    assert rows[uri].author == "ann.bsky.social" and rows[uri].author_reach == 41 and rows[uri].language == "en"
    assert rows[uri].brand == "Pixelcart" and rows[reply].brand == "Northwind Air"
    search = bsky.calls("app.bsky.feed.searchPosts")[0]
    assert search["sort"] == "latest" and search["limit"] == "100" and search["since"].endswith("Z")
    assert {r["q"] for r in bsky.calls("app.bsky.feed.searchPosts")} == {'"pixelcart"', '"northwind"'}
    svc.close()


def test_signs_in_once_across_polls_and_restarts(tmp_path, db_url, httpserver, bsky):
    bsky.post("pixelcart refund missing for weeks")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.run_once()
    svc.close()
    svc = service(tmp_path, db_url, httpserver)  # a restart reads the stored session
    [again] = svc.run_once()
    assert again.error is None and again.read == 0
    assert len(bsky.calls("com.atproto.server.createSession")) == 1
    svc.close()


def test_an_expiring_access_token_is_refreshed_and_the_new_session_kept(tmp_path, db_url, httpserver, bsky):
    bsky.access_ttl = 600  # inside the SDK's 15-minute refresh margin: refreshed before the next call
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    assert len(bsky.calls("com.atproto.server.refreshSession")) >= 1
    svc.close()
    bsky.access_ttl = 7200
    refreshed = len(bsky.calls("com.atproto.server.refreshSession"))
    svc = service(tmp_path, db_url, httpserver)
    bsky.post("pixelcart app crashes at checkout")
    [result] = svc.run_once()
    assert result.error is None and result.stored == 1
    # the session stored after the last refresh is still valid: neither a sign-in nor a failed refresh
    assert len(bsky.calls("com.atproto.server.createSession")) == 1
    assert len(bsky.calls("com.atproto.server.refreshSession")) <= refreshed + 1
    svc.close()


def test_a_revoked_session_signs_in_again_once(tmp_path, db_url, httpserver, bsky):
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    bsky.tokens.clear()
    bsky.refresh_tokens.clear()  # the app password was rotated: the stored session is dead
    bsky.post("pixelcart charged me twice")
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 1
    assert len(bsky.calls("com.atproto.server.createSession")) == 2
    svc.close()


def test_overlap_rereads_recent_posts_but_stores_nothing_twice(tmp_path, db_url, httpserver, bsky):
    first = bsky.post("pixelcart order late")
    svc = service(tmp_path, db_url, httpserver, overlap="5m")
    svc.run_once()
    bsky.requests.clear()
    [again] = svc.run_once()
    pixel = next(r for r in bsky.calls("app.bsky.feed.searchPosts") if r["q"] == '"pixelcart"')
    assert pixel["since"] < bsky.posts[-1]["indexedAt"]  # read back by the overlap
    assert again.read == 0 and again.duplicates == 0 and list(stored_mentions(svc)) == [first]
    svc.close()


def test_wrong_app_password_is_unhealthy_and_says_what_to_fix(tmp_path, db_url, httpserver, bsky):
    svc = service(tmp_path, db_url, httpserver, environ={**ENV, "BLUESKY_APP_PASSWORD": "wrong"})
    [result] = svc.run_once()
    assert "Bluesky refused the sign-in" in result.error and "BLUESKY_APP_PASSWORD" in result.error
    assert {h["source"]: h for h in svc.store.sources.health()}["sky"]["unhealthy"]
    svc.close()


def test_sign_in_rate_limit_pauses_the_source(tmp_path, db_url, httpserver, bsky):
    bsky.failures.append(Response('{"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}', 429,
                                  {"ratelimit-reset": "4102444800", "ratelimit-remaining": "0"},
                                  content_type="application/json"))
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert "Bluesky rate limit reached for sign-in" in result.error
    assert svc.pipeline.health.paused_until("sky") is not None
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response('{"cursor": "x"}', 200, content_type="application/json"), "malformed"),
    (Response('{"error": "InternalServerError"}', 500, content_type="application/json"), "Bluesky error"),
])
def test_bad_search_answers_fail_the_poll_and_keep_the_session(tmp_path, db_url, httpserver, bsky, answer,
                                                                expected):
    bsky.post("pixelcart broken")
    svc = service(tmp_path, db_url, httpserver)
    bsky.search_failures.append(answer)
    [bad] = svc.run_once()
    assert expected in bad.error
    [good] = svc.run_once()
    assert good.error is None and good.stored == 1
    assert len(bsky.calls("com.atproto.server.createSession")) == 1
    svc.close()
