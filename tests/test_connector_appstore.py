"""App Store connector: Apple's customer-reviews feed served locally, through the whole service."""
from __future__ import annotations

import pytest
from werkzeug import Response

from monitor.config import ConfigError
from tests.fake_sources import FakeAppStore
from tests.support import RecordingSink, build_config, start_service, stored_mentions

APP = "1234567890"


@pytest.fixture
def store_feed(httpserver):
    fake = FakeAppStore()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, **options):
    source = {"type": "appstore", "api_base_url": httpserver.url_for("/"),
              "apps": [{"id": APP, "brand": "Pixelcart", "countries": ["us", "gb"]}], **options}
    return start_service(tmp_path, db_url, {"apple": source})


def test_reviews_carry_their_stars_and_low_ratings_are_complaint_evidence(tmp_path, db_url, httpserver, store_feed):
    low = store_feed.review(APP, "Unusable since update", "Logs me out every time I open it", 1)
    mid = store_feed.review(APP, "Okay", "Does the job, checkout is a bit slow", 3, country="gb")
    high = store_feed.review(APP, "Great", "Fast delivery and the app works well", 5)
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 3
    rows = stored_mentions(svc)
    assert (rows[low].rating, rows[mid].rating, rows[high].rating) == (1, 3, 5)
    assert (
        rows[low].brand == "Pixelcart" and rows[low].text == "Unusable since update\n\nLogs me out every time I open it"
    )
    assert rows[low].url == f"https://apps.apple.com/us/app/id{APP}?see-all=reviews" and rows[mid].url.startswith(
        "https://apps.apple.com/gb/")
    assert rows[low].is_complaint and {"rule": "rating", "label": "1-star review", "match": "★"} in rows[low].reasons
    assert not rows[high].is_complaint and any(r["rule"] == "rating" for r in rows[high].reasons)
    assert not any(r["rule"] == "rating" for r in rows[mid].reasons)
    assert [a.external_id for a in RecordingSink.sent["rec"]] == [low]
    svc.close()


def test_two_star_rating_tips_a_mild_review_into_a_complaint(tmp_path, db_url, httpserver, store_feed):
    text = ("Meh", "Checkout is a bit slow")
    two = store_feed.review(APP, *text, stars=2)
    four = store_feed.review(APP, *text, stars=4, author="Sam")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    rows = stored_mentions(svc)
    assert rows[two].is_complaint and not rows[four].is_complaint
    svc.close()


def test_a_quiet_poll_costs_one_request_per_app_and_country_and_a_restart_reads_nothing_twice(
        tmp_path, db_url, httpserver, store_feed):
    store_feed.review(APP, "Broken", "Payment fails", 1)
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    store_feed.requests.clear()
    svc = service(tmp_path, db_url, httpserver)
    [quiet] = svc.run_once()
    assert quiet.stored == 0 and quiet.read == 0 and quiet.duplicates == 0
    assert [r["path"] for r in store_feed.requests] == [
        f"/us/rss/customerreviews/page=1/id={APP}/sortby=mostrecent/json",
        f"/gb/rss/customerreviews/page=1/id={APP}/sortby=mostrecent/json"]
    svc.close()


def test_pages_are_read_until_the_cursor(tmp_path, db_url, httpserver, store_feed):
    for i in range(120):
        store_feed.review(APP, f"Review {i}", "Order never arrived", 1)
    svc = service(tmp_path, db_url, httpserver)
    [first] = svc.run_once()
    assert first.stored == 120 and len([r for r in store_feed.requests if r["path"].startswith("/us/")]) == 3
    newer = [store_feed.review(APP, f"New {i}", "Refund still missing", 2) for i in range(55)]
    store_feed.requests.clear()
    [second] = svc.run_once()
    assert second.stored == 55 and set(newer) <= set(stored_mentions(svc))
    assert len([r for r in store_feed.requests if r["path"].startswith("/us/")]) == 2
    svc.close()


def test_a_single_review_is_not_a_list_and_still_reads(tmp_path, db_url, httpserver, store_feed):
    store_feed.app_entry_first = False
    only = store_feed.review(APP, "Crashes", "Crashes on launch", 1)
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.stored == 1 and only in stored_mentions(svc)
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response('{"feed": []}', 200, content_type="application/json"), "malformed reviews page (no feed object)"),
    (Response("<html>", 200, content_type="text/html"), "malformed response (not JSON"),
    (Response("nope", 404), "App Store has nothing at"),
])
def test_bad_answers_are_rejected_with_a_reason(tmp_path, db_url, httpserver, store_feed, answer, expected):
    store_feed.review(APP, "Broken", "Payment fails", 1)
    store_feed.failures.append(answer)
    svc = service(tmp_path, db_url, httpserver)
    [bad] = svc.run_once()
    assert expected in bad.error and bad.stored == 0
    svc.close()


def test_entries_without_id_or_rating_are_counted_as_rejected(tmp_path, db_url, httpserver, store_feed):
    good = store_feed.review(APP, "Broken", "Payment fails", 1)
    store_feed.review(APP, "x", "y", 1)
    del store_feed.reviews[(APP, "us")][-1]["im:rating"]
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.rejected == 1 and set(stored_mentions(svc)) == {good}
    svc.close()


@pytest.mark.parametrize("app, problem", [
    ({"id": "12ab", "brand": "Pixelcart"}, "sources.apple.apps[0].id: App Store ids are digits, got '12ab'"),
    ({"id": "1", "brand": "Nope"}, "sources.apple.apps[0].brand: 'Nope' is not a configured brand "
                                   "(Northwind Air, Pixelcart)"),
    ({"id": "1", "brand": "Pixelcart", "countries": ["usa"]},
     "sources.apple.apps[0].countries: not a two-letter country code: 'usa'"),
])
def test_app_config_errors_name_the_key(tmp_path, app, problem):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"apple": {"type": "appstore", "apps": [app]}})
    assert any(problem in p for p in info.value.problems), info.value.problems
