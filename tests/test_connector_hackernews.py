"""Hacker News connector: the Algolia HN Search API stand-in over HTTP, through the whole service."""
from __future__ import annotations

import pytest
from werkzeug import Response

from connectors.hackernews import hn_query
from monitor.config import ConfigError
from tests.fake_sources import FakeHackerNews
from tests.support import RecordingSink, build_config, start_service, stored_mentions


@pytest.fixture
def fake_hn(httpserver):
    fake = FakeHackerNews()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, **options):
    return start_service(tmp_path, db_url, {"hn": {"type": "hackernews", "api_base_url": httpserver.url_for("/"),
                                                   **options}})


def test_terms_are_quoted_phrases():
    assert hn_query("northwind air") == '"northwind air"'
    assert hn_query('@say "hi"') == '"say hi"'


def test_stories_and_comments_become_mentions_with_links_and_points(tmp_path, db_url, httpserver, fake_hn):
    story = fake_hn.story("Pixelcart lost my order and support never answered", "ann", points=57)
    comment = fake_hn.comment("<p>Pixelcart&#x27;s app crashes at checkout &amp; nobody replies.</p>"
                              "<p>See <a href=\"https://status.example.com/x\">this</a></p>", "bob", parent=story)
    fake_hn.story("Unrelated post about compilers")
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 2
    rows = stored_mentions(svc)
    assert set(rows) == {story, comment}
    assert rows[story].url == f"https://news.ycombinator.com/item?id={story}" and rows[story].author_reach == 57
    assert rows[comment].text == ("Pixelcart's app crashes at checkout & nobody replies.\n\n"
                                  "See this (https://status.example.com/x)")
    assert rows[comment].author == "bob" and rows[comment].author_reach == 0
    first = fake_hn.requests[0]
    assert first["tags"] == "(story,comment)" and first["numericFilters"].startswith("created_at_i>")
    assert {r["query"] for r in fake_hn.requests} == {'"pixelcart"', '"northwind"'}  # @pixelcart is the same term
    assert len(RecordingSink.sent["rec"]) == 2
    svc.close()


def test_second_poll_asks_only_for_newer_items_and_costs_one_request_per_term(tmp_path, db_url, httpserver,
                                                                            fake_hn):
    fake_hn.story("pixelcart refund still missing after 3 weeks")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    newest = fake_hn.items[-1]["created_at_i"]
    fake_hn.requests.clear()
    [quiet] = svc.run_once()
    assert quiet.stored == 0 and quiet.read == 0 and len(fake_hn.requests) == 2
    assert all(r["numericFilters"] == f"created_at_i>{newest}" for r in fake_hn.requests
               if r["query"] == '"pixelcart"')
    fake_hn.story("northwind flight cancelled and no rebooking offered")
    [again] = svc.run_once()
    assert again.stored == 1 and again.duplicates == 0
    svc.close()


def test_restart_reads_nothing_twice(tmp_path, db_url, httpserver, fake_hn):
    fake_hn.story("pixelcart is down for everyone?")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    fake_hn.requests.clear()
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.read == 0 and result.stored == 0
    svc.close()


def test_page_cap_resumes_before_moving_the_cursor(tmp_path, db_url, httpserver, fake_hn):
    ids = [fake_hn.story(f"pixelcart order {i} never arrived") for i in range(7)]
    svc = service(tmp_path, db_url, httpserver, hits_per_page=2, max_pages=2)
    [r1] = svc.run_once()
    assert r1.stored == 4
    [r2] = svc.run_once()
    assert r2.stored == 3  # pages 3 and 4 of the same query, before any newer item
    assert set(stored_mentions(svc)) == set(ids)
    fake_hn.requests.clear()
    [r3] = svc.run_once()
    assert r3.read == 0 and {r["numericFilters"] for r in fake_hn.requests if r["query"] == '"pixelcart"'} == \
        {f"created_at_i>{fake_hn.items[-1]['created_at_i']}"}
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response("<html>busy</html>", 200, content_type="text/html"), "malformed response (not JSON"),
    (Response('{"message": "nope"}', 200, content_type="application/json"), "malformed page (no hits list)"),
    (Response("oops", 502), "server error 502"),
])
def test_bad_answers_are_rejected_with_a_reason_and_lose_nothing(tmp_path, db_url, httpserver, fake_hn,
                                                                 answer, expected):
    fake_hn.story("pixelcart charged me twice")
    fake_hn.failures.append(answer)
    svc = service(tmp_path, db_url, httpserver)
    [bad] = svc.run_once()
    assert expected in bad.error
    [good] = svc.run_once()
    assert good.error is None and good.stored == 1
    svc.close()


def test_rate_limit_pauses_the_source_without_sleeping(tmp_path, db_url, httpserver, fake_hn):
    fake_hn.failures.append(Response("slow down", 429, {"Retry-After": "120"}))
    svc = service(tmp_path, db_url, httpserver)
    [limited] = svc.run_once()
    assert "Hacker News search rate limit reached (429); paused for 120s" in limited.error
    assert limited.seconds < 5
    assert svc.pipeline.health.paused_until("hn") is not None
    assert svc.run_once()[0].skipped and len(fake_hn.requests) == 1
    svc.close()


def test_unknown_kind_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"hn": {"type": "hackernews", "kinds": ["story", "poll"]}})
    assert info.value.problems == ["sources.hn.kinds: unknown item kind 'poll' (story, comment)"]
