"""Connector parsing speed: a recorded page of each source turned into normalized mentions.

    python bench/connector_speed.py               # 40 pages per source
    python bench/connector_speed.py --pages 200

Each page is what the test suite's local stand-in for that service answers (the service's documented or
served format), recorded once; the timed part is what a poll does with an answer: decode it, build the
posts (HTML to text, links, dates, stars) and normalize them as the pipeline does. Network time is not
included: it depends on the service. Target: at least 5,000 items/s per connector on this machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors import appstore, bluesky, googleplay, hackernews, mastodon, rss  # noqa: E402
from monitor.clock import utcnow  # noqa: E402
from monitor.config import ReviewAppConfig  # noqa: E402
from monitor.pipeline.normalize import normalize  # noqa: E402
from tests import fake_sources as fakes  # noqa: E402

TARGET = 5000
COMPLAINTS = ["<p>@pixelcart my order never arrived &amp; support won't answer. "
              "<a href=\"https://example.com/track/123\">tracking</a> says delivered</p>",
              "pixelcart app crashes at checkout every time, third day in a row",
              "Pixelcart refund still missing after 3 weeks, ref 55120"]


def answer(handler, path: str, method: str = "GET", data=None, query: str = "") -> bytes:
    """The stand-in's answer to one request, without a socket."""
    environ = EnvironBuilder(path=path, method=method, data=data, query_string=query,
                             content_type="application/x-www-form-urlencoded" if data else None).get_environ()
    return handler(Request(environ)).get_data()


def recorded_pages(size: int) -> dict[str, tuple[bytes, callable]]:
    """name -> (page bytes, function page -> posts)."""
    pages = {}
    hn = fakes.FakeHackerNews()
    for i in range(size):
        (hn.comment if i % 2 else hn.story)(COMPLAINTS[i % 3] + f" #{i}")
    body = answer(hn.search, "/search_by_date", query=f'query="pixelcart"&tags=(story,comment)&'
                  f"numericFilters=created_at_i>0&hitsPerPage={size}")
    pages["hackernews"] = (body, lambda b: hackernews.parse_hits(json.loads(b), "Pixelcart")[0])

    feeds = fakes.FakeFeeds()
    feeds.rss("alert", [{"id": f"tag:google.com,2013:googlealerts/{i}", "title": f"Pixelcart outage {i}",
                         "link": "https://www.google.com/url?rct=j&amp;url=https://news.example.com/a&amp;ct=ga",
                         "summary": "Shoppers say the &lt;b&gt;Pixelcart&lt;/b&gt; app fails at checkout."}
                        for i in range(size)])
    body = answer(feeds.serve, "/feeds/alert")
    pages["rss"] = (body, lambda b: [rss.entry_post(e, "alert", None)
                                     for e in rss.parse_feed(b, {"content-type": "application/rss+xml"}, "u").entries])

    app = ReviewAppConfig(id="1234567890", brand="Pixelcart")
    store = fakes.FakeAppStore()
    for i in range(size):
        store.review(app.id, f"Broken {i}", COMPLAINTS[i % 3], 1 + i % 5)
    body = answer(store.feed, f"/us/rss/customerreviews/page=1/id={app.id}/sortby=mostrecent/json")
    pages["appstore"] = (body, lambda b: appstore.parse_reviews(json.loads(b), app, "us")[0])

    play_app = ReviewAppConfig(id="com.pixelcart.shop", brand="Pixelcart")
    play = fakes.FakeGooglePlay()
    for i in range(size):
        play.review(play_app.id, COMPLAINTS[i % 3], 1 + i % 5)
    body = answer(play.rpc, "/_/PlayStoreUi/data/batchexecute", "POST",
                  googleplay.request_body(play_app.id, size, None), "hl=en&gl=us")
    pages["googleplay"] = (body, lambda b: googleplay.parse_page(b.decode(), play_app, "us")[0])

    masto = fakes.FakeMastodon()
    for i in range(size):
        masto.status(COMPLAINTS[0] + f" {i}", ["pixelcart"])
    body = answer(masto.tag, "/api/v1/timelines/tag/pixelcart", query=f"limit={size}")
    pages["mastodon"] = (body, lambda b: [mastodon.status_post(s, "Pixelcart") for s in json.loads(b)])

    sky = fakes.FakeBluesky()
    for i in range(size):
        sky.post(COMPLAINTS[1] + f" {i}")
    body = json.dumps({"posts": list(reversed(sky.posts)), "cursor": "100"}).encode()
    pages["bluesky"] = (body, _bluesky_posts)
    return pages


def _bluesky_posts(body: bytes) -> list:
    from atproto_client import models
    from atproto_client.models.utils import get_or_create

    page = get_or_create(json.loads(body), models.AppBskyFeedSearchPosts.Response, strict=False)
    return [bluesky.post_of(view, "Pixelcart") for view in page.posts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=40, help="times each recorded page is processed")
    parser.add_argument("--size", type=int, default=100, help="items per recorded page")
    args = parser.parse_args()
    print(f"{'connector':<12} {'items':>7} {'seconds':>8} {'items/s':>9}  target {TARGET:,}/s")
    missed = []
    for name, (body, parse) in recorded_pages(args.size).items():
        parse(body)  # warm up: imports and caches, as in a running service
        now = utcnow()
        items = 0
        started = time.perf_counter()
        for _ in range(args.pages):
            posts = parse(body)
            mentions = [normalize(p, name, now) for p in posts if p]
            items += len(mentions)
        seconds = time.perf_counter() - started
        rate = items / seconds
        missed += [name] if rate < TARGET else []
        print(f"{name:<12} {items:>7,} {seconds:>8.3f} {rate:>9,.0f}  x{rate / TARGET:.1f}")
    print("all connectors meet the target" if not missed else f"below target: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
