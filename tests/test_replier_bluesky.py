"""Bluesky replies on the wire: the post read with getPosts (it must still exist), createRecord with the
thread's root and the answered post as refs and the reply's key as record key, 300 graphemes counted as
Bluesky counts them, the PDS's 400, and getRecord to settle a reply a crash interrupted."""
from __future__ import annotations

import pytest

from replies._counting import grapheme_count
from tests.fake_reply_apis import FakeBlueskyPds
from tests.reply_support import case_for, interrupted, reply_service, send


@pytest.fixture
def pds(httpserver):
    fake = FakeBlueskyPds()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, pds, password=FakeBlueskyPds.PASSWORD, **more):
    root = pds.post("pixelcart new app is out")
    answer = pds.post("@pixelcart.com the new app logs me out every 5 min, useless", reply_to=root)
    posts = [{"id": answer, "url": "https://bsky.app/profile/ann.bsky.social/post/x", "author": "ann.bsky.social",
              "text": "@pixelcart.com the new app logs me out every 5 min, useless"}]
    account = {"handle": FakeBlueskyPds.HANDLE, "app_password": password,
               "api_base_url": httpserver.url_for("").rstrip("/"), **more}
    return reply_service(tmp_path, db_url, "bluesky", account, posts), root, answer


def test_a_reply_names_the_threads_root_and_the_post(tmp_path, db_url, httpserver, pds):
    svc, root, answer = service(tmp_path, db_url, httpserver, pds)
    case_id = case_for(svc, answer)
    result = send(svc, case_id, "Sorry Ann! A fix ships today; update to 4.2.1 🙏")
    assert result.ok, result.message
    [(rkey, record)] = pds.records.items()
    value = record["value"]
    assert value["reply"]["parent"]["uri"] == answer and value["reply"]["root"]["uri"] == root
    assert value["reply"]["root"]["cid"] == "bafyreib2rxk3rh6kzwq"  # the root's CID as the post names it
    assert value["text"] == "Sorry Ann! A fix ships today; update to 4.2.1 🙏" and len(rkey) == 13
    assert result.url == f"https://bsky.app/profile/{FakeBlueskyPds.HANDLE}/post/{rkey}"
    assert svc.store.cases.get(case_id).public_reply_url == result.url
    svc.close()


@pytest.mark.parametrize("text, graphemes", [
    ("👩‍👩‍👧‍👦" * 300, 300),            # a family emoji is one grapheme, eleven code points
    ("🇫🇷🇩🇪🇯🇵", 3),                       # flags are pairs of regional indicators
    ("e\u0301" * 5, 5),                    # an accent that combines with its letter
    ("한국어", 3), ("\r\n", 1), ("abc", 3),
])
def test_graphemes_are_counted_as_people_see_them(text, graphemes):
    assert grapheme_count(text) == graphemes


def test_over_300_graphemes_is_refused_here_and_the_pds_refusal_is_shown(tmp_path, db_url, httpserver, pds):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds)
    case_id = case_for(svc, answer)
    here = send(svc, case_id, "a" * 301)
    assert not here.ok and here.message == "the reply is 301 graphemes; Bluesky takes at most 300"
    fits = send(svc, case_id, "👍" * 300)  # 300 graphemes, 600 UTF-16 units: Bluesky takes it
    assert fits.ok, fits.message
    svc.close()


def test_a_deleted_post_is_refused_and_changes_nothing(tmp_path, db_url, httpserver, pds):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds)
    pds.posts = [p for p in pds.posts if p["uri"] != answer]
    result = send(svc, case_for(svc, answer), "Sorry!")
    assert not result.ok and "no longer has the post" in result.message and pds.records == {}
    svc.close()


def test_a_wrong_app_password_is_offered_off_platform(tmp_path, db_url, httpserver, pds):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds, password="wrong-pass-word-abcd")
    result = send(svc, case_for(svc, answer), "Sorry!")
    assert not result.ok and result.off_platform and "Invalid identifier or password" in result.message
    svc.close()


def test_the_pds_refusal_is_the_message(tmp_path, db_url, httpserver, pds):
    from tests.fake_sources import _json

    svc, _root, answer = service(tmp_path, db_url, httpserver, pds)
    case_id = case_for(svc, answer)
    pds.create_failures.append(_json({"error": "InvalidRequest", "message": "Reply is not allowed by threadgate"},
                                     400))
    result = send(svc, case_id, "Sorry!")
    assert not result.ok and result.message.endswith("Reply is not allowed by threadgate")
    assert svc.store.cases.get(case_id).first_response_at is None
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_crash_between_posting_and_recording_is_settled_by_the_record_key(tmp_path, db_url, httpserver, pds,
                                                                              posted):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds)
    case_id = case_for(svc, answer)
    again, row = interrupted(svc, case_id, "bluesky", "Fixed in 4.2.1, sorry!", posted)
    assert row.status == ("sent" if posted else "failed") and len(pds.records) == int(posted)
    assert (again.store.cases.get(case_id).first_response_at is not None) == posted
    again.close()


def test_a_double_click_creates_one_record(tmp_path, db_url, httpserver, pds):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds)
    case_id = case_for(svc, answer)
    assert send(svc, case_id, "On it!").ok and not send(svc, case_id, "On it!").ok
    assert len(pds.records) == 1
    svc.close()


@pytest.mark.timed_waits
def test_a_timeout_is_settled_by_the_record_key_not_resent(tmp_path, db_url, httpserver, pds):
    svc, _root, answer = service(tmp_path, db_url, httpserver, pds, timeout="1s")
    case_id = case_for(svc, answer)
    pds.delay = 1.5  # it lands, but the answer comes too late
    late = send(svc, case_id, "Fixed in 4.2.1")
    assert not late.ok and "did not confirm" in late.message
    pds.delay = 0
    assert svc.replies.reconcile() == 1 and len(pds.records) == 1
    assert svc.store.cases.get(case_id).public_reply_url.endswith(next(iter(pds.records)))
    svc.close()
