"""Digest time over a large store: one brand's day with its 14-day trend, rendered, on SQLite.

    python bench/digest_speed.py                 # 1,000,000 mentions over 28 days
    python bench/digest_speed.py -n 200000

Fills a fresh SQLite database with N mentions spread evenly over 28 days (30% complaints, varied
sentiment, topics and reach), then times what the daily digest does for yesterday: the figures
(volume, sentiment, topics, most-read negatives, 7-day baseline, 14-day trend, delivery, responses),
the text and HTML report and both charts. Target: at most 5 s at 1,000,000 mentions.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 5.0
TOPICS = ["billing", "delivery", "outage", "support", "product quality", "other"]


def fill(store, n: int, day: date, seed: int = 11) -> None:
    from monitor.store.schema import mentions

    rng = random.Random(seed)
    start = datetime.combine(day - timedelta(days=27), datetime.min.time(), tzinfo=UTC)
    span = 28 * 86400
    chunk = 50_000
    with store.db.engine.begin() as conn:
        for base in range(0, n, chunk):
            rows = []
            for i in range(base, min(n, base + chunk)):
                when = start + timedelta(seconds=span * i / n)
                compound = round(rng.uniform(-1, 1), 3)
                complaint = rng.random() < 0.3
                rows.append({"source": "x", "external_id": str(i), "brand": "Pixelcart", "author": f"u{i % 5000}",
                             "author_reach": int(rng.paretovariate(1.2) * 40), "url": f"https://x.com/i/{i}",
                             "text": f"pixelcart post {i}", "language": "en", "created_at": when, "fetched_at": when,
                             "compound": compound, "positive": 0.1, "neutral": 0.8, "negative": 0.1,
                             "is_complaint": complaint, "confidence": 0.8 if complaint else 0.1, "reasons": [],
                             "topic": rng.choice(TOPICS) if complaint else "other", "priority": 30.0})
            conn.execute(mentions.insert(), rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="stored mentions")
    args = parser.parse_args()
    from monitor import clock
    from monitor.digest.charts import topics_png, trend_png
    from monitor.digest.figures import brand_day
    from monitor.digest.report import render_html, render_text
    from monitor.store import Store

    day = clock.today("UTC") - timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="monitor-digest-") as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.schema.upgrade()
        started = time.perf_counter()
        fill(store, args.n, day)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        figures = brand_day(store.db, "Pixelcart", day, "Europe/London")
        figured = time.perf_counter() - started
        text = render_text(figures)
        html = render_html(figures, trend_png(figures), topics_png(figures))
        total = time.perf_counter() - started
        store.close()
    print(f"{args.n:,} mentions stored in {filled:.0f} s; yesterday had {figures.volume:,} "
          f"({sum(p.volume for p in figures.trend):,} in the 14-day trend)")
    print(f"figures {figured:.2f} s, with text, HTML and charts {total:.2f} s "
          f"(target <= {TARGET_SECONDS:.0f} s; {len(text):,} + {len(html):,} characters)")
    return 0 if total <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
