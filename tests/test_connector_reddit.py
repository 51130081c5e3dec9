"""Reddit connector: the real praw client against a local server speaking Reddit's OAuth and Listing formats."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from werkzeug import Response

from connectors.reddit import build_query
from monitor.config import BrandConfig, ConfigError
from monitor.service import MonitorService
from monitor.store.schema import mentions
from tests.fake_apis import FakeReddit
from tests.support import RecordingSink, build_config, write_jsonl

ENV = {"REDDIT_CLIENT_ID": FakeReddit.CLIENT_ID, "REDDIT_CLIENT_SECRET": FakeReddit.SECRET}


@pytest.fixture
def fake_reddit(httpserver):
    fake = FakeReddit()
    fake.install(httpserver)
    return fake


def reddit_source(httpserver, **extra):
    return {"type": "reddit", "client_id": "${REDDIT_CLIENT_ID}", "client_secret": "${REDDIT_CLIENT_SECRET}",
            "api_base_url": httpserver.url_for("").rstrip("/"), "user_agent": "test:complaint-monitor:1.0 (tests)",
            **extra}


def service(tmp_path, db_url, httpserver, environ=ENV, extra_sources=None, **options):
    sources = {"reddit": reddit_source(httpserver, **options), **(extra_sources or {})}
    svc = MonitorService(build_config(tmp_path, db_url, environ=environ, sources=sources))
    svc.prepare()
    return svc


def listings(fake):
    """Searches and subreddit comment scans (not the brand accounts' own comments)."""
    return [r for r in fake.requests if r["path"].startswith("/r/")
            and r["path"].endswith(("/search", "/search/", "/comments", "/comments/"))]


def stored(svc):
    with svc.store.db.engine.connect() as conn:
        return {r.external_id: r for r in conn.execute(sa.select(mentions))}


def test_query_builder():
    brand = BrandConfig(name="N", terms=["northwind", "northwind air", "@NorthwindAir", "#northwind"])
    assert build_query(brand) == 'northwind OR "northwind air" OR NorthwindAir'


def test_missing_credentials_name_the_variables(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"reddit": {"type": "reddit", "client_id": "${REDDIT_CLIENT_ID}",
                                                   "client_secret": "${REDDIT_CLIENT_SECRET}"}})
    assert info.value.problems == [
        "sources.reddit.client_id: environment variable REDDIT_CLIENT_ID is not set",
        "sources.reddit.client_secret: environment variable REDDIT_CLIENT_SECRET is not set"]


def test_bad_subreddit_name_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.reddit.subreddits: .*not a subreddit name: 'no spaces'"):
        build_config(tmp_path, environ=ENV, sources={"reddit": {
            "type": "reddit", "client_id": "a", "client_secret": "b", "subreddits": ["r/ok", "no spaces"]}})


def test_search_reads_submissions_once_across_polls(tmp_path, db_url, httpserver, fake_reddit):
    first = fake_reddit.submission("Pixelcart charged me twice", "and support never replied", author="ann",
                                   score=40, comments=12)
    fake_reddit.submission("Northwind lost my bag in Lisbon", sub="travel")
    svc = service(tmp_path, db_url, httpserver)
    [r1] = svc.run_once()
    assert r1.error is None and r1.stored == 2 and r1.alerts == 2
    row = stored(svc)[first]
    assert row.author == "ann" and row.author_reach == 52 and row.brand == "Pixelcart"
    assert row.url == f"https://www.reddit.com/r/all/comments/{first[3:]}/post/"
    assert row.text.startswith("Pixelcart charged me twice\n\nand support")
    req = listings(fake_reddit)[0]
    assert req["sort"] == "new" and req["q"] == "pixelcart" and req["path"].startswith("/r/all/search")
    newer = fake_reddit.submission("pixelcart app is down again")
    fake_reddit.requests.clear()
    [r2] = svc.run_once()
    # The overlap window re-reads the older ones; the database drops them; only the new one is stored.
    assert r2.stored == 1 and newer in stored(svc)
    assert len(RecordingSink.sent["rec"]) == 3
    assert fake_reddit.token_requests == 1  # the token is reused
    svc.close()


def test_listing_pages_and_per_poll_cap(tmp_path, db_url, httpserver, fake_reddit):
    for i in range(130):
        fake_reddit.submission(f"pixelcart order {i} never arrived")
    svc = service(tmp_path, db_url, httpserver, max_items=120)
    [r] = svc.run_once()
    assert r.stored == 120
    pixel = [q for q in listings(fake_reddit) if q["q"].startswith("pixelcart")]
    assert len(pixel) == 2 and "after" in pixel[1]  # 100 + 20 over two pages
    svc.close()


def test_backfill_window_bounds_the_first_run(tmp_path, db_url, httpserver, fake_reddit):
    fake_reddit.submission("pixelcart old news", age=7200)
    recent = fake_reddit.submission("pixelcart still no refund", age=60)
    svc = service(tmp_path, db_url, httpserver, backfill="1h")
    svc.run_once()
    assert list(stored(svc)) == [recent]
    svc.close()


def test_comment_scan_keeps_only_brand_mentions(tmp_path, db_url, httpserver, fake_reddit):
    hit = fake_reddit.comment("northwind cancelled my flight and no refund yet", sub="travel")
    fake_reddit.comment("anyone been to Porto?", sub="travel")
    svc = service(tmp_path, db_url, httpserver, comment_subreddits=["travel"])
    [r] = svc.run_once()
    rows = stored(svc)
    assert list(rows) == [hit] and rows[hit].brand == "Northwind Air"
    assert any(q["path"].startswith("/r/travel/comments") for q in fake_reddit.requests)
    svc.close()


def test_restart_neither_misses_nor_repeats(tmp_path, db_url, httpserver, fake_reddit):
    fake_reddit.submission("pixelcart lost my parcel")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    newer = fake_reddit.submission("pixelcart charged me twice")
    svc = service(tmp_path, db_url, httpserver)
    [r] = svc.run_once()
    assert r.stored == 1 and [a.external_id for a in RecordingSink.sent["rec"]] == [newer]
    svc.close()


def test_bad_credentials_mark_unhealthy(tmp_path, db_url, httpserver, fake_reddit):
    svc = service(tmp_path, db_url, httpserver, environ={**ENV, "REDDIT_CLIENT_SECRET": "wrong"})
    [r] = svc.run_once()
    assert "REDDIT_CLIENT_ID" in r.error and "wrong" not in r.error
    assert {h["source"]: h for h in svc.store.sources.health()}["reddit"]["unhealthy"]
    svc.close()


def test_rate_limit_pauses_only_this_source(tmp_path, db_url, httpserver, fake_reddit):
    fake_reddit.submission("pixelcart still broken")
    fake_reddit.failures.append(Response('{"message": "Too Many Requests", "error": 429}', 429,
                                         {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600",
                                          "x-ratelimit-reset": "1"}, content_type="application/json"))
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "f1", "text": "pixelcart charged me twice"}])
    svc = service(tmp_path, db_url, httpserver, extra_sources={
        "feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}})
    reddit, feed = svc.run_once()
    assert "rate limit" in reddit.error and feed.stored == 1
    assert svc.run_once()[0].skipped
    svc.close()


@pytest.mark.parametrize("failures, expected", [
    ([Response("oops", 503)] * 3, "Reddit server error 503"),
    ([Response("<html>", 200, content_type="application/json")], "malformed"),
    ([Response('{"kind": "Listing", "data": {"after": null, "children": [{"kind": "t3"}, 7]}}', 200,
               content_type="application/json")], "malformed"),
    ([Response('{"kind": "Listing", "data": {"after": null, "children": [{"kind": "t3"}]}}', 200,
               content_type="application/json")], None),
    ([Response('{"kind": "Listing", "data": {"after": null, "children": [{"kind": "t3", "data": {"id": "x"}}]}}', 200,
               content_type="application/json")], None),
])
def test_errors_and_bad_bodies_fail_the_poll_and_lose_nothing(tmp_path, db_url, httpserver, fake_reddit,
                                                             failures, expected):
    fake_reddit.submission("pixelcart still no refund")
    fake_reddit.failures.extend(failures)
    svc = service(tmp_path, db_url, httpserver)
    [r1] = svc.run_once()
    if expected:
        assert expected in r1.error
        assert not {h["source"]: h for h in svc.store.sources.health()}["reddit"]["unhealthy"]
    else:
        assert r1.error is None and r1.rejected >= 1  # an item without created time is counted, not stored
    [r2] = svc.run_once()
    assert r2.error is None and len(stored(svc)) == 1
    svc.close()


@pytest.mark.parametrize("remaining", ["1.0", "0"])
def test_a_nearly_used_window_pauses_the_source_instead_of_sleeping(tmp_path, db_url, httpserver, fake_reddit,
                                                                     remaining):
    post = fake_reddit.submission("pixelcart still broken")
    # prawcore 4 would sleep 10 s before the next request with one left, and until the reset with none.
    fake_reddit.ratelimit = {"remaining": remaining, "used": "599", "reset": "1"}
    svc = service(tmp_path, db_url, httpserver)
    started = time.monotonic()
    [r] = svc.run_once()
    assert time.monotonic() - started < 5  # returned without sleeping in the poll thread
    assert "Reddit rate limit nearly used" in r.error and r.stored == 0
    assert svc.pipeline.health.paused_until("reddit") is not None
    fake_reddit.ratelimit = {"remaining": "595.0", "used": "5", "reset": "300"}
    time.sleep(1.2)  # the window has reset: prawcore's own limiter reads the wall clock, so no clock to move on
    [r] = svc.run_once()
    assert r.error is None and post in stored(svc)
    svc.close()


def test_the_comment_scan_stops_at_its_cursor(tmp_path, db_url, httpserver, fake_reddit):
    for i in range(150):
        fake_reddit.comment(f"northwind flight {i} delayed again", sub="travel")  # 10 s apart, 25 min in all
    svc = service(tmp_path, db_url, httpserver, comment_subreddits=["travel"], overlap="1h")
    [first] = svc.run_once()
    assert first.stored == 150
    fake_reddit.requests.clear()
    [idle] = svc.run_once()
    # The search re-reads its overlap (index lag); the comment listing has no lag: one page, nothing re-read.
    comment_pages = [q for q in listings(fake_reddit) if "/comments" in q["path"]]
    assert len(comment_pages) == 1 and idle.stored == 0
    svc.close()


def test_usage_counts_every_item_fetched_and_every_request(tmp_path, db_url, httpserver, fake_reddit):
    for i in range(130):
        fake_reddit.submission(f"pixelcart order {i} never arrived")
    for i in range(5):
        fake_reddit.comment(f"anyone been to Porto {i}?", sub="travel")  # fetched, not about a brand
    svc = service(tmp_path, db_url, httpserver, comment_subreddits=["travel"], max_items=120)
    [r] = svc.run_once()
    assert r.stored == 120
    # pixelcart: pages of 100 and 30 (2 requests, 130 items); northwind: 1 request, 0 items; comments: 1, 5;
    # the brands' own accounts (pixelcart, northwindair): 1 request each, 0 items.
    assert svc.store.usage.month()["reddit"] == {"posts_read": 135, "requests": 6}
    svc.close()


def test_the_brands_reddit_comment_answers_the_case(tmp_path, db_url, httpserver, fake_reddit):
    post = fake_reddit.submission("Pixelcart charged me twice", "and support never replied", author="ann")
    answer = fake_reddit.comment("Sorry Ann, we've refunded the second charge", sub="all", author="pixelcart",
                                 parent=post)
    svc = service(tmp_path, db_url, httpserver)
    [r] = svc.run_once()
    assert list(stored(svc)) == [post] and r.drop_reasons == {"a public reply by the brand": 1}
    [case] = svc.store.cases.find()
    assert (case["status"], case["first_response_by"]) == ("claimed", "@pixelcart")
    assert case["public_reply_url"].endswith(f"/{answer[3:]}/")
    own = [q for q in fake_reddit.requests if q["path"].startswith("/user/")]
    assert sorted(q["path"] for q in own) == ["/user/northwindair/comments", "/user/pixelcart/comments"]
    svc.close()
    quiet = service(tmp_path / "quiet", db_url if "sqlite" not in db_url else f"sqlite:///{tmp_path / 'q.db'}",
                    httpserver, own_replies=False)
    fake_reddit.requests.clear()
    quiet.run_once()
    assert not any(q["path"].startswith("/user/") for q in fake_reddit.requests)
    quiet.close()


@pytest.mark.timed_waits
def test_the_sources_timeout_applies_to_each_request(tmp_path, db_url, httpserver, fake_reddit):
    fake_reddit.submission("Pixelcart lost my order", "two weeks, no answer")
    fake_reddit.search_delay = 2.5  # well inside prawcore's own 16 s, past the configured 1 s
    svc = service(tmp_path, db_url, httpserver, timeout="1s")
    [result] = svc.run_once()
    assert result.error is not None and "Timeout" in result.error, result.error
    svc.close()
