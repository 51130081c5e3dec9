"""Jetstream source on the wire: the real `websockets` client against a local Jetstream over a real socket,
through the service's poll (normalize, dedup, score, store). Resume from the stored cursor with a rewind, no
loss and no duplicates across a dropped connection, frames that are not events skipped with the connection
kept, an oversize frame refused, a silent server timed out and reported after max_reconnects.

The reader blocks in timed socket waits, which libfaketime stops: these run in the unshifted CI pass."""
from __future__ import annotations

import time

import pytest

from connectors.jetstream import post_of
from monitor.config import ConfigError
from monitor.terms import term_pattern
from tests.fake_jetstream import FakeJetstream
from tests.support import build_config, start_service, stored_mentions, until

pytestmark = pytest.mark.timed_waits


@pytest.fixture
def stream():
    fake = FakeJetstream()
    yield fake
    fake.close()


def service(tmp_path, db_url, fake, **options):
    return start_service(tmp_path, db_url, {"live": {"type": "jetstream", "url": fake.url, **options}})


def drain_until(svc, condition, seconds: float = 10.0):
    """Polls the source (as the scheduler does every quarter second) until ``condition`` holds."""
    connector = svc.connectors["live"]
    results = []

    def polled():
        results.append(svc.pipeline.poll(connector))
        return condition()
    assert until(polled, seconds), f"not reached; last polls: {results[-3:]}"
    return results


def connected(svc, fake, sessions: int = 1):
    svc.pipeline.poll(svc.connectors["live"])  # the first drain starts the reader
    assert until(lambda: len(fake.sessions) >= sessions)


def test_posts_naming_a_brand_are_stored_with_their_links(tmp_path, db_url, stream):
    svc = service(tmp_path, db_url, stream)
    connected(svc, stream)
    assert stream.sessions[0]["wantedCollections"] == ["app.bsky.feed.post"] and "cursor" not in stream.sessions[0]
    complaint = stream.post("@pixelcart my order never came and nobody answers")
    stream.post("lovely weather in oslo today")
    stream.other("identity")
    reply = stream.post("pixelcart charged me twice", reply_to=complaint)
    drain_until(svc, lambda: len(stored_mentions(svc)) == 2)
    rows = stored_mentions(svc)
    assert set(rows) == {complaint, reply}
    did, rkey = complaint.split("/")[2], complaint.rsplit("/", 1)[1]
    assert rows[complaint].url == f"https://bsky.app/profile/{did}/post/{rkey}" and rows[complaint].author == did
    assert rows[complaint].brand == "Pixelcart"
    assert svc.store.sources.load_cursor("live")["time_us"] == str(stream.events[-1]["time_us"])
    svc.close()


def test_a_restart_resumes_from_the_cursor_minus_the_rewind_without_duplicates(tmp_path, db_url, stream):
    svc = service(tmp_path, db_url, stream, rewind="2s")
    connected(svc, stream)
    first = [stream.post(f"pixelcart parcel {i} is late") for i in range(3)]
    drain_until(svc, lambda: len(stored_mentions(svc)) == 3)
    last = stream.events[-1]["time_us"]
    svc.close()
    later = [stream.post(f"pixelcart refund {i} missing") for i in range(2)]  # while the service was down
    again = service(tmp_path, db_url, stream, rewind="2s")
    connected(again, stream, sessions=2)
    assert stream.sessions[1]["cursor"] == [str(last - 2_000_000)]
    drain_until(again, lambda: len(stored_mentions(again)) == 5)
    time.sleep(0.2)
    again.pipeline.poll(again.connectors["live"])
    assert set(stored_mentions(again)) == set(first + later)  # the rewound three were read again and dropped
    again.close()


def test_a_dropped_connection_loses_nothing_and_duplicates_nothing(tmp_path, db_url, stream):
    stream.drop_after = [2]  # the first connection ends after two events
    svc = service(tmp_path, db_url, stream, rewind="1s")
    connected(svc, stream)
    posts = [stream.post(f"pixelcart order {i} never came") for i in range(6)]
    drain_until(svc, lambda: len(stored_mentions(svc)) == 6)
    assert len(stream.sessions) == 2 and "cursor" in stream.sessions[1]
    assert set(stored_mentions(svc)) == set(posts)
    svc.close()


def test_frames_that_are_not_events_are_skipped_and_the_connection_kept(tmp_path, db_url, stream):
    svc = service(tmp_path, db_url, stream)
    stream.first_frames = ["not json", "[1, 2]", '{"kind": "commit"}', '{"time_us": "soon"}', "{" * 500]
    connected(svc, stream)
    post = stream.post("@pixelcart app crashes at checkout")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 1)
    reader = svc.connectors["live"].reader
    assert reader.malformed == 5 and reader.connections == 1 and list(stored_mentions(svc)) == [post]
    svc.close()


def test_an_oversize_frame_closes_the_connection_and_the_reader_comes_back(tmp_path, db_url, stream):
    svc = service(tmp_path, db_url, stream, max_frame=2048)
    stream.first_frames = ['{"time_us": 1, "pad": "' + "x" * 5000 + '"}']
    connected(svc, stream)
    assert until(lambda: len(stream.sessions) >= 2)  # refused, then reconnected
    post = stream.post("pixelcart lost my parcel")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 1)
    assert list(stored_mentions(svc)) == [post] and svc.connectors["live"].reader.connections >= 2
    svc.close()


def test_a_silent_server_is_timed_out_retried_and_reported_unhealthy(tmp_path, db_url, stream):
    stream.silent = True
    svc = service(tmp_path, db_url, stream, idle_timeout="0.2s", max_reconnects=2)
    connected(svc, stream)
    results = []
    assert until(lambda: results.append(svc.pipeline.poll(svc.connectors["live"])) or results[-1].error, 20)
    [failed] = [r for r in results if r.error]
    assert "connections failed in a row" in failed.error and "no event for 0.2s" in failed.error
    assert len(stream.sessions) >= 2 and not results[0].error
    # Reported once per failed attempt: until the reader's next try the drains wait instead of failing again.
    assert svc.pipeline.poll(svc.connectors["live"]).skipped.startswith("paused until")
    [health] = [h for h in svc.store.sources.health() if h["source"] == "live"]
    assert health["unhealthy"] and "connections failed in a row" in health["last_error"]  # what /readyz reads
    stream.silent = False
    sessions = len(stream.sessions)
    assert until(lambda: len(stream.sessions) > sessions, 40)  # the reader's next try (it never saw an event, so
    post = stream.post("pixelcart still no refund")            # it has no cursor and asks for the live stream)
    drain_until(svc, lambda: len(stored_mentions(svc)) == 1, seconds=20)  # recovered by itself
    assert list(stored_mentions(svc)) == [post]
    svc.close()


def test_close_stops_the_reader_within_a_second(tmp_path, db_url, stream):
    svc = service(tmp_path, db_url, stream)
    connected(svc, stream)
    reader = svc.connectors["live"].reader
    started = time.monotonic()
    svc.close()
    assert not reader.is_alive() and time.monotonic() - started < 1.5


@pytest.mark.parametrize("event", [
    {"did": "d", "time_us": 1, "kind": "commit", "commit": {"operation": "delete", "collection": "app.bsky.feed.post",
                                                            "rkey": "r"}},
    {"did": "d", "time_us": 1, "kind": "commit", "commit": {"operation": "create", "collection":
                                                            "app.bsky.feed.like", "rkey": "r", "record": {}}},
    {"did": "d", "time_us": 1, "kind": "commit", "commit": {"operation": "create", "collection":
                                                            "app.bsky.feed.post", "rkey": "r", "record": {"text": 5}}},
    {"did": 5, "time_us": 1, "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.post",
                                                          "rkey": "r", "record": {"text": "pixelcart"}}},
    {"did": "d", "time_us": 1, "kind": "commit", "commit": {"operation": "create", "collection":
                                                            "app.bsky.feed.post", "rkey": "r",
                                                            "record": {"text": "no brand here"}}},
])
def test_only_created_posts_that_name_a_brand_become_posts(event):
    assert post_of(event, [("Pixelcart", term_pattern(["pixelcart"]))]) is None


def test_the_url_must_be_a_websocket(tmp_path):
    with pytest.raises(ConfigError, match="sources.live.url.*ws:// or wss://"):
        build_config(tmp_path, sources={"live": {"type": "jetstream", "url": "https://example.com/subscribe"}})


def test_a_streamed_complaint_is_alerted_and_its_time_to_alert_measured(tmp_path, db_url, stream):
    from monitor.ops import metrics
    from tests.support import RecordingSink

    RecordingSink.sent.clear()
    before = metrics.REGISTRY.get_sample_value("monitor_time_to_alert_seconds_count", {"source": "live"}) or 0
    svc = service(tmp_path, db_url, stream)
    connected(svc, stream)
    stream.post("@pixelcart charged me twice and nobody answers, 3 emails now")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 1)
    svc.delivery.kick()
    assert until(lambda: len(RecordingSink.sent["rec"]) == 1)
    after = metrics.REGISTRY.get_sample_value("monitor_time_to_alert_seconds_count", {"source": "live"})
    assert after == before + 1
    seen = svc.store.stats.summary()["time_to_alert_last_hour"]
    assert list(seen) == ["live"] and seen["live"]["alerts"] == 1 and 0 <= seen["live"]["p95"] < 10
    svc.close()


def test_a_deleted_post_loses_its_text_and_its_pending_alert_and_its_case_says_so(tmp_path, db_url, stream):
    import sqlalchemy as sa

    from monitor.store.mentions import DELETED_TEXT
    from monitor.store.schema import case_events, cases, mentions, outbox

    svc = service(tmp_path, db_url, stream)
    connected(svc, stream)
    kept = stream.post("@pixelcart parcel never came, 3 weeks now")
    gone = stream.post("@pixelcart you charged me twice, refund it now")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 2)  # stored, alerts pending (nothing delivered yet)
    stream.delete(gone)
    stream.delete("at://did:plc:someone/app.bsky.feed.post/3lneverstored")  # most deletions are of others' posts
    drain_until(svc, lambda: stored_mentions(svc)[gone].text == DELETED_TEXT)
    with svc.store.db.engine.connect() as conn:
        by_id = {r.external_id: r.id for r in conn.execute(sa.select(mentions.c.id, mentions.c.external_id))}
        status = dict(conn.execute(sa.select(outbox.c.mention_id, outbox.c.status)).all())
        events = conn.execute(sa.select(cases.c.mention_id, case_events.c.action, case_events.c.origin)
                              .join(cases, cases.c.id == case_events.c.case_id)
                              .where(case_events.c.action == "post_deleted")).all()
    assert status == {by_id[kept]: "pending", by_id[gone]: "cancelled"}
    assert [(m, a, o) for m, a, o in events] == [(by_id[gone], "post_deleted", "auto")]
    assert stored_mentions(svc)[kept].text == "@pixelcart parcel never came, 3 weeks now"
    assert svc.store.outbox.counts()["cancelled"] == 1
    svc.close()


def test_one_instance_holds_the_stream(tmp_path, db_url, stream):
    """Two instances on one database: the first to drain keeps the source's lease, the other never connects; when
    the first stops, it lets go and the other takes over from the stored cursor."""
    first = service(tmp_path, db_url, stream)
    second = service(tmp_path, db_url, stream)
    connected(first, stream)
    skipped = second.pipeline.poll(second.connectors["live"])
    assert skipped.skipped == "being polled by another instance" and second.connectors["live"].reader is None
    post = stream.post("pixelcart my order vanished")
    drain_until(first, lambda: len(stored_mentions(first)) == 1)
    first.close()
    later = stream.post("pixelcart refund still missing")
    drain_until(second, lambda: len(stored_mentions(second)) == 2)
    assert set(stored_mentions(second)) == {post, later} and len(stream.sessions) == 2
    assert "cursor" in stream.sessions[1]  # the second resumed from the first's cursor
    second.close()


def test_authors_are_looked_up_once_when_asked_and_the_did_stays_when_the_appview_cannot(tmp_path, db_url, stream,
                                                                                       httpserver):
    import json as jsonlib

    from werkzeug import Response

    asked = []

    def profile(request):
        asked.append(request.args["actor"])
        if request.args["actor"] == "did:plc:ann123":
            return Response(jsonlib.dumps({"did": "did:plc:ann123", "handle": "ann.bsky.social",
                                           "followersCount": 321, "followsCount": 5, "postsCount": 40}),
                            200, content_type="application/json")
        return Response(jsonlib.dumps({"error": "InvalidRequest", "message": "Profile not found"}), 400,
                        content_type="application/json")
    httpserver.expect_request("/xrpc/app.bsky.actor.getProfile").respond_with_handler(profile)
    svc = service(tmp_path, db_url, stream, resolve_handles=True, appview_url=httpserver.url_for("").rstrip("/"))
    connected(svc, stream)
    first = stream.post("pixelcart parcel lost")
    second = stream.post("pixelcart refund missing")
    unknown = stream.post("pixelcart app down", did="did:plc:gone")
    drain_until(svc, lambda: len(stored_mentions(svc)) == 3)
    rows = stored_mentions(svc)
    assert (rows[first].author, rows[first].author_reach) == ("ann.bsky.social", 321)
    assert rows[second].author == "ann.bsky.social" and rows[unknown].author == "did:plc:gone"
    assert sorted(asked) == ["did:plc:ann123", "did:plc:gone"]  # one lookup per author
    svc.close()
