"""Google Play connector: the Play Store's review-list rpc answered by a local stand-in."""
from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from werkzeug import Response

from connectors.googleplay import request_body
from monitor.config import ConfigError
from tests.fake_sources import FakeGooglePlay
from tests.support import RecordingSink, build_config, start_service, stored_mentions

APP = "com.pixelcart.shop"


@pytest.fixture
def play(httpserver):
    fake = FakeGooglePlay()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, **options):
    source = {"type": "googleplay", "api_base_url": httpserver.url_for("/").rstrip("/"),
              "apps": [{"id": APP, "brand": "Pixelcart"}], **options}
    return start_service(tmp_path, db_url, {"play": source})


def test_request_body_asks_for_the_newest_reviews_of_the_app():
    first = json.loads(unquote(request_body(APP, 100, None).decode().removeprefix("f.req=")))
    inner = json.loads(first[0][0][1])
    assert first[0][0][0] == "oCPfdb" and inner[1][1] == 2 and inner[1][2] == [100] and inner[2] == [APP, 7]
    later = json.loads(json.loads(unquote(request_body(APP, 50, "tok")[6:].decode()))[0][0][1])
    assert later[1][2] == [50, None, "tok"]


def test_reviews_are_stored_with_stars_and_low_ones_alert(tmp_path, db_url, httpserver, play):
    bad = play.review(APP, "Payment failed three times and the money left my account", 1, thumbs=14)
    good = play.review(APP, "Quick delivery, easy returns", 5)
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 2
    rows = stored_mentions(svc)
    assert rows[bad].rating == 1 and rows[good].rating == 5 and rows[bad].author == "Sam P"
    assert rows[bad].author_reach == 14 and rows[bad].brand == "Pixelcart"
    assert rows[bad].url == f"https://play.google.com/store/apps/details?id={APP}&hl=en&gl=us&reviewId={bad}"
    assert rows[bad].is_complaint and any(r["rule"] == "rating" for r in rows[bad].reasons)
    assert [a.external_id for a in RecordingSink.sent["rec"]] == [bad]
    assert play.requests[0]["hl"] == "en" and play.requests[0]["gl"] == "us" and play.requests[0]["app"] == APP
    svc.close()


def test_pages_follow_the_token_until_the_cursor_and_a_restart_reads_nothing_twice(tmp_path, db_url, httpserver,
                                                                                 play):
    for i in range(25):
        play.review(APP, f"order {i} never came", 1)
    svc = service(tmp_path, db_url, httpserver, page_size=10)
    [first] = svc.run_once()
    assert first.stored == 25 and [r["paging"] for r in play.requests] == [[10], [10, None, "10"], [10, None, "20"]]
    svc.close()
    newer = play.review(APP, "app logs me out constantly", 2)
    play.requests.clear()
    svc = service(tmp_path, db_url, httpserver, page_size=10)
    [second] = svc.run_once()
    assert second.stored == 1 and second.read == 1 and newer in stored_mentions(svc) and len(play.requests) == 1
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response("<html>consent</html>", 200, content_type="text/html"), "malformed review page"),
    (Response(")]}'\n\n[[\"er\", null, null]]", 200, content_type="application/json"), "malformed review page"),
    (Response("busy", 429, {"Retry-After": "600"}), "Google Play rate limit reached (429); paused for 600s"),
])
def test_bad_answers_fail_the_poll_instead_of_looking_quiet(tmp_path, db_url, httpserver, play, answer, expected):
    play.review(APP, "crashes", 1)
    play.failures.append(answer)
    svc = service(tmp_path, db_url, httpserver)
    [bad] = svc.run_once()
    assert expected in bad.error and bad.stored == 0
    svc.close()


def test_package_names_are_checked(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"play": {"type": "googleplay", "apps": [{"id": "1234", "brand": "Pixelcart"}]}})
    assert info.value.problems == ["sources.play.apps[0].id: a Google Play id is a package name like "
                                   "com.example.app, got '1234'"]
