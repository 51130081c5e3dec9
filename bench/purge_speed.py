"""The retention purge over a large store: how long it takes, how long any one batch holds its rows (what a
poll storing a batch meanwhile may wait), and how much memory it needs.

    python bench/purge_speed.py [-n 1000000]

Fills a SQLite database with N mentions over 28 days (the digest benchmark's data, each with a reason that
quotes words), sets the retention so every one has expired, and purges, in batches of retention.batch_size
(1,000) rows. While it runs, a writer thread stores a row every 50 ms and records how long each insert waited.
Targets: the longest batch under 1 s, no insert waiting 1 s, peak memory growth under 100 MB.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.digest_speed import fill  # noqa: E402 - after the path above


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def writer(store, stop: threading.Event, waits: list[float], peak: list[float]) -> None:
    from monitor.clock import utcnow
    from monitor.store.schema import mentions

    i = 0
    while not stop.is_set():
        started = time.monotonic()
        with store.db.engine.begin() as conn:
            conn.execute(mentions.insert().values(
                source="live", external_id=f"live-{i}", brand="Pixelcart", author="w", author_reach=0, url=None,
                text="pixelcart live post", created_at=utcnow(), fetched_at=utcnow(), compound=0.0, positive=0.0,
                neutral=1.0, negative=0.0, is_complaint=False, confidence=0.1, reasons=[], topic="other",
                priority=0.0))
        waits.append(time.monotonic() - started)
        peak[0] = max(peak[0], rss_mb())  # sampled every 50 ms while the purge runs
        i += 1
        stop.wait(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="stored mentions")
    args = parser.parse_args()
    from monitor.clock import utcnow
    from monitor.config.retention import RetentionConfig
    from monitor.store import Store
    from monitor.store.schema import mentions

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.schema.upgrade()
        fill(store, args.n, utcnow().date() - timedelta(days=400))
        with store.db.engine.begin() as conn:
            conn.execute(mentions.update().values(reasons=[{"rule": "waiting", "match": "still no"}]))
        before = rss_mb()
        stop, waits, peak = threading.Event(), [], [before]
        thread = threading.Thread(target=writer, args=(store, stop, waits, peak), daemon=True)
        thread.start()
        started = time.monotonic()
        report = store.privacy.purge(RetentionConfig(mentions=1, non_complaints=1))
        seconds = time.monotonic() - started
        stop.set()
        thread.join(5)
        grown = peak[0] - before
        store.close()
    cleared = report.counts["mentions"]
    worst_wait = max(waits) if waits else 0.0
    print(f"purged {cleared:,} of {args.n:,} mentions in {seconds:.1f} s ({cleared / seconds:,.0f}/s), "
          f"{report.batches} batches")
    print(f"  longest batch {report.longest_batch * 1000:.0f} ms (target under 1000 ms)")
    print(f"  the search index then dropped their words in {report.compacted:.1f} s (one transaction)")
    print(f"  a writer storing a row every 50 ms meanwhile: {len(waits)} inserts, longest wait "
          f"{worst_wait * 1000:.0f} ms (target under 1000 ms)")
    print(f"  memory (RSS, sampled every 50 ms) grew at most {grown:.0f} MB (target under 100 MB)")
    ok = cleared == args.n and report.longest_batch < 1 and worst_wait < 1 and grown < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
