"""check-config --probe: one read-only request per enabled source and sink, through the real clients, against
local servers speaking each API; a failure names the component, the reason and where its credentials come
from, and the other probes still run."""
from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from werkzeug import Response

from monitor.cli import cli
from tests.fake_apis import FakeReddit, FakeSlack, FakeSocketMode, FakeX
from tests.fake_sources import FakeBluesky, FakeFeeds, FakeHackerNews, FakeMastodon
from tests.support import BRANDS, write_jsonl

GOOD_ENV = {"X_BEARER_TOKEN": FakeX.TOKEN, "REDDIT_CLIENT_ID": FakeReddit.CLIENT_ID,
            "REDDIT_CLIENT_SECRET": FakeReddit.SECRET, "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "BLUESKY_HANDLE": FakeBluesky.HANDLE, "BLUESKY_APP_PASSWORD": FakeBluesky.PASSWORD,
            "SLACK_APP_TOKEN": FakeSocketMode.APP_TOKEN}


@pytest.fixture
def fakes(httpserver):
    made = {"x": FakeX(), "reddit": FakeReddit(), "slack": FakeSlack(), "feeds": FakeFeeds(),
            "hn": FakeHackerNews(), "bluesky": FakeBluesky()}
    for fake in made.values():
        fake.install(httpserver)
    made["feeds"].rss("alerts", [{"title": "Pixelcart down", "link": "https://news.example.com/1", "id": "n1"}])
    made["x"].post("pixelcart lost my parcel again")
    return made


def write_config(tmp_path, httpserver, sources: dict, sinks: dict) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"}, "brands": BRANDS, "sources": sources,
        "alerts": {"sinks": sinks, "routes": [{"name": "support", "sink": next(iter(sinks)), "channel": "C0SUPPORT"}]},
    }))
    return str(path)


def every_source(tmp_path, httpserver) -> dict:
    base = httpserver.url_for("/")
    write_jsonl(tmp_path / "posts.jsonl", [{"text": "pixelcart is fine"}])
    return {
        "x": {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": base},
        "reddit": {"type": "reddit", "client_id": "${REDDIT_CLIENT_ID}", "client_secret": "${REDDIT_CLIENT_SECRET}",
                   "api_base_url": base.rstrip("/")},
        "news": {"type": "rss", "feeds": [httpserver.url_for("/feeds/alerts")]},
        "hn": {"type": "hackernews", "api_base_url": base},
        "bsky": {"type": "bluesky", "handle": "${BLUESKY_HANDLE}", "app_password": "${BLUESKY_APP_PASSWORD}",
                 "api_base_url": base.rstrip("/")},
        "posts": {"type": "file", "path": str(tmp_path / "posts.jsonl")},
    }


def slack_bot(httpserver, **extra) -> dict:
    return {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}", "api_base_url": httpserver.url_for("/api/"),
                      **extra}}


def probe(path: str, env: dict):
    return CliRunner().invoke(cli, ["--config", path, "check-config", "--probe"], env=env)


def probe_lines(output: str) -> dict[str, str]:
    lines = output.split("probes (", 1)[1].splitlines()[1:]
    return {line.split(" (", 1)[0].strip(): line.split(": ", 1)[1] for line in lines if line.startswith("  ")}


def test_every_component_is_probed_once_and_passes(tmp_path, httpserver, fakes):
    path = write_config(tmp_path, httpserver, every_source(tmp_path, httpserver), slack_bot(httpserver))
    result = probe(path, GOOD_ENV)
    assert result.exit_code == 0, result.output
    lines = probe_lines(result.output)
    assert set(lines) == {"x", "reddit", "news", "hn", "bsky", "posts", "slack"}
    assert all(line.startswith("OK: ") for line in lines.values()), lines
    assert "recent search for Pixelcart answered with 1 post(s)" in lines["x"]
    assert "app-only token" in lines["reddit"]
    assert "signed in as monitor.bsky.social" in lines["bsky"]
    assert "workspace Acme (T0TEAM)" in lines["slack"]
    assert "1 file(s) readable" in lines["posts"]
    # One request each, read-only: nothing was posted to Slack, one search, one token, one sign-in.
    assert [r["path"] for r in fakes["x"].requests] == ["/2/tweets/search/recent"]
    assert fakes["x"].requests[0]["max_results"] == "10"
    assert fakes["reddit"].token_requests == 1 and fakes["reddit"].requests == []
    assert len(fakes["bluesky"].calls("com.atproto.server.createSession")) == 1
    assert fakes["bluesky"].calls("app.bsky.feed.searchPosts") == []
    assert fakes["slack"].messages == [] and fakes["slack"].calls == {"auth.test": 1}
    assert [r["method"] for r in fakes["feeds"].requests] == ["HEAD"]
    assert len(fakes["hn"].requests) == 1


@pytest.mark.parametrize("variable, value, component, reason, credential", [
    ("X_BEARER_TOKEN", "stale-token", "x", "X rejected the bearer token (401",
     "sources.x.bearer_token from $X_BEARER_TOKEN"),
    ("REDDIT_CLIENT_SECRET", "wrong", "reddit", "Reddit rejected the app credentials",
     "sources.reddit.client_secret from $REDDIT_CLIENT_SECRET"),
    ("BLUESKY_APP_PASSWORD", "aaaa-bbbb-cccc-dddd", "bsky", "Bluesky refused the sign-in",
     "sources.bsky.app_password from $BLUESKY_APP_PASSWORD"),
    ("SLACK_BOT_TOKEN", "xoxb-revoked", "slack", "invalid_auth", "alerts.sinks.slack.token from $SLACK_BOT_TOKEN"),
])
def test_a_failing_credential_is_named_and_the_rest_still_run(tmp_path, httpserver, fakes, variable, value,
                                                              component, reason, credential):
    path = write_config(tmp_path, httpserver, every_source(tmp_path, httpserver), slack_bot(httpserver))
    result = probe(path, {**GOOD_ENV, variable: value})
    assert result.exit_code == 1, result.output
    lines = probe_lines(result.output)
    assert lines[component].startswith("FAILED: ") and reason in lines[component], lines[component]
    assert credential in lines[component]
    assert value not in result.output  # a secret is never printed, even a wrong one
    assert [name for name, line in lines.items() if line.startswith("FAILED")] == [component]


def test_a_user_token_passed_as_the_bot_token_is_refused_by_auth_test(tmp_path, httpserver, fakes):
    """A token can carry the bot prefix and still not be a bot's: auth.test then has no bot_id."""
    fakes["slack"].failures.append(Response('{"ok": true, "team": "Acme", "team_id": "T0TEAM", "user": "ann", '
                                            '"user_id": "U0ANN"}', 200, content_type="application/json"))
    path = write_config(tmp_path, httpserver, {}, slack_bot(httpserver))
    line = probe_lines(probe(path, GOOD_ENV).output)["slack"]
    assert line.startswith("FAILED: auth.test says this token is not a bot's"), line


def test_socket_mode_app_token_is_probed_too(tmp_path, httpserver, fakes):
    socket = FakeSocketMode()
    socket.install(httpserver)
    try:
        path = write_config(tmp_path, httpserver, {}, slack_bot(httpserver, interactivity={
            "mode": "socket", "app_token": "${SLACK_APP_TOKEN}"}))
        good = probe_lines(probe(path, GOOD_ENV).output)["slack"]
        bad = probe_lines(probe(path, {**GOOD_ENV, "SLACK_APP_TOKEN": "xapp-1-A0-1-wrong"}).output)["slack"]
    finally:
        socket.close()
    assert good.startswith("OK: ") and "app-level token opens Socket Mode connections" in good
    assert bad.startswith("FAILED: the app-level token (interactivity.app_token) fails"), bad
    assert "alerts.sinks.slack.interactivity.app_token from $SLACK_APP_TOKEN" in bad


def test_webhook_is_probed_without_posting(tmp_path, httpserver, fakes):
    httpserver.expect_request("/services/T000/B000/DEAD", method="POST").respond_with_response(
        Response("invalid_token", 403, content_type="text/html"))
    live = {"hook": {"type": "slack", "webhook_url": "${SLACK_WEBHOOK_URL}"}}
    path = write_config(tmp_path, httpserver, {}, live)
    ok = probe(path, {"SLACK_WEBHOOK_URL": httpserver.url_for(FakeSlack.WEBHOOK_PATH)})
    dead = probe(path, {"SLACK_WEBHOOK_URL": httpserver.url_for("/services/T000/B000/DEAD")})
    assert ok.exit_code == 0 and probe_lines(ok.output)["hook"].startswith("OK: incoming webhook URL is live")
    assert fakes["slack"].webhook_posts == []
    assert dead.exit_code == 1
    line = probe_lines(dead.output)["hook"]
    assert "invalid_token" in line and "alerts.sinks.hook.webhook_url from $SLACK_WEBHOOK_URL" in line


@pytest.mark.parametrize("make_source, expected", [
    (lambda tmp, url: {"type": "file", "path": str(tmp / "missing.jsonl")}, "missing.jsonl does not exist"),
    (lambda tmp, url: {"type": "rss", "feeds": [url("/feeds/gone")]}, "404"),
    (lambda tmp, url: {"type": "hackernews", "api_base_url": url("/nothing-here/")}, "Hacker News search"),
    (lambda tmp, url: {"type": "mastodon", "instances": [{"url": url("").rstrip("/")}], "tags": {
        "Pixelcart": ["pixelcart"]}}, "refused to show its hashtag timeline (401)"),
])
def test_broken_settings_fail_the_probe_with_a_reason(tmp_path, httpserver, fakes, make_source, expected):
    mastodon = FakeMastodon()
    mastodon.token = "needs-one"
    mastodon.install(httpserver)
    path = write_config(tmp_path, httpserver, {"it": make_source(tmp_path, httpserver.url_for)},
                        {"console": {"type": "console"}})
    result = probe(path, {})
    line = probe_lines(result.output)["it"]
    assert result.exit_code == 1 and line.startswith("FAILED: ") and expected in line, line
    assert "credentials" not in line  # these sources have none to blame


def test_a_feed_that_refuses_head_is_read_once_instead(tmp_path, httpserver, fakes):
    httpserver.expect_request("/plain-feed", method="HEAD").respond_with_response(Response("", 405))
    httpserver.expect_request("/plain-feed", method="GET").respond_with_response(
        Response("<rss version='2.0'><channel><title>t</title></channel></rss>", 200,
                 content_type="application/rss+xml"))
    path = write_config(tmp_path, httpserver, {"feed": {"type": "rss", "feeds": [httpserver.url_for("/plain-feed")]}},
                        {"console": {"type": "console"}})
    line = probe_lines(probe(path, {}).output)["feed"]
    assert line.startswith("OK: feeds answered:") and "200, application/rss+xml" in line, line


def test_without_probe_no_request_is_made(tmp_path, httpserver, fakes):
    path = write_config(tmp_path, httpserver, every_source(tmp_path, httpserver), slack_bot(httpserver))
    result = CliRunner().invoke(cli, ["--config", path, "check-config"], env=GOOD_ENV)
    assert result.exit_code == 0 and "probes" not in result.output
    assert fakes["x"].requests == [] and fakes["slack"].calls == {} and fakes["reddit"].token_requests == 0


def test_every_source_and_sink_type_has_its_own_probe():
    """A new component type must say how to check its settings (or say there is nothing remote)."""
    from monitor import registry
    from monitor.components import Connector, Sink

    local = {"console", "test-recording"}  # the console writes to standard output: nothing remote to check
    for name in registry.connectors.names():
        cls = registry.connectors.get(name)
        assert cls.probe is not Connector.probe or name.startswith("test"), name
    for name in registry.sinks.names():
        cls = registry.sinks.get(name)
        assert cls.probe is not Sink.probe or name in local, name


def test_review_stores_and_mastodon_answer_their_probes(tmp_path, httpserver, fakes):
    from tests.fake_sources import FakeAppStore, FakeGooglePlay

    store, play, mastodon = FakeAppStore(), FakeGooglePlay(), FakeMastodon()
    for fake in (store, play, mastodon):
        fake.install(httpserver)
    store.review("1234567890", "Crashes", "crashes at login since the update", 1)
    store.review("1234567890", "Fine", "works", 5)
    play.review("com.pixelcart.app", "crashes at checkout", 1)
    mastodon.status("<p>#pixelcart down again</p>", ["pixelcart"])
    base = httpserver.url_for("/").rstrip("/")
    path = write_config(tmp_path, httpserver, {
        "apple": {"type": "appstore", "api_base_url": base, "apps": [{"id": "1234567890", "brand": "Pixelcart"}]},
        "play": {"type": "googleplay", "api_base_url": base, "apps": [{"id": "com.pixelcart.app",
                                                                      "brand": "Pixelcart"}]},
        "toots": {"type": "mastodon", "instances": [{"url": base}], "tags": {"Pixelcart": ["pixelcart"]}},
    }, {"console": {"type": "console"}})
    result = probe(path, {})
    lines = probe_lines(result.output)
    assert result.exit_code == 0, result.output
    assert lines["apple"] == "OK: App Store answered for 1234567890 (2 reviews on its first page in us)"
    assert lines["play"] == "OK: Google Play answered for com.pixelcart.app (1 reviews on its first page in us)"
    assert lines["toots"].startswith("OK: hashtag timelines readable on ") and "#pixelcart: 1 post(s)" in lines["toots"]
    assert lines["console"] == "OK: nothing remote to check"
    assert len(store.requests) == len(play.requests) == len(mastodon.requests) == 1
