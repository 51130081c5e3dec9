"""Mastodon connector: the real Mastodon.py client against a local instance stand-in."""
from __future__ import annotations

import pytest
from werkzeug import Response

from connectors.mastodon import brand_tags
from monitor.config import BrandConfig
from tests.fake_sources import FakeMastodon
from tests.support import start_service, stored_mentions

TAGS = {"Pixelcart": ["pixelcart"], "Northwind Air": ["northwindair"]}


@pytest.fixture
def instance(httpserver):
    fake = FakeMastodon()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, environ=None, token=None, **options):
    entry = {"url": httpserver.url_for("/").rstrip("/")}
    if token:
        entry["access_token"] = token
    return start_service(tmp_path, db_url, {"fedi": {"type": "mastodon", "instances": [entry], "tags": TAGS,
                                                     **options}}, environ)


def tag_requests(fake):
    return [r for r in fake.requests if r["path"].startswith("/api/v1/timelines/tag/")]


def test_default_tags_come_from_hashtag_terms_or_the_brand_name():
    assert brand_tags(BrandConfig(name="Pixel Cart", terms=["pixelcart", "#PixelCart"]), {}) == ["pixelcart"]
    assert brand_tags(BrandConfig(name="Northwind Air", terms=["northwind"]), {}) == ["northwindair"]
    assert brand_tags(BrandConfig(name="N", terms=["n"]), {"N": ["#One", "two"]}) == ["one", "two"]


def test_statuses_become_plain_text_mentions_with_links(tmp_path, db_url, httpserver, instance):
    sid = instance.status('<p>Hey <span class="h-card"><a href="https://social.example/@pixelcart" '
                          'class="u-url mention">@<span>pixelcart</span></a></span> my order never arrived '
                          '&amp; no reply. Tracking: <a href="https://track.example/123" rel="nofollow">'
                          'https://track.example/123</a> <a href="https://social.example/tags/pixelcart" '
                          'class="mention hashtag">#<span>pixelcart</span></a></p>', ["pixelcart"], followers=880)
    instance.status("<p>boosted</p>", ["pixelcart"], reblog=True)
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert result.error is None and result.stored == 1
    [row] = stored_mentions(svc).values()
    assert row.external_id == f"https://other.example/users/ann/statuses/{sid}"
    assert (
        row.text == "Hey @pixelcart my order never arrived & no reply. Tracking: https://track.example/123 #pixelcart"
    )
    assert row.author == "ann@other.example" and row.author_reach == 880 and row.url.endswith(f"/@ann/{sid}")
    assert row.brand == "Pixelcart" and row.is_complaint
    svc.close()


def test_min_id_cursor_per_tag_and_a_quiet_poll_costs_one_request_per_tag(tmp_path, db_url, httpserver, instance):
    first = instance.status("<p>#northwindair lost my bag</p>", ["northwindair"])
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    instance.requests.clear()
    [quiet] = svc.run_once()
    assert quiet.read == 0 and len(tag_requests(instance)) == 2
    north = next(r for r in tag_requests(instance) if r["path"].endswith("/northwindair"))
    assert north["min_id"] == first and north["limit"] == "40"
    svc.close()


def test_a_burst_is_paged_forward_from_the_cursor_and_a_restart_reads_nothing_twice(tmp_path, db_url, httpserver,
                                                                                 instance):
    instance.status("<p>#pixelcart first</p>", ["pixelcart"])
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    burst = [instance.status(f"<p>#pixelcart checkout down {i}</p>", ["pixelcart"]) for i in range(95)]
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert (
        result.stored == 95
        and result.duplicates == 0
        and set(burst) <= {k.rsplit("/", 1)[1] for k in stored_mentions(svc)}
    )
    svc.close()


def test_few_requests_left_pauses_the_source_until_the_reset(tmp_path, db_url, httpserver, instance):
    instance.remaining = 4
    instance.status("<p>#pixelcart app crashes</p>", ["pixelcart"])
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert "Mastodon rate limit nearly used" in result.error and len(tag_requests(instance)) == 1
    assert svc.pipeline.health.paused_until("fedi") is not None
    svc.close()


def test_an_instance_that_needs_a_token_gets_it_or_says_so(tmp_path, db_url, httpserver, instance):
    instance.token = "tok-123"
    instance.status("<p>#pixelcart refund missing</p>", ["pixelcart"])
    svc = service(tmp_path, db_url, httpserver)
    [refused] = svc.run_once()
    assert "needs an access token" in refused.error
    svc.close()
    svc = service(tmp_path, db_url, httpserver, environ={"MASTODON_TOKEN": "tok-123"}, token="${MASTODON_TOKEN}")
    [ok] = svc.run_once()
    assert ok.error is None and ok.stored == 1
    svc.close()


@pytest.mark.parametrize("answer, expected", [
    (Response("<html>", 200, content_type="text/html"), "malformed or refused answer"),
    (Response('{"error": "boom"}', 503, content_type="application/json"), "server error"),
    (Response('{"error": "slow down"}', 429, content_type="application/json"), "rate limit reached"),
])
def test_bad_answers_fail_the_poll_with_a_reason(tmp_path, db_url, httpserver, instance, answer, expected):
    instance.status("<p>#pixelcart broken</p>", ["pixelcart"])
    instance.failures.append(answer)
    svc = service(tmp_path, db_url, httpserver)
    [bad] = svc.run_once()
    assert expected in bad.error and bad.stored == 0
    svc.close()
