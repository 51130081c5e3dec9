"""Google Play replies on the wire: a service account's key signs an RS256 assertion exchanged at its
token_uri, reviews.get proves the review exists, reviews.reply posts the developer reply (350 characters),
and the review's developer comment settles a reply a crash interrupted."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from monitor.config import ConfigError
from tests.fake_reply_apis import FakeGooglePlayPublisher
from tests.reply_support import case_for, interrupted, reply_service, send
from tests.support import build_config

REVIEW = "gp:AOqpTOGd1f8Xk3aQ"


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def play(httpserver, key):
    fake = FakeGooglePlayPublisher(key.public_key())
    fake.install(httpserver)
    fake.reviews[REVIEW] = {"author": "Sam P", "text": "App crashes at checkout every time"}
    return fake


def key_file(tmp_path, httpserver, key) -> str:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "play-key.json"
    path.write_text(json.dumps({"type": "service_account", "client_email": "replies@pixelcart.iam.gserviceaccount.com",
                                "private_key_id": "k1", "private_key": pem, "token_uri": httpserver.url_for("/token")}))
    return str(path)


def service(tmp_path, db_url, httpserver, key, **more):
    posts = [{"id": REVIEW, "author": "Sam P", "rating": 1, "brand": "Pixelcart",
              "text": "App crashes at checkout every time",
              "url": f"https://play.google.com/store/apps/details?id={FakeGooglePlayPublisher.PACKAGE}&reviewId=x"}]
    account = {"service_account_file": key_file(tmp_path, httpserver, key),
               "api_base_url": httpserver.url_for("").rstrip("/"), **more}
    return reply_service(tmp_path, db_url, "googleplay", account, posts)


def test_a_developer_reply_on_the_review(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, REVIEW)
    result = send(svc, case_id, "Sorry Sam! 4.2.1 fixes the checkout crash; please update.")
    assert result.ok, result.message
    assert play.replies == {REVIEW: "Sorry Sam! 4.2.1 fixes the checkout crash; please update."}
    assert svc.store.cases.get(case_id).first_response_by == "dana"
    svc.close()


def test_350_characters_at_most(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key)
    result = send(svc, case_for(svc, REVIEW), "x" * 351)
    assert not result.ok and result.message == "the reply is 351 characters; Google Play takes at most 350"
    assert play.replies == {}
    svc.close()


def test_a_deleted_review_is_refused(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key)
    play.reviews.clear()
    result = send(svc, case_for(svc, REVIEW), "Sorry!")
    assert not result.ok and "no longer has the review" in result.message
    svc.close()


def test_a_key_google_does_not_accept_is_offered_off_platform(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key)
    play.public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()  # key rotated
    result = send(svc, case_for(svc, REVIEW), "Sorry!")
    assert not result.ok and result.off_platform and "Invalid JWT Signature." in result.message
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_crash_is_settled_from_the_reviews_developer_comment(tmp_path, db_url, httpserver, key, play, posted):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, REVIEW)
    again, row = interrupted(svc, case_id, "googleplay", "Fixed in 4.2.1", posted)
    assert row.status == ("sent" if posted else "failed")
    again.close()


def test_a_file_that_is_no_service_account_key_names_the_key(tmp_path):
    (tmp_path / "bad.json").write_text('{"installed": {}}')
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, replies={"accounts": [{"brand": "Pixelcart", "platform": "googleplay",
                                                      "service_account_file": str(tmp_path / "bad.json")}]})
    assert any(p.startswith("replies.accounts[0].service_account_file:") and "not a service account key" in p
               for p in caught.value.problems)


def test_a_double_click_replies_once(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, REVIEW)
    assert send(svc, case_id, "Fixed in 4.2.1").ok and not send(svc, case_id, "Fixed in 4.2.1").ok
    assert play.reply_calls == 1
    svc.close()


@pytest.mark.timed_waits
def test_a_timeout_is_settled_from_the_review_not_resent(tmp_path, db_url, httpserver, key, play):
    svc = service(tmp_path, db_url, httpserver, key, timeout="1s")
    case_id = case_for(svc, REVIEW)
    play.delay = 1.5
    assert "did not confirm" in send(svc, case_id, "Fixed in 4.2.1").message
    play.delay = 0
    assert svc.replies.reconcile() == 1 and play.reply_calls == 1
    assert svc.store.cases.get(case_id).first_response_by == "dana"
    svc.close()
