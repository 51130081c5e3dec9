"""Reply from Slack: how long an agent waits for the form, for each keystroke's count, and for Send.

    python bench/reply_latency.py [-n 40]

Runs the service's real pieces (SQLite store, reply desk, Slack sink with slack_sdk and slack-bolt in HTTP
mode, Mastodon.py) against the test suite's local Slack and Mastodon stand-ins on 127.0.0.1, one case at a
time: Reply clicked -> views.open received (form), a keystroke -> views.update with the new count received
(count), Send -> views.update saying it was posted received (send: the post found on the instance, the status
posted, the reply and the case recorded, the link posted in the thread). Targets, p95: form 500 ms, count
300 ms, send 1 s.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"form": 0.5, "count": 0.3, "send": 1.0}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(share * 100) * len(ordered) // 100) - 1)]


def service(workdir: Path, base: str, posts: list[dict]):
    from monitor.config import parse_config
    from monitor.service import MonitorService
    from tests.fake_apis import SIGNING_SECRET, FakeSlack
    from tests.fake_reply_apis import FakeMastodonInstance
    from tests.support import write_jsonl

    write_jsonl(workdir / "feed.jsonl", posts)
    raw = {"database": {"url": f"sqlite:///{workdir / 'bench.db'}"},
           "brands": [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"]}],
           "sources": {"feed": {"type": "file", "path": str(workdir / "feed.jsonl"), "platform": "mastodon"}},
           "alerts": {"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                          "api_base_url": base + "/api/", "default_channel": "C0SUPPORT",
                                          "min_interval": "0s",
                                          "interactivity": {"mode": "http",
                                                            "signing_secret": "${SLACK_SIGNING_SECRET}"}}}},
           "replies": {"accounts": [{"brand": "Pixelcart", "platform": "mastodon", "instance": base,
                                     "access_token": FakeMastodonInstance.TOKEN}]},
           "delivery": {"burst_threshold": 0}, "service": {"http": {"enabled": True, "port": 0}}}
    svc = MonitorService(parse_config(raw, "bench", environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN,
                                                             "SLACK_SIGNING_SECRET": SIGNING_SECRET}))
    svc.prepare()
    svc.run_once()
    return svc


def wait(condition, what: str) -> float:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {what} within 10 s")
        time.sleep(0.0005)
    return time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="cases answered")
    args = parser.parse_args()
    from pytest_httpserver import HTTPServer

    from tests.fake_apis import FakeSlack
    from tests.fake_reply_apis import FakeMastodonInstance
    from tests.test_slack_replies import case_of, click, in_view, send_payload, texts

    waits: dict[str, list[float]] = {"form": [], "count": [], "send": []}
    with tempfile.TemporaryDirectory() as tmp, HTTPServer(host="127.0.0.1", port=0) as server:
        slack, mastodon = FakeSlack(), FakeMastodonInstance()
        slack.install(server)
        mastodon.install(server)
        posts = []
        for i in range(args.n):
            url, uri = f"https://other.example/@u{i}/{i}", f"https://other.example/users/u{i}/statuses/{i}"
            mastodon.remote(url, uri)
            posts.append({"id": uri, "url": url, "author": f"u{i}@other.example",
                          "text": f"@pixelcart order {i} never arrived, 3 weeks now"})
        base = server.url_for("").rstrip("/")
        svc = service(Path(tmp), base, posts)
        ops = svc.start_ops_server()
        try:
            for message in list(slack.messages):
                opened = len(slack.view_log)
                started = time.monotonic()
                send_payload(ops, click(base, message, "reply_open", str(case_of(message))))
                waits["form"].append(wait(lambda: len(slack.view_log) > opened, "views.open") - started)  # noqa: B023
                view_id = list(slack.views)[-1]
                form = slack.views[view_id]
                text = f"Sorry about order {case_of(message)}, refunded today"
                typed = {"type": "plain_text_input", "action_id": "reply_draft", "block_id": "draft_0", "value": text}
                count = f"{len(text)}/500"
                started = time.monotonic()
                send_payload(ops, in_view(view_id, form, text=text, kind="block_actions", action=typed))
                waits["count"].append(wait(lambda: count in texts(slack.views[view_id]), "count") - started)  # noqa: B023
                started = time.monotonic()
                send_payload(ops, in_view(view_id, form, text=text))
                waits["send"].append(wait(lambda: "Posted on Mastodon" in texts(slack.views[view_id]),  # noqa: B023
                                          "posted") - started)
        finally:
            ops.stop()
            svc.close()
        posted = len(mastodon.posted)
    missed = False
    print(f"{args.n} replies from Slack through the local stand-ins; {posted} statuses posted")
    for name, values in waits.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        ok = p95 <= TARGETS[name]
        missed |= not ok
        print(f"  {name:<6} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms   "
              f"mean {statistics.mean(values) * 1000:6.1f} ms   target p95 {TARGETS[name] * 1000:.0f} ms: "
              f"{'met' if ok else 'MISSED'}")
    print(json.dumps({k: round(percentile(v, 0.95), 4) for k, v in waits.items()}))
    return 1 if missed or posted != args.n else 0


if __name__ == "__main__":
    sys.exit(main())
