"""Pipeline throughput and memory against raw VADER, on the same generated posts.

    python bench/throughput.py                     # 200,000 posts; memory at 100k and 200k
    python bench/throughput.py -n 50000 --points 25000,50000

Each size runs in a fresh child process: it writes N posts to a JSON-lines file,
runs the whole pipeline on it (file source -> normalize -> dedup -> score ->
SQLite mentions + outbox rows, one transaction per batch), then times raw
``SentimentIntensityAnalyzer.polarity_scores`` over the same texts. Peak RSS is
read in the child after the pipeline, before VADER runs (each scoring worker
process holds one scorer, whatever N is). Delivery to sinks is not part of the figure: it
is bound by the sink's API, not by this code.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.85


def generate(path: Path, n: int, seed: int = 7) -> None:
    """N distinct posts in the shape of real mentions: the labeled set's texts with varied details."""
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in (ROOT / "tests/data/complaints_eval.jsonl").open(encoding="utf-8")]
    tails = ["", " order #{n}", " day {d}", " @pixelcart", " #northwindair", " (ref {n})", " 🙄", " thanks"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            text = rng.choice(texts) + rng.choice(tails).format(n=rng.randint(1000, 99999), d=rng.randint(2, 40))
            post = {"id": str(i), "text": text, "author": f"user{rng.randint(1, n // 3 + 1)}",
                    "followers": int(rng.paretovariate(1.2) * 50), "lang": "en",
                    "created_at": f"2026-11-{rng.randint(1, 24):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                    "url": f"https://example.com/p/{i}"}
            f.write(json.dumps(post, ensure_ascii=False) + "\n")


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def child(n: int, workers: int, batch_size: int) -> dict:
    from monitor.config import parse_config
    from monitor.service import MonitorService

    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        feed = Path(tmp) / "posts.jsonl"
        generate(feed, n)
        brands = [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart", "#pixelcart"]},
                  {"name": "Northwind Air", "terms": ["northwind", "#northwindair", "@northwindair"]}]
        config = parse_config({
            "database": {"url": f"sqlite:///{tmp}/bench.db"},
            "brands": brands,
            "sources": {"bench": {"type": "file", "path": str(feed), "batch_size": batch_size}},
            "scoring": {"workers": workers},
            "alerts": {"sinks": {"console": {}}},
            "logging": {"level": "WARNING"},
        }, "bench", environ={})
        service = MonitorService(config)
        service.prepare()
        baseline_rss = peak_rss_mb(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = service.pipeline.poll(service.connectors["bench"])
        pipeline_s = time.perf_counter() - started
        rss = peak_rss_mb(resource.RUSAGE_SELF)
        stats = service.store.stats.summary()
        service.close()

        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        texts = [json.loads(line)["text"] for line in feed.open(encoding="utf-8")]  # outside the timing
        started = time.perf_counter()
        for text in texts:
            analyzer.polarity_scores(text)
        vader_s = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"pipeline failed: {result.error}")
    return {"n": n, "stored": result.stored, "complaints": result.complaints, "alerts": result.alerts,
            "outbox": stats["outbox"]["pending"], "pipeline_s": pipeline_s, "vader_s": vader_s,
            "rss_mb": rss, "baseline_rss_mb": baseline_rss,
            "workers": service.engine.workers}


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
    print(f"{'posts':>8} {'stored':>8} {'alerts':>7} {'pipeline/s':>11} {'VADER/s':>9} {'ratio':>6} "
          f"{'RSS MB':>7}")
    for r in runs:
        p_rate, v_rate = r["n"] / r["pipeline_s"], r["n"] / r["vader_s"]
        print(f"{r['n']:>8} {r['stored']:>8} {r['alerts']:>7} {p_rate:>11,.0f} {v_rate:>9,.0f} "
              f"{p_rate / v_rate:>6.2f} {r['rss_mb']:>7.0f}")
    main_run = runs[-1]
    ratio = (main_run["n"] / main_run["pipeline_s"]) / (main_run["n"] / main_run["vader_s"])
    growth = main_run["rss_mb"] / runs[0]["rss_mb"] if len(runs) > 1 else 1.0
    print(f"\npipeline / raw VADER at {main_run['n']:,} posts: {ratio:.2f} (target >= {TARGET_RATIO})")
    if len(runs) > 1:
        print(f"peak RSS {runs[0]['n']:,} -> {main_run['n']:,} posts: x{growth:.2f} (flat means ~1.0)")
    model_ratio = model_cost()
    ok = ratio >= TARGET_RATIO and all(r["stored"] == r["n"] for r in runs) and model_ratio <= 2.0
    return 0 if ok else 1


def model_cost(n: int = 5000) -> float:
    """Scoring time per post with a learned model against the rules alone, in this process (target <= 2x)."""
    from monitor.scoring import ComplaintScorer
    from monitor.scoring.learned import BlendedScorer, LearnedModel, dense_features

    rules = ComplaintScorer()
    labelled = [json.loads(line) for line in (ROOT / "tests" / "data" / "complaints_eval.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in labelled]
    model = LearnedModel.fit(texts, dense_features(rules.score_many([(t, 0) for t in texts])),
                             [r["complaint"] for r in labelled])
    items = [(texts[i % len(texts)] + f" #{i}", 10) for i in range(n)]
    blended = BlendedScorer(rules, model)
    timings = {}
    for name, scorer in (("rules", rules), ("model", blended)):
        started = time.perf_counter()
        for start in range(0, n, 500):
            scorer.score_many(items[start:start + 500])
        timings[name] = (time.perf_counter() - started) / n * 1e6
    ratio = timings["model"] / timings["rules"]
    print(f"scoring per post: rules {timings['rules']:.0f} us, rules + learned model {timings['model']:.0f} us: "
          f"x{ratio:.2f} (target <= 2.00)")
    return ratio


if __name__ == "__main__":
    sys.exit(main())
