"""App Store replies on the wire: an ES256 JWT from the API key's .p8 file (verified by the stand-in), the
review found among the app's newest by author and title (the public feed's ids are not App Store Connect's),
POST /v1/customerReviewResponses, Apple's error documents, and the review's response after a crash."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fake_reply_apis import FakeAppStoreConnect
from tests.reply_support import case_for, interrupted, reply_service, send

KEY_ID, ISSUER = "2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a"


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def connect(httpserver, key):
    fake = FakeAppStoreConnect(key.public_key(), KEY_ID, ISSUER)
    fake.install(httpserver)
    fake.review("Older review", "fine", "someone")
    fake.review("Crashes on login", "Since the update I cannot log in at all", "SamP")
    return fake


def service(tmp_path, db_url, httpserver, key, **more):
    path = tmp_path / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    posts = [{"id": "10467889221", "author": "SamP", "rating": 1, "brand": "Pixelcart",
              "text": "Crashes on login\n\nSince the update I cannot log in at all",
              "url": f"https://apps.apple.com/us/app/id{FakeAppStoreConnect.APP}?see-all=reviews"}]
    account = {"key_id": KEY_ID, "issuer_id": ISSUER, "private_key_file": str(path),
               "api_base_url": httpserver.url_for("").rstrip("/"), **more}
    return reply_service(tmp_path, db_url, "appstore", account, posts)


def test_a_developer_response_to_the_matching_review(tmp_path, db_url, httpserver, key, connect):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, "10467889221")
    result = send(svc, case_id, "Sorry Sam, 4.2.1 fixes login. Please update!")
    assert result.ok, result.message
    [(review_id, response)] = connect.responses.items()
    assert review_id == connect.reviews[1]["id"]
    assert response["attributes"]["responseBody"] == "Sorry Sam, 4.2.1 fixes login. Please update!"
    svc.close()


def test_apples_refusal_is_the_message(tmp_path, db_url, httpserver, key, connect):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, "10467889221")
    connect.responses[connect.reviews[1]["id"]] = {"id": "resp-0", "attributes": {"responseBody": "earlier"}}
    result = send(svc, case_id, "Sorry!")
    assert not result.ok and "A response to this review already exists." in result.message
    assert svc.store.cases.get(case_id).first_response_at is None
    svc.close()


def test_a_review_app_store_connect_does_not_list_is_offered_off_platform(tmp_path, db_url, httpserver, key,
                                                                           connect):
    svc = service(tmp_path, db_url, httpserver, key)
    connect.reviews.pop()
    result = send(svc, case_for(svc, "10467889221"), "Sorry!")
    assert not result.ok and result.off_platform and "does not list this review" in result.message
    svc.close()


def test_a_revoked_key_says_so(tmp_path, db_url, httpserver, key, connect):
    svc = service(tmp_path, db_url, httpserver, key)
    connect.public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    result = send(svc, case_for(svc, "10467889221"), "Sorry!")
    assert not result.ok and result.off_platform
    assert "(401: Provide a properly configured and signed bearer token" in result.message
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_crash_is_settled_from_the_reviews_response(tmp_path, db_url, httpserver, key, connect, posted):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, "10467889221")
    again, row = interrupted(svc, case_id, "appstore", "Fixed in 4.2.1", posted)
    assert row.status == ("sent" if posted else "failed") and len(connect.responses) == int(posted)
    again.close()


def test_a_double_click_responds_once(tmp_path, db_url, httpserver, key, connect):
    svc = service(tmp_path, db_url, httpserver, key)
    case_id = case_for(svc, "10467889221")
    assert send(svc, case_id, "Fixed in 4.2.1").ok
    again = send(svc, case_id, "Fixed in 4.2.1")
    assert not again.ok and "already posted" in again.message and len(connect.responses) == 1
    svc.close()


@pytest.mark.timed_waits
def test_a_timeout_is_settled_from_the_reviews_response_not_resent(tmp_path, db_url, httpserver, key, connect):
    svc = service(tmp_path, db_url, httpserver, key, timeout="1s")
    case_id = case_for(svc, "10467889221")
    connect.delay = 1.5
    assert "did not confirm" in send(svc, case_id, "Fixed in 4.2.1").message
    connect.delay = 0
    assert svc.replies.reconcile() == 1 and len(connect.responses) == 1
    assert svc.store.cases.get(case_id).first_response_by == "dana"
    svc.close()
