"""Mastodon streaming source on the wire: the real `websockets` client against a local streaming endpoint, the
catch-up through the real Mastodon.py client against the suite's REST stand-in, through the service's poll.
Timed socket waits: these run in the unshifted CI pass."""
from __future__ import annotations

import time

import pytest

from monitor.store.mentions import DELETED_TEXT
from tests.fake_mastodon_stream import FakeMastodonStream
from tests.fake_sources import FakeMastodon
from tests.support import start_service, stored_mentions, until

pytestmark = pytest.mark.timed_waits


@pytest.fixture
def stream():
    fake = FakeMastodonStream(token="stream-token")
    yield fake
    fake.close()


@pytest.fixture
def rest(httpserver):
    fake = FakeMastodon()
    fake.install(httpserver)
    return fake


def service(tmp_path, db_url, httpserver, stream, **options):
    source = {"type": "mastodon_stream", "instance": httpserver.url_for("").rstrip("/"), "streaming_url": stream.url,
              "access_token": "${MASTODON_TOKEN}", **options}
    return start_service(tmp_path, db_url, {"toots": source}, environ={"MASTODON_TOKEN": "stream-token"})


def drain_until(svc, condition, seconds: float = 10.0) -> None:
    assert until(lambda: svc.pipeline.poll(svc.connectors["toots"]) and condition(), seconds)


def connected(svc, stream, sessions: int = 1) -> None:
    svc.pipeline.poll(svc.connectors["toots"])
    assert until(lambda: stream.sessions >= sessions and len(stream.subscriptions) >= 2 * sessions)


def test_hashtag_updates_are_stored_and_deletes_forget_them(tmp_path, db_url, httpserver, stream, rest):
    svc = service(tmp_path, db_url, httpserver, stream)
    connected(svc, stream)
    assert {"type": "subscribe", "stream": "hashtag", "tag": "pixelcart"} in stream.subscriptions
    assert {"type": "subscribe", "stream": "hashtag", "tag": "northwindair"} in stream.subscriptions
    first = rest.status("<p>#pixelcart parcel lost, again</p>", ["pixelcart"])
    stream.update(rest.statuses[-1], "pixelcart")
    second = rest.status("<p>#northwindair lost my bag</p>", ["northwindair"])
    stream.update(rest.statuses[-1], "northwindair")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 2)
    rows = {r.external_id: r for r in stored_mentions(svc).values()}
    uri = next(s["uri"] for s in rest.statuses if s["id"] == first)
    assert rows[uri].brand == "Pixelcart" and "parcel lost" in rows[uri].text
    assert svc.store.sources.load_cursor("toots")["last_id"] == second
    stream.delete(first, "pixelcart")
    drain_until(svc, lambda: stored_mentions(svc)[uri].text == DELETED_TEXT)
    svc.close()


def test_a_reconnect_catches_up_through_the_rest_timeline_without_gaps_or_duplicates(tmp_path, db_url, httpserver,
                                                                                      stream, rest):
    svc = service(tmp_path, db_url, httpserver, stream)
    connected(svc, stream)
    rest.status("<p>#pixelcart refund missing</p>", ["pixelcart"])
    stream.drop_next = True  # the connection ends after this frame
    stream.update(rest.statuses[-1], "pixelcart")
    missed = [rest.status(f"<p>#pixelcart order {i} never came</p>", ["pixelcart"]) for i in range(3)]  # while down
    drain_until(svc, lambda: len(stored_mentions(svc)) == 4, seconds=20)
    assert stream.sessions == 2
    tag_reads = [r for r in rest.requests if r["path"] == "/api/v1/timelines/tag/pixelcart"]
    assert tag_reads and tag_reads[0]["min_id"] == rest.statuses[0]["id"]  # from the newest id seen
    assert len(stored_mentions(svc)) == 4 and {s["id"] for s in rest.statuses} >= set(missed)
    svc.close()


def test_the_public_stream_keeps_only_what_names_a_brand(tmp_path, db_url, httpserver, stream, rest):
    svc = service(tmp_path, db_url, httpserver, stream, hashtags=["pixelcartsupport"], public=True)
    connected(svc, stream)
    assert {"type": "subscribe", "stream": "public"} in stream.subscriptions
    rest.status("<p>northwind cancelled my flight and nobody answers</p>", [])
    stream.update(rest.statuses[-1])
    rest.status("<p>lovely sunset</p>", [])
    stream.update(rest.statuses[-1])
    drain_until(svc, lambda: len(stored_mentions(svc)) == 1)
    time.sleep(0.1)
    svc.pipeline.poll(svc.connectors["toots"])
    [row] = stored_mentions(svc).values()
    assert row.brand == "Northwind Air"
    svc.close()


def test_a_wrong_token_is_refused_and_reported(tmp_path, db_url, httpserver, stream, rest):
    svc = start_service(tmp_path, db_url, {"toots": {
        "type": "mastodon_stream", "instance": httpserver.url_for("").rstrip("/"), "streaming_url": stream.url,
        "access_token": "${MASTODON_TOKEN}", "max_reconnects": 1}}, environ={"MASTODON_TOKEN": "wrong"})
    results = []
    assert until(lambda: results.append(svc.pipeline.poll(svc.connectors["toots"])) or results[-1].error, 15)
    assert "connections failed in a row" in results[-1].error and stream.sessions == 0
    svc.close()
