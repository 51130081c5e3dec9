"""The nightly deletion check on the wire: stored complaints are looked up at X (GET /2/tweets?ids=), Reddit
(/api/info) and Bluesky (getPosts) in batches; the ones the network no longer shows lose their words at once,
their open cases close as gone, and cleared posts are not looked up again."""
from __future__ import annotations

from monitor.pipeline.deletions import DeletionCheck
from monitor.service import MonitorService
from monitor.store.mentions import DELETED_TEXT
from tests.fake_apis import FakeX
from tests.fake_reply_apis import FakeBlueskyPds, FakeRedditAccount
from tests.support import RecordingSink, build_config, stored_mentions


def check(svc, days: int = 7) -> dict:
    return DeletionCheck(svc.store.mentions, svc.store.leases, svc.connectors, days, svc.instance,
                         svc.desk.show_cases).run()


def start(tmp_path, db_url, sources, environ):
    svc = MonitorService(build_config(tmp_path, db_url, environ=environ, sources=sources,
                                      alerts={"max_age": 0, "sinks": {"rec": {"type": "test-recording"}}}))
    svc.prepare()
    svc.run_once()
    return svc


def test_x_posts_deleted_or_hidden_are_cleared_and_their_cases_close(tmp_path, db_url, httpserver):
    fake = FakeX()
    fake.install(httpserver)
    kept = fake.post("@pixelcart still no refund after 3 weeks")
    deleted = fake.post("@pixelcart my order never arrived, nobody answers", username="bo")
    hidden = fake.post("@pixelcart charged me twice and support ignores me", username="cy")
    source = {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": httpserver.url_for("/")}
    svc = start(tmp_path, db_url, {"x": source}, {"X_BEARER_TOKEN": FakeX.TOKEN})
    assert set(stored_mentions(svc)) >= {kept, deleted, hidden}
    fake.tweets = [t for t in fake.tweets if t["id"] != deleted]
    next(t for t in fake.tweets if t["id"] == hidden)["_protected"] = True
    assert check(svc) == {"x": 2}
    stored = stored_mentions(svc)
    assert stored[deleted].text == DELETED_TEXT and stored[hidden].author == "" and stored[kept].redacted is None
    lookups = [r for r in fake.requests if r["path"] == "/2/tweets"]
    assert len(lookups) == 1 and set(lookups[0]["ids"].split(",")) == {kept, deleted, hidden}
    cases = {a.external_id: svc.store.cases.get(a.case.id) for a in RecordingSink.sent["rec"]}
    assert cases[deleted].status == "gone" and cases[kept].status == "open"
    assert check(svc) == {"x": 0}, "cleared posts are not looked up again"
    assert set(fake.requests[-1]["ids"].split(",")) == {kept}
    svc.close()


def test_reddit_and_bluesky_lookups(tmp_path, db_url, httpserver):
    reddit, sky = FakeRedditAccount(), FakeBlueskyPds()
    reddit.install(httpserver)
    sky.install(httpserver)
    stays = reddit.submission("Pixelcart lost my order", "two weeks, no answer from support")
    removed = reddit.submission("Pixelcart charged me twice", "and support ignores my emails")
    kept_uri = sky.post("@pixelcart.com app logs me out every 5 min, useless")
    gone_uri = sky.post("@pixelcart.com refund still not here after 3 weeks")
    base = httpserver.url_for("").rstrip("/")
    sources = {"reddit": {"type": "reddit", "client_id": "${RID}", "client_secret": "${RSECRET}",
                          "api_base_url": base, "user_agent": "test:complaint-monitor:1.0 (tests)"},
               "sky": {"type": "bluesky", "handle": "${BH}", "app_password": "${BP}", "api_base_url": base}}
    environ = {"RID": FakeRedditAccount.CLIENT_ID, "RSECRET": FakeRedditAccount.SECRET,
               "BH": FakeBlueskyPds.HANDLE, "BP": FakeBlueskyPds.PASSWORD}
    svc = start(tmp_path, db_url, sources, environ)
    assert {stays, removed, kept_uri, gone_uri} <= set(stored_mentions(svc))
    next(t for t in reddit.things if t["data"]["name"] == removed)["data"].update(
        selftext="[removed]", removed_by_category="moderator")
    sky.posts = [p for p in sky.posts if p["uri"] != gone_uri]
    assert check(svc) == {"reddit": 1, "sky": 1}
    stored = stored_mentions(svc)
    assert stored[removed].redacted == "deleted" and stored[gone_uri].redacted == "deleted"
    assert stored[stays].redacted is None and stored[kept_uri].redacted is None
    svc.close()


def test_the_check_can_be_turned_off(tmp_path, db_url, httpserver):
    fake = FakeX()
    fake.install(httpserver)
    fake.post("@pixelcart still no refund after 3 weeks")
    source = {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": httpserver.url_for("/")}
    svc = start(tmp_path, db_url, {"x": source}, {"X_BEARER_TOKEN": FakeX.TOKEN})
    assert check(svc, days=0) == {} and not [r for r in fake.requests if r["path"] == "/2/tweets"]
    svc.close()


def test_check_config_shows_tonights_lookup_cost(tmp_path, db_url, httpserver):
    import yaml
    from click.testing import CliRunner

    from monitor.cli import cli

    fake = FakeX()
    fake.install(httpserver)
    for i in range(3):
        fake.post(f"@pixelcart order {i} never arrived and nobody answers", username=f"u{i}")
    source = {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": httpserver.url_for("/")}
    svc = start(tmp_path, db_url, {"x": source}, {"X_BEARER_TOKEN": FakeX.TOKEN})
    svc.close()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": svc.config.database_url}, "sources": {"x": source},
                                    "brands": [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"]}]}))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"], env={"X_BEARER_TOKEN": FakeX.TOKEN})
    assert result.exit_code == 0, result.output
    assert ("deleted posts looked up nightly over the last 7 day(s), metered like reads: x 3 post(s) in 1 "
            "request(s)") in result.output


def test_mastodon_posts_its_instance_can_no_longer_resolve_are_cleared(tmp_path, db_url, httpserver):
    from tests.fake_sources import FakeMastodon

    fake = FakeMastodon()
    fake.install(httpserver)
    fake.token = "tok-123"
    kept = fake.status("<p>#pixelcart refund still missing after 3 weeks</p>", ["pixelcart"])
    deleted = fake.status("<p>#pixelcart my order never arrived, support silent</p>", ["pixelcart"])
    source = {"type": "mastodon", "instances": [{"url": httpserver.url_for("").rstrip("/"),
                                                 "access_token": "${MASTODON_TOKEN}"}]}
    svc = start(tmp_path, db_url, {"masto": source}, {"MASTODON_TOKEN": "tok-123"})
    uris = {s["id"]: s["uri"] for s in fake.statuses}
    assert {uris[kept], uris[deleted]} <= set(stored_mentions(svc))
    fake.statuses = [s for s in fake.statuses if s["id"] != deleted]
    assert check(svc) == {"masto": 1}
    stored = stored_mentions(svc)
    assert stored[uris[deleted]].redacted == "deleted" and stored[uris[kept]].redacted is None
    searches = [r for r in fake.requests if r["path"] == "/api/v2/search"]
    assert sorted(r["q"] for r in searches) == sorted([uris[kept], uris[deleted]]) and \
        all(r["resolve"] in ("true", "True", "1") for r in searches)
    svc.close()
