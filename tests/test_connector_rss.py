"""RSS/Atom connector: feeds served by a local HTTP server, read through feedparser and the service."""
from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug import Response

from connectors.rss import entry_id, remember, unwrap
from monitor import clock
from monitor.config import ConfigError
from tests.fake_sources import FakeFeeds
from tests.support import build_config, start_service, stored_mentions

GOOGLE = ("https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/pixelcart-outage&ct=ga"
          "&cd=CAIyGjE&usg=AOvVaw1")


@pytest.fixture
def feeds(httpserver):
    fake = FakeFeeds()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, feed_list):
    urls = [f if isinstance(f, dict) else httpserver.url_for(f"/feeds/{f}") for f in feed_list]
    return start_service(tmp_path, db_url, {"news": {"type": "rss", "feeds": urls}})


def test_google_redirects_are_unwrapped_and_other_links_kept():
    assert unwrap(GOOGLE) == "https://news.example.com/pixelcart-outage"
    assert unwrap("https://www.google.com/search?q=pixelcart") == "https://www.google.com/search?q=pixelcart"
    assert unwrap("https://blog.example.com/url?url=https://x") == "https://blog.example.com/url?url=https://x"


def test_long_entry_ids_are_hashed_to_fit():
    assert entry_id({"id": "tag:x," + "y" * 300}).startswith("sha1:") and len(entry_id({"id": "z" * 300})) == 45
    assert entry_id({"link": "https://e.com/a"}) == "https://e.com/a"


def test_rss_and_atom_entries_become_mentions(tmp_path, db_url, httpserver, feeds):
    feeds.rss("alert", [
        {"id": "tag:google.com,2013:googlealerts/1", "title": "<b>Pixelcart</b> customers report checkout outage",
         "link": GOOGLE.replace("&", "&amp;"), "summary": "Shoppers say the &lt;b&gt;Pixelcart&lt;/b&gt; app fails."},
        {"id": "tag:google.com,2013:googlealerts/2", "title": "Weather today", "link": "https://example.com/w"}])
    updated = clock.utcnow().replace(microsecond=0) - timedelta(minutes=42)
    feeds.atom("status", [{"id": "urn:incident:77", "title": "Northwind booking site degraded",
                           "link": "https://status.example.com/77", "content": "&lt;p&gt;Investigating.&lt;/p&gt;",
                           "updated": updated.strftime("%Y-%m-%dT%H:%M:%SZ")}])
    svc = service(tmp_path, db_url, httpserver, ["alert", "status"])
    [result] = svc.run_once()
    assert result.error is None and result.stored == 2
    rows = stored_mentions(svc)
    alert = rows["tag:google.com,2013:googlealerts/1"]
    assert alert.url == "https://news.example.com/pixelcart-outage" and alert.brand == "Pixelcart"
    assert alert.text == "Pixelcart customers report checkout outage\n\nShoppers say the Pixelcart app fails."
    assert alert.author == "Google Alert - pixelcart"
    status = rows["urn:incident:77"]
    assert status.brand == "Northwind Air" and status.author == "ops" and status.text.endswith("Investigating.")
    assert status.created_at == updated
    svc.close()


def test_unchanged_feed_costs_one_request_and_stores_nothing(tmp_path, db_url, httpserver, feeds):
    feeds.rss("alert", [{"id": "a1", "title": "Pixelcart refund complaints grow", "link": "https://e.com/1"}])
    svc = service(tmp_path, db_url, httpserver, ["alert"])
    svc.run_once()
    feeds.requests.clear()
    [quiet] = svc.run_once()
    assert quiet.read == 0 and quiet.stored == 0 and len(feeds.requests) == 1
    assert feeds.requests[0]["headers"]["If-None-Match"].startswith('"')
    assert feeds.requests[0]["headers"]["If-Modified-Since"] == feeds.modified["alert"]
    svc.close()


def test_entries_are_read_once_even_when_the_server_ignores_validators(tmp_path, db_url, httpserver, feeds):
    feeds.conditional = False
    first = {"id": "a1", "title": "Pixelcart refund complaints grow", "link": "https://e.com/1"}
    feeds.rss("alert", [first])
    svc = service(tmp_path, db_url, httpserver, ["alert"])
    svc.run_once()
    svc.close()
    feeds.rss("alert", [{"id": "a2", "title": "Pixelcart delivery delays", "link": "https://e.com/2"}, first])
    svc = service(tmp_path, db_url, httpserver, ["alert"])  # a restart
    [result] = svc.run_once()
    assert result.read == 1 and result.stored == 1 and result.duplicates == 0
    assert set(stored_mentions(svc)) == {"a1", "a2"}
    svc.close()


def test_an_entry_that_leaves_the_feed_and_comes_back_is_not_read_again(tmp_path, db_url, httpserver, feeds):
    entry = {n: {"id": f"e{n}", "title": f"Pixelcart story {n}", "link": f"https://e.com/{n}"} for n in range(4)}
    feeds.rss("alert", [entry[0], entry[1]])
    svc = service(tmp_path, db_url, httpserver, ["alert"])
    assert svc.run_once()[0].read == 2
    feeds.rss("alert", [entry[2]])  # the first two drop off the feed
    assert svc.run_once()[0].read == 1
    feeds.rss("alert", [entry[3], entry[1], entry[0]])  # and come back, two polls later
    [result] = svc.run_once()
    assert (result.read, result.duplicates, result.stored) == (1, 0, 1)  # only the new one is read
    svc.close()


@pytest.mark.parametrize("seen, current, limit, remembered", [
    (["a", "b"], ["c"], 5, ["a", "b", "c"]),            # earlier polls stay remembered
    (["a", "b", "c"], ["d"], 3, ["b", "c", "d"]),       # bounded: the oldest goes first
    (["a", "b", "c"], ["a", "d"], 3, ["c", "a", "d"]),  # seen again: remembered as recent
    (["a", "b"], ["c", "c"], 5, ["a", "b", "c"]),       # a feed repeating an entry: one id
    ([], ["a", "b", "c"], 2, ["b", "c"]),
])
def test_remembered_ids_are_bounded_and_the_longest_unseen_leave_first(seen, current, limit, remembered):
    assert remember(seen, current, limit) == remembered


def test_a_feed_brand_claims_entries_that_do_not_name_it(tmp_path, db_url, httpserver, feeds):
    feeds.rss("reviews", [{"id": "r1", "title": "Worst checkout I have used", "link": "https://r.example/1"}])
    url = httpserver.url_for("/feeds/reviews")
    svc = service(tmp_path, db_url, httpserver, [{"url": url, "brand": "Pixelcart"}])
    [result] = svc.run_once()
    assert result.stored == 1 and stored_mentions(svc)["r1"].brand == "Pixelcart"
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response("<html><body>Sign in</body></html>", 200, content_type="text/html"), "is not an RSS or Atom feed"),
    (Response("gone", 404), "feed has nothing at"),
    (Response("busy", 503, {"Retry-After": "30"}), "feed rate limit reached (503); paused for 30s"),
])
def test_bad_answers_fail_the_poll_with_a_reason(tmp_path, db_url, httpserver, feeds, answer, expected):
    feeds.rss("alert", [{"id": "a1", "title": "Pixelcart outage", "link": "https://e.com/1"}])
    feeds.failures.append(answer)
    svc = service(tmp_path, db_url, httpserver, ["alert"])
    [bad] = svc.run_once()
    assert expected in bad.error and bad.stored == 0
    svc.close()


def test_feed_urls_are_checked_at_load_time(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"news": {"type": "rss", "feeds": ["ftp://example.com/feed"]}})
    assert info.value.problems == ["sources.news.feeds: expected an http(s) feed URL, got 'ftp://example.com/feed'"]
