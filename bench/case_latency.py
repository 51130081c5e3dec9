"""Click -> chat.update: how long an agent waits to see a case button take effect.

    python bench/case_latency.py [-n 50]

Runs the service's real pieces (SQLite store, case desk, Slack sink with slack_sdk and slack-bolt) against
the local Slack stand-ins of the test suite on 127.0.0.1: in HTTP mode each click is a signed block_actions
request to the ops server; in Socket Mode an `interactive` envelope on the WebSocket. Clicks go one at a time,
each on its own case; the figure is from sending the click to the stand-in receiving the chat.update.
Target: p95 under 300 ms in both modes.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(share * 100) * len(ordered) // 100) - 1)]


def service(workdir: Path, base: str, n: int, interactivity: dict, environ: dict):
    from monitor.config import parse_config
    from monitor.service import MonitorService
    from tests.fake_apis import FakeSlack
    from tests.support import write_jsonl

    write_jsonl(workdir / "feed.jsonl", [{"id": f"c{i}", "text": f"pixelcart order {i} still not delivered",
                                          "author": f"user{i}"} for i in range(n)])
    raw = {"database": {"url": f"sqlite:///{workdir / 'bench.db'}"},
           "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}],
           "sources": {"feed": {"type": "file", "path": str(workdir / "feed.jsonl")}},
           "alerts": {"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                          "api_base_url": base + "/api/",
                                          "default_channel": "C0SUPPORT", "min_interval": "0s",
                                          "interactivity": interactivity}}},
           "delivery": {"burst_threshold": 0}, "service": {"http": {"enabled": True, "port": 0}}}
    svc = MonitorService(parse_config(raw, "bench", environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN, **environ}))
    svc.prepare()
    svc.run_once()
    return svc


def measure(fake, svc, click) -> list[float]:
    waits = []
    for i, message in enumerate(list(fake.messages)):
        case_id = int(message["blocks"][-1]["elements"][0]["value"])
        started = time.monotonic()
        click(case_id, message)
        deadline = started + 10
        while len(fake.updates) <= i and time.monotonic() < deadline:
            time.sleep(0.0005)
        if len(fake.updates) <= i:
            raise SystemExit(f"click {i}: no chat.update within 10 s")
        waits.append(fake.updates[i]["received"] - started)
    return waits


def run_http(n: int) -> list[float]:
    from pytest_httpserver import HTTPServer

    from tests.fake_apis import SIGNING_SECRET, FakeSlack, block_action, signed_request

    with tempfile.TemporaryDirectory() as tmp, HTTPServer(host="127.0.0.1", port=0) as server:
        fake = FakeSlack()
        fake.install(server)
        svc = service(Path(tmp), server.url_for("").rstrip("/"), n,
                      {"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}"},
                      {"SLACK_SIGNING_SECRET": SIGNING_SECRET})
        ops = svc.start_ops_server()

        def click(case_id, message):
            body, headers = signed_request(block_action(server.url_for(""), case_id, "claim", "U0ANN", message["ts"]))
            request = urllib.request.Request(f"http://127.0.0.1:{ops.port}/slack/events", data=body, headers=headers)
            urllib.request.urlopen(request, timeout=10).read()

        try:
            return measure(fake, svc, click)
        finally:
            ops.stop()
            svc.close()


def run_socket(n: int) -> list[float]:
    from pytest_httpserver import HTTPServer

    from tests.fake_apis import FakeSlack, FakeSocketMode, block_action

    with tempfile.TemporaryDirectory() as tmp, HTTPServer(host="127.0.0.1", port=0) as server:
        fake, end = FakeSlack(), FakeSocketMode()
        fake.install(server)
        end.install(server)
        svc = service(Path(tmp), server.url_for("").rstrip("/"), n,
                      {"mode": "socket", "app_token": "${SLACK_APP_TOKEN}"}, {"SLACK_APP_TOKEN": end.APP_TOKEN})
        svc.listen()
        deadline = time.monotonic() + 10
        while end.connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            waits = measure(fake, svc, lambda case_id, message: end.send(
                block_action(server.url_for(""), case_id, "claim", "U0ANN", message["ts"])))
            deadline = time.monotonic() + 10
            while len(end.acks) < n and time.monotonic() < deadline:  # bolt acknowledges after the listener
                time.sleep(0.01)
            return waits
        finally:
            svc.close()
            end.close()


def main() -> int:
    import logging

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50, help="clicks per mode")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    missed = False
    for mode, run in (("http", run_http), ("socket", run_socket)):
        waits = [w * 1000 for w in run(args.n)]
        p95 = percentile(waits, 0.95)
        missed |= p95 >= 300
        print(f"{mode:<7} click -> chat.update  median {statistics.median(waits):6.1f} ms   p95 {p95:6.1f} ms   "
              f"max {max(waits):6.1f} ms   ({len(waits)} clicks)")
    print("target: p95 under 300 ms in both modes: " + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
