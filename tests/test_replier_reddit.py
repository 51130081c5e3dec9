"""Reddit replies on the wire through praw: a script app's password grant as the brand's account, the post
read from /api/info (deleted, removed or locked threads cannot be answered), POST /api/comment, Reddit's own
error codes, and the account's comments read back after a crash."""
from __future__ import annotations

import pytest

from tests.fake_apis import FakeReddit
from tests.fake_reply_apis import FakeRedditAccount
from tests.reply_support import case_for, interrupted, reply_service, send


@pytest.fixture
def reddit(httpserver):
    fake = FakeRedditAccount()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, reddit, password=FakeRedditAccount.PASSWORD, **more):
    name = reddit.submission("Pixelcart charged me twice", "and support ignores my emails for a week",
                             sub="pixelcart")
    posts = [{"id": name, "url": f"https://www.reddit.com/r/pixelcart/comments/{name[3:]}/post/", "author": "ann",
              "text": "Pixelcart charged me twice\n\nand support ignores my emails for a week"}]
    account = {"client_id": FakeReddit.CLIENT_ID, "client_secret": FakeReddit.SECRET,
               "username": FakeRedditAccount.USERNAME, "password": password,
               "api_base_url": httpserver.url_for("").rstrip("/"), **more}
    return reply_service(tmp_path, db_url, "reddit", account, posts), name


def test_a_comment_under_the_post_as_the_brand_account(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit)
    case_id = case_for(svc, name)
    result = send(svc, case_id, "Hi, Pixelcart support here. We refunded the second charge today.")
    assert result.ok, result.message
    [comment] = reddit.replies()
    assert comment["parent_id"] == name and result.url == f"https://www.reddit.com{comment['permalink']}"
    assert svc.store.cases.get(case_id).public_reply_url == result.url
    svc.close()


def test_a_locked_thread_is_refused_before_sending(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit)
    next(t for t in reddit.things if t["data"]["name"] == name)["data"]["locked"] = True
    result = send(svc, case_for(svc, name), "Sorry!")
    assert not result.ok and "locked or archived" in result.message and reddit.replies() == []
    svc.close()


def test_reddits_error_code_is_the_message_and_changes_nothing(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit)
    case_id = case_for(svc, name)
    reddit.locked_on_post = True  # a moderator locks the thread between the check and the comment
    result = send(svc, case_id, "Sorry!")
    assert not result.ok and "THREAD_LOCKED: Comments are locked." in result.message
    assert svc.store.cases.get(case_id).first_response_at is None and reddit.replies() == []
    svc.close()


@pytest.mark.timed_waits
def test_a_timeout_is_not_resent(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit, timeout="1s")
    case_id = case_for(svc, name)
    reddit.delay = 1.5
    assert "did not confirm" in send(svc, case_id, "Refunded, sorry!").message
    reddit.delay = 0
    assert svc.replies.reconcile() == 1 and len(reddit.replies()) == 1
    svc.close()


def test_a_wrong_password_is_offered_off_platform(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit, password="wrong-password-123")
    result = send(svc, case_for(svc, name), "Sorry!")
    assert not result.ok and result.off_platform and "invalid_grant" in result.message
    svc.close()


def test_a_double_click_comments_once(tmp_path, db_url, httpserver, reddit):
    svc, name = service(tmp_path, db_url, httpserver, reddit)
    case_id = case_for(svc, name)
    assert send(svc, case_id, "Refunded!").ok and not send(svc, case_id, "Refunded!").ok
    assert len(reddit.replies()) == 1
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_crash_is_settled_from_the_accounts_comments(tmp_path, db_url, httpserver, reddit, posted):
    svc, name = service(tmp_path, db_url, httpserver, reddit)
    case_id = case_for(svc, name)
    again, row = interrupted(svc, case_id, "reddit", "Refunded, sorry!", posted)
    assert row.status == ("sent" if posted else "failed") and len(reddit.replies()) == int(posted)
    again.close()
