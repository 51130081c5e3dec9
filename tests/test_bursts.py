"""Bursts at the delivery layer: when complaints become a spike, which of them the thread carries and
which are folded, and the window's edges; the grouper alone and through the outbox with a recording sink."""
from __future__ import annotations

from datetime import timedelta

import pytest

from monitor import clock
from monitor.config import DeliveryConfig
from monitor.delivery.bursts import BurstGrouper
from monitor.model import Alert
from monitor.service import MonitorService
from tests.support import RecordingSink, build_config, write_jsonl


def alert(outbox_id: int, priority: float) -> Alert:
    return Alert(outbox_id=outbox_id, route="support", channel=None, attempt=0, mention_id=outbox_id, source="feed",
                 brand="Pixelcart", external_id=str(outbox_id), author="ann", author_reach=0, url=None,
                 text="pixelcart is down", created_at=clock.utcnow(), compound=-0.5, confidence=0.9, reasons=[],
                 topic="outage", priority=priority)


# (thread size, already threaded, ids the database ranked top among all waiting, batch as (id, priority),
#  expected threaded ids, expected folded ids)
SPLITS = [
    # Room for 2: the two the database ranked highest, whatever their place in the batch.
    (2, 0, {3, 1}, [(1, 90), (2, 10), (3, 80)], [1, 3], [2]),
    # The thread already holds 2 of 3: one more.
    (3, 2, {2}, [(1, 50), (2, 60)], [2], [1]),
    # Full: everything folds.
    (3, 3, set(), [(1, 99), (2, 98)], [], [1, 2]),
    # Room for 3, one top complaint still to come in a later batch: its place is kept, the next highest
    # of this batch takes the spare one.
    (3, 0, {1, 9}, [(1, 70), (2, 20), (3, 40)], [1, 3], [2]),
    # Stored mid-sweep (not in the database's ranking): spare room goes by priority, ties by outbox id.
    (2, 0, set(), [(5, 30), (4, 30), (6, 10)], [4, 5], [6]),
    # No thread at all.
    (0, 0, set(), [(1, 90)], [], [1]),
]


@pytest.mark.parametrize("size, threaded, top, batch, kept, folded", SPLITS)
def test_the_thread_takes_the_highest_priorities_and_the_rest_fold(size, threaded, top, batch, kept, folded):
    grouper = BurstGrouper(None, DeliveryConfig(burst_threshold=5, burst_replies=size))
    burst = {"replies": threaded, "top": set(top)}
    into_thread, into_fold = grouper.split(burst, [alert(i, p) for i, p in batch])
    assert sorted(a.outbox_id for a in into_thread) == kept
    assert sorted(a.outbox_id for a in into_fold) == folded
    assert burst["replies"] == threaded + len(kept)
    assert burst["top"] == set(top) - set(kept)


def run(tmp_path, db_url, posts: list[dict], **delivery):
    write_jsonl(tmp_path / "feed.jsonl", posts)
    svc = MonitorService(build_config(tmp_path, db_url, delivery={"burst_window": "10m", **delivery}))
    svc.prepare()
    svc.run_once()
    return svc


def complaints(n: int, ago: timedelta = timedelta(0), prefix: str = "c") -> list[dict]:
    when = (clock.utcnow() - ago).isoformat()
    return [{"id": f"{prefix}{i}", "text": f"pixelcart is down, checkout error {i}", "author": f"u{i}",
             "followers": i, "created_at": when} for i in range(n)]


def test_exactly_the_threshold_is_no_burst_one_more_is(tmp_path, db_url):
    svc = run(tmp_path, db_url, complaints(5), burst_threshold=5, burst_replies=2)
    assert RecordingSink.notices.get("rec", []) == []  # "more than" the threshold: 5 of 5 are alerts
    assert len(RecordingSink.sent["rec"]) == 5 and all(a.thread_ref is None for a in RecordingSink.sent["rec"])
    write_jsonl(tmp_path / "feed.jsonl", complaints(1, prefix="d"))
    svc.run_once()
    [(_, spike)] = RecordingSink.notices["rec"]
    assert "Spike: 6 complaints about Pixelcart" in spike
    [threaded] = RecordingSink.sent["rec"][5:]
    assert threaded.thread_ref == "notice" and threaded.external_id == "d0"
    svc.close()


def test_the_folded_complaints_are_counted_and_kept_not_sent(tmp_path, db_url):
    svc = run(tmp_path, db_url, complaints(9), burst_threshold=3, burst_replies=4)
    sent = RecordingSink.sent["rec"]
    # The thread carries the 4 highest priorities (the most followers: c8 down to c5); 5 are folded.
    assert sorted(a.external_id for a in sent) == ["c5", "c6", "c7", "c8"]
    assert svc.store.stats.summary()["outbox"]["folded"] == 5
    open_cases = svc.store.cases.find(status="open")
    assert len([r for r in open_cases if r["mention_id"]]) == 9  # every complaint is still a case to work
    assert len([r for r in open_cases if r["burst_id"]]) == 1  # and the spike is one too
    svc.close()


def test_complaints_posted_before_the_window_never_join_a_burst(tmp_path, db_url):
    old = complaints(8, ago=timedelta(minutes=11), prefix="old")  # the window is 10 minutes
    svc = run(tmp_path, db_url, old, burst_threshold=3, burst_replies=2)
    assert RecordingSink.notices.get("rec", []) == []
    assert len(RecordingSink.sent["rec"]) == 8 and all(a.thread_ref is None for a in RecordingSink.sent["rec"])
    svc.close()
