"""Mastodon replies on the wire: the post found on the brand's instance by its URL, POST /api/v1/statuses
in reply to it (public, with an Idempotency-Key), the instance's own limit, its 422, and the account's
timeline read back after a crash."""
from __future__ import annotations

import pytest

from monitor.store.schema import replies
from tests.fake_reply_apis import FakeMastodonInstance
from tests.reply_support import case_for, notes, reply_service, send

POST_URL = "https://other.example/@ann/113400000000000001"
POST_URI = "https://other.example/users/ann/statuses/113400000000000001"


@pytest.fixture
def instance(httpserver):
    fake = FakeMastodonInstance()
    fake.install(httpserver)
    fake.remote(POST_URL, POST_URI)
    return fake


def service(tmp_path, db_url, httpserver, token=FakeMastodonInstance.TOKEN, **replies_section):
    posts = [{"id": POST_URI, "url": POST_URL, "author": "ann@other.example", "followers": 300,
              "text": "@pixelcart my order #4411 never arrived and support stopped answering. 3 weeks now"}]
    account = {"instance": httpserver.url_for("").rstrip("/"), "access_token": token}
    return reply_service(tmp_path, db_url, "mastodon", account, posts, **replies_section)


def test_a_reply_appears_under_the_post_and_is_the_cases_first_response(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    result = send(svc, case_id, "Sorry @ann@other.example, we're on it: DM us your order number?")
    assert result.ok, result.message
    [status] = instance.posted
    assert status["in_reply_to_id"] == instance.known[POST_URL] and status["visibility"] == "public"
    assert "we&#x27;re on it" in status["content"] or "we're on it" in status["content"]
    post = [r for r in instance.requests if r["path"] == "/api/v1/statuses"]
    assert post[0]["headers"].get("Idempotency-Key"), "the POST carries the reply's idempotency key"
    case = svc.store.cases.get(case_id)
    assert case.first_response_by == "dana" and case.public_reply_url == status["url"]
    assert case.status == "claimed" and result.url == status["url"]
    assert [e["action"] for e in svc.store.cases.history(case_id)][-1] == "reply"
    assert any(status["url"] in note for note in notes()), "the link is posted under the alert"
    svc.close()


def test_the_instances_own_limit_counts_links_as_23(tmp_path, db_url, httpserver, instance):
    instance.max_characters = 60
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    long_link = "https://help.example.com/" + "x" * 200
    assert send(svc, case_id, f"See {long_link} for refunds").ok  # 4 + 23 + 12 characters
    refused = send(svc, case_id, "x" * 61)
    assert not refused.ok and "61 characters" in refused.message and "at most 60" in refused.message
    assert len(instance.posted) == 1 and svc.store.cases.get(case_id).first_response_by == "dana"
    svc.close()


def test_a_refusal_shows_the_instances_message_and_changes_no_case(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    instance.max_characters, instance.reported = 10, 500  # it takes less than it says
    result = send(svc, case_id, "We are looking into this now")
    assert not result.ok and "Text character limit of 10 exceeded" in result.message
    case = svc.store.cases.get(case_id)
    assert case.status == "open" and case.first_response_at is None
    with svc.store.db.engine.connect() as conn:
        [row] = conn.execute(replies.select()).all()
    assert row.status == "failed" and "limit" in row.error
    svc.close()


def test_a_deleted_post_is_refused_before_anything_is_sent(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    instance.known.clear()  # the instance no longer finds it
    result = send(svc, case_for(svc, POST_URI), "Sorry about that")
    assert not result.ok and "cannot find the post" in result.message and instance.posted == []
    svc.close()


def test_a_revoked_token_is_offered_off_platform(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver, token="revoked")
    result = send(svc, case_for(svc, POST_URI), "Sorry about that")
    assert not result.ok and result.off_platform and result.link == POST_URL and result.draft == "Sorry about that"
    svc.close()
