"""Delivery latency to Slack: from a complaint being stored to Slack receiving it.

    python bench/slack_latency.py            # 30 complaints, one every 0.3 s

Runs the real service (scheduler, file source polling every 0.1 s, Slack sink with
the real slack_sdk client) against a local HTTP server that answers
chat.postMessage like Slack. For each complaint appended to the source file it
reports: stored -> received by Slack (the alerting path) and written -> received
(adds the source's poll interval).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

received: dict[str, float] = {}


class SlackStub(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        marker = next((w for w in json.dumps(body).split() if w.startswith("LAT")), None)
        if marker:
            received[marker.strip('\\".,')] = time.time()
        payload = json.dumps({"ok": True, "channel": "C0SUPPORT", "ts": f"{time.time():.6f}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    import argparse

    import sqlalchemy as sa

    from monitor.config import parse_config
    from monitor.service import MonitorService
    from monitor.store.schema import mentions

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between complaints")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlackStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = Path(tempfile.mkdtemp(prefix="monitor-latency-"))
    feed = tmp / "feed.jsonl"
    feed.touch()
    config = parse_config({
        "database": {"url": f"sqlite:///{tmp}/m.db"},
        "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}],
        "sources": {"feed": {"type": "file", "path": str(feed), "interval": "0.1s"}},
        "alerts": {"sinks": {"slack": {"type": "slack", "token": "xoxb-bench", "default_channel": "C0SUPPORT",
                                       "api_base_url": f"http://127.0.0.1:{server.server_port}/api/",
                                       "min_interval": "0s"}}},
        "delivery": {"burst_threshold": 0},
        "digest": {"enabled": False},
        "logging": {"level": "WARNING"},
    }, "bench", environ={})
    service = MonitorService(config)
    service.prepare()
    runner = threading.Thread(target=service.run_forever, kwargs={"install_signals": False}, daemon=True)
    runner.start()
    written: dict[str, float] = {}
    for i in range(args.n):
        marker = f"LAT{i:04d}"
        with feed.open("a") as f:
            f.write(json.dumps({"id": marker, "text": f"pixelcart still no refund after 3 weeks {marker}"}) + "\n")
        written[marker] = time.time()
        time.sleep(args.gap)
    deadline = time.time() + 10
    while len(received) < args.n and time.time() < deadline:
        time.sleep(0.05)
    service.stop.set()
    runner.join(timeout=10)
    with service.store.db.engine.connect() as conn:
        stored = {r.external_id: r.fetched_at.timestamp() for r in conn.execute(sa.select(mentions))}
    service.close()
    server.shutdown()

    after_store = [received[m] - stored[m] for m in written if m in received and m in stored]
    end_to_end = [received[m] - written[m] for m in written if m in received]
    print(f"complaints: {args.n}, received by Slack: {len(received)}")
    for name, values in (("stored -> Slack", after_store), ("written -> Slack", end_to_end)):
        if values:
            print(f"{name:<17} median {statistics.median(values) * 1000:6.0f} ms   p95 "
                  f"{percentile(values, 0.95) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms")
    print(f"(measured {datetime.now().astimezone():%Y-%m-%d %H:%M}; target: within a second of being stored)")
    return 0 if len(received) == args.n and max(after_store) < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
