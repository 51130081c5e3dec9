"""Pipeline throughput and memory against raw VADER, on the same generated posts.

    python bench/throughput.py                     # 200,000 posts; memory at 100k and 200k
    python bench/throughput.py -n 50000 --points 25000,50000

Each size runs in a fresh child process: it writes N posts (posted within the last 20 hours, so they
alert) to a JSON-lines file and runs them twice, each time on a fresh SQLite database:

- ingest only: file source -> normalize -> dedup -> score -> mentions and outbox rows (no route matches);
- end to end: the same, then delivery of every alert to the console sink (output to /dev/null), as
  `monitor run --once` does, bursts included: the CPU time of the delivery sweep per alert is printed.

Then it times raw ``SentimentIntensityAnalyzer.polarity_scores`` over the same texts, and the detector alone
over them, each the fastest of three passes (so the ratios err against the pipeline). Peak RSS is read in the
child after the pipeline, before VADER runs. Targets: end to end >= 0.5x raw VADER's posts/s, ingest only
>= 0.6x, delivery <= 0.2 ms CPU per alert, peak RSS flat in N.

The budget line turns the ingest run's CPU per post (the service process's, and the detector's) into raw
VADER calls: with C calls per post, no schedule on K cores beats K / C times raw VADER.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_END_TO_END, TARGET_INGEST, TARGET_DELIVERY_MS = 0.5, 0.6, 0.2


def generate(path: Path, n: int, seed: int = 7) -> None:
    """N distinct posts in the shape of real mentions: the labeled set's texts with varied details."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    texts = [json.loads(line)["text"] for line in (ROOT / "tests/data/complaints_eval.jsonl").open(encoding="utf-8")]
    tails = ["", " order #{n}", " day {d}", " @pixelcart", " #northwindair", " (ref {n})", " 🙄", " thanks"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            text = rng.choice(texts) + rng.choice(tails).format(n=rng.randint(1000, 99999), d=rng.randint(2, 40))
            if "pixelcart" not in text.lower() and "northwind" not in text.lower():
                text = rng.choice(("@pixelcart ", "@NorthwindAir ")) + text  # the labelled set names other brands too
            posted = now - timedelta(seconds=rng.randint(60, 20 * 3600))
            post = {"id": str(i), "text": text, "author": f"user{rng.randint(1, n // 3 + 1)}",
                    "followers": int(rng.paretovariate(1.2) * 50), "lang": "en",
                    "created_at": posted.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": f"https://example.com/p/{i}"}
            f.write(json.dumps(post, ensure_ascii=False) + "\n")


def best_of(runs: int, work) -> float:
    """Seconds of the fastest of several runs: a slower run measures the machine's other load, not the code."""
    fastest = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def run_service(tmp: str, name: str, feed: Path, workers: int, batch_size: int, deliver: bool) -> dict:
    import contextlib

    from monitor.config import parse_config
    from monitor.service import MonitorService

    brands = [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart", "#pixelcart"]},
              {"name": "Northwind Air", "terms": ["northwind", "#northwindair", "@northwindair"]}]
    routes = [] if deliver else [{"name": "none", "sink": "console", "escalation_only": True}]  # matches nothing
    config = parse_config({
        "database": {"url": f"sqlite:///{tmp}/{name}.db"},
        "brands": brands,
        "sources": {"bench": {"type": "file", "path": str(feed), "batch_size": batch_size}},
        "scoring": {"workers": workers},
        "alerts": {"sinks": {"console": {}}, "routes": routes},
        "logging": {"level": "WARNING"},
    }, "bench", environ={})
    service = MonitorService(config)
    service.prepare()
    service.pipeline.on_stored = None  # delivery runs after the poll here, timed on its own
    started, cpu = time.perf_counter(), time.process_time()
    result = service.pipeline.poll(service.connectors["bench"])
    ingest_s = time.perf_counter() - started
    ingest_cpu = time.process_time() - cpu  # this process only: scoring runs in the pool's processes
    delivered, delivery_cpu = 0, 0.0
    if deliver:
        console, in_sink = service.sinks["console"], [0.0]
        send = console.send

        def timed_send(alert):  # the sink's own work (formatting, printing) is not bookkeeping
            cpu = time.process_time()
            try:
                return send(alert)
            finally:
                in_sink[0] += time.process_time() - cpu
        console.send = timed_send
        cpu = time.process_time()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            while True:
                sent, _ = service.delivery.deliver_due()
                delivered += sent
                if not sent:
                    break
        delivery_cpu = time.process_time() - cpu - in_sink[0]
    seconds = time.perf_counter() - started
    stats = service.store.stats.summary()
    workers_used = service.engine.workers
    service.close()
    if result.error:
        raise SystemExit(f"pipeline failed: {result.error}")
    return {"stored": result.stored, "alerts": result.alerts, "seconds": seconds, "ingest_s": ingest_s,
            "ingest_cpu": ingest_cpu,
            "delivered": delivered, "folded": stats["outbox"]["folded"], "delivery_cpu": delivery_cpu,
            "workers": workers_used}


def child(n: int, workers: int, batch_size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        feed = Path(tmp) / "posts.jsonl"
        generate(feed, n)
        ingest = run_service(tmp, "ingest", feed, workers, batch_size, deliver=False)
        rss = peak_rss_mb(resource.RUSAGE_SELF)
        full = run_service(tmp, "full", feed, workers, batch_size, deliver=True)

        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        texts = [json.loads(line)["text"] for line in feed.open(encoding="utf-8")]  # outside the timing
        vader_s = best_of(3, lambda: [analyzer.polarity_scores(text) for text in texts])
        from monitor.scoring import ComplaintScorer

        scorer, items = ComplaintScorer(), [(text, 10) for text in texts]
        scoring_s = best_of(3, lambda: [scorer.score_many(items[start:start + batch_size])
                                        for start in range(0, len(items), batch_size)])
    return {"n": n, "stored": ingest["stored"], "ingest_s": ingest["ingest_s"], "full_s": full["seconds"],
            "alerts": full["alerts"], "delivered": full["delivered"], "folded": full["folded"],
            "delivery_cpu": full["delivery_cpu"], "vader_s": vader_s, "rss_mb": rss, "workers": ingest["workers"],
            "ingest_cpu": ingest["ingest_cpu"], "scoring_s": scoring_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200_000, help="posts in the main run")
    parser.add_argument("--points", default="100000", help="extra sizes for the memory check, comma separated")
    parser.add_argument("--workers", type=int, default=0, help="scoring processes (0 = one per CPU)")
    parser.add_argument("--batch-size", type=int, default=2000, help="posts per stored batch")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.workers, args.batch_size)))
        return 0

    sizes = sorted({int(x) for x in args.points.split(",") if x.strip()} | {args.n})
    runs = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--workers", str(args.workers),
               "--batch-size", str(args.batch_size)]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

    print(f"CPUs: {os.cpu_count()}, scoring workers: {runs[0]['workers']}, batch size: {args.batch_size}, SQLite")
    print(f"{'posts':>8} {'alerts':>7} {'threaded':>8} {'folded':>7} {'ingest/s':>9} {'end-to-end/s':>12} "
          f"{'VADER/s':>8} {'ingest':>6} {'e2e':>5} {'ms/alert':>8} {'RSS MB':>7}")
    print("(ms/alert: CPU of the delivery sweeps per alert, the console sink's own formatting and printing excluded)")
    for r in runs:
        v_rate = r["n"] / r["vader_s"]
        r["ingest_ratio"], r["e2e_ratio"] = r["n"] / r["ingest_s"] / v_rate, r["n"] / r["full_s"] / v_rate
        r["ms_per_alert"] = r["delivery_cpu"] / max(1, r["delivered"] + r["folded"]) * 1000
        print(f"{r['n']:>8} {r['alerts']:>7} {r['delivered']:>8} {r['folded']:>7} {r['n'] / r['ingest_s']:>9,.0f} "
              f"{r['n'] / r['full_s']:>12,.0f} {v_rate:>8,.0f} {r['ingest_ratio']:>6.2f} {r['e2e_ratio']:>5.2f} "
              f"{r['ms_per_alert']:>8.3f} {r['rss_mb']:>7.0f}")
    main_run = runs[-1]
    growth = main_run["rss_mb"] / runs[0]["rss_mb"] if len(runs) > 1 else 1.0
    print(f"\nat {main_run['n']:,} posts: end to end x{main_run['e2e_ratio']:.2f} raw VADER (target >= "
          f"{TARGET_END_TO_END}), ingest only x{main_run['ingest_ratio']:.2f} (target >= {TARGET_INGEST}), "
          f"delivery {main_run['ms_per_alert']:.3f} ms CPU per alert (target <= {TARGET_DELIVERY_MS})")
    if len(runs) > 1:
        print(f"peak RSS {runs[0]['n']:,} -> {main_run['n']:,} posts: x{growth:.2f} (flat means ~1.0)")
    budget(main_run)
    model_ratio = model_cost()
    ok = (main_run["e2e_ratio"] >= TARGET_END_TO_END and main_run["ingest_ratio"] >= TARGET_INGEST
          and main_run["ms_per_alert"] <= TARGET_DELIVERY_MS and all(r["stored"] == r["n"] for r in runs)
          and model_ratio <= 2.0)
    return 0 if ok else 1


def budget(r: dict) -> None:
    """The CPU each post costs in the ingest run, in raw VADER calls, and the best ratio those costs allow."""
    n, cores = r["n"], os.cpu_count() or 1
    vader_us, service_us, scoring_us = (r[k] / n * 1e6 for k in ("vader_s", "ingest_cpu", "scoring_s"))
    calls = (service_us + scoring_us) / vader_us
    print(f"CPU per post in the ingest run: service process {service_us:.0f} us ({service_us / vader_us:.1f} VADER "
          f"calls: read, normalize, dedup, store), scoring {scoring_us:.0f} us ({scoring_us / vader_us:.1f} calls, "
          f"VADER included); at {calls:.1f} calls per post, {cores} cores allow at most x{cores / calls:.2f} raw VADER "
          f"(x{TARGET_INGEST} needs <= {cores / TARGET_INGEST:.1f} calls)")


def model_cost(n: int = 5000) -> float:
    """Scoring time per post with a learned model against the rules alone, in this process (target <= 2x)."""
    from monitor.scoring import ComplaintScorer
    from monitor.scoring.learned import BlendedScorer, LearnedModel, dense_features

    rules = ComplaintScorer()
    labelled = [
        json.loads(line) for line in (ROOT / "tests" / "data" / "complaints_eval.jsonl").read_text().splitlines()
    ]
    texts = [r["text"] for r in labelled]
    model = LearnedModel.fit(texts, dense_features(rules.score_many([(t, 0) for t in texts])),
                             [r["complaint"] for r in labelled])
    items = [(texts[i % len(texts)] + f" #{i}", 10) for i in range(n)]
    blended = BlendedScorer(rules, model)
    timings = {"rules": float("inf"), "model": float("inf")}
    for _ in range(5):  # alternated, so a change in the machine's load weighs on both alike
        for name, scorer in (("rules", rules), ("model", blended)):
            seconds = best_of(1, lambda: [scorer.score_many(items[start:start + 500]) for start in range(0, n, 500)])  # noqa: B023 - timed at once
            timings[name] = min(timings[name], seconds / n * 1e6)
    ratio = timings["model"] / timings["rules"]
    print(f"scoring per post: rules {timings['rules']:.0f} us, rules + learned model {timings['model']:.0f} us: "
          f"x{ratio:.2f} (target <= 2.00)")
    return ratio


if __name__ == "__main__":
    sys.exit(main())
