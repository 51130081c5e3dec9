"""X connector: the real tweepy Client against a local server speaking X API v2."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug import Response

from connectors.x import build_query
from monitor import clock
from monitor.clock import utcnow
from monitor.config import BrandConfig, ConfigError
from monitor.service import MonitorService
from monitor.store.schema import mentions
from tests.fake_apis import FakeX, problem
from tests.support import RecordingSink, build_config, write_jsonl

ENV = {"X_BEARER_TOKEN": FakeX.TOKEN}


@pytest.fixture
def fake_x(httpserver):
    fake = FakeX()
    fake.install(httpserver)
    return fake


def x_source(httpserver, **extra):
    return {"type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": httpserver.url_for("/"), **extra}


def service(tmp_path, db_url, httpserver, environ=ENV, **x_options):
    sources = {"x": x_source(httpserver, **x_options)}
    config = build_config(tmp_path, db_url, environ=environ, sources=sources)
    svc = MonitorService(config)
    svc.prepare()
    return svc


def searches(fake):
    return [r for r in fake.requests if r["path"] == "/2/tweets/search/recent"]


def stored_ids(svc):
    with svc.store.db.engine.connect() as conn:
        return sorted(conn.execute(sa.select(mentions.c.external_id)).scalars())


@pytest.mark.parametrize("brand, query", [
    (BrandConfig(name="P", terms=["pixelcart"]), "pixelcart -is:retweet"),
    (BrandConfig(name="N", terms=["northwind", "northwind air", "@NorthwindAir", "#northwindair"],
                 exclude=["northwind traders", "giveaway"], languages=["en"]),
     '(northwind OR "northwind air" OR @NorthwindAir OR #northwindair) -is:retweet '
     '-"northwind traders" -giveaway lang:en'),
    (BrandConfig(name="Q", terms=['say "hi"', "a-b"], languages=["en", "de"]),
     '("say hi" OR "a-b") -is:retweet (lang:en OR lang:de)'),
    (BrandConfig(name="P", terms=["pixelcart"], own_accounts=["@PixelcartHelp", "pixelcart"]),
     "(pixelcart OR (from:PixelcartHelp is:reply) OR (from:pixelcart is:reply)) -is:retweet"),
])
def test_query_builder(brand, query):
    assert build_query(brand) == query


def test_query_over_the_limit_is_a_config_error(tmp_path):
    terms = [f"brandterm{i:03d}" for i in range(60)]
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, environ=ENV, brands=[{"name": "Big", "terms": terms}],
                     sources={"x": {"type": "x", "bearer_token": "${X_BEARER_TOKEN}"}})
    [message] = info.value.problems
    assert message.startswith("brands[0].terms: the X query for Big is") and "sources.x.query_limit (512)" in message


def test_missing_token_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, sources={"x": {"type": "x", "bearer_token": "${X_BEARER_TOKEN}"}})
    assert info.value.problems == ["sources.x.bearer_token: environment variable X_BEARER_TOKEN is not set"]


def test_two_polls_read_each_post_once_and_second_sends_since_id(tmp_path, db_url, httpserver, fake_x):
    first = [fake_x.post("@pixelcart still no refund after 3 weeks", "ann", 5000),
             fake_x.post("pixelcart delivered early, love it", "bob"),
             fake_x.post("northwind lost my bag and nobody answers", "cy")]
    svc = service(tmp_path, db_url, httpserver)
    [r1] = svc.run_once()
    assert r1.error is None and r1.stored == 3 and r1.alerts == 2
    alert = next(a for a in RecordingSink.sent["rec"] if a.external_id == first[0])
    assert alert.author == "ann" and alert.author_reach == 5000
    assert alert.url == f"https://x.com/ann/status/{first[0]}"
    req = searches(fake_x)[0]
    assert "since_id" not in req and "start_time" in req and req["max_results"] == "100"
    assert {"created_at", "lang", "public_metrics", "conversation_id"} <= set(req["tweet.fields"].split(","))
    assert req["expansions"] == "author_id" and "public_metrics" in req["user.fields"]
    newer = fake_x.post("pixelcart app crashes every time I pay", "dee")
    fake_x.requests.clear()
    [r2] = svc.run_once()
    assert r2.stored == 1 and r2.read == 1 and r2.duplicates == 0
    pixel = next(r for r in searches(fake_x) if "pixelcart" in r["query"])
    assert pixel["since_id"] == first[1]  # the newest Pixelcart post of the first poll
    assert stored_ids(svc) == sorted(first + [newer])
    assert len(RecordingSink.sent["rec"]) == 3
    svc.close()


def test_an_empty_poll_keeps_since_id_for_the_next(tmp_path, db_url, httpserver, fake_x):
    # X answers an empty search with meta {"result_count": 0} and no newest_id: the cursor must not lose its place,
    # or the next poll reads (and is billed for) the last week again.
    first = fake_x.post("pixelcart still no refund", "ann")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    fake_x.requests.clear()
    [quiet] = svc.run_once()
    assert quiet.read == 0 and searches(fake_x)[0]["since_id"] == first
    fake_x.requests.clear()
    [after] = svc.run_once()
    pixel = next(r for r in searches(fake_x) if "pixelcart" in r["query"])
    assert pixel["since_id"] == first and "start_time" not in pixel
    assert after.read == 0 and after.duplicates == 0
    svc.close()


def test_each_tweet_field_lands_in_the_stored_mention(tmp_path, db_url, httpserver, fake_x):
    # One page as X v2 can send it: a tweet whose author is missing from includes (suspended since), an element
    # without an id, a quote (not a reply) and a reply, beside an ordinary tweet.
    body = {"data": [
        {"id": "11", "text": "pixelcart lost my parcel", "author_id": "501", "lang": "es",
         "created_at": "2026-11-27T10:15:30.000Z", "edit_history_tweet_ids": ["11"]},
        {"id": "12", "text": "pixelcart still no refund", "author_id": "999", "lang": "en",
         "created_at": "2026-11-27T10:16:00.000Z", "edit_history_tweet_ids": ["12"],
         "referenced_tweets": [{"type": "quoted", "id": "7"}]},
        {"text": "pixelcart without an id"},
        {"id": "13", "text": "@pixelcart same here", "author_id": "501", "lang": "en",
         "created_at": "2026-11-27T10:17:00.000Z", "edit_history_tweet_ids": ["13"],
         "referenced_tweets": [{"type": "quoted", "id": "7"}, {"type": "replied_to", "id": "8"}]}],
        "includes": {"users": [{"id": "501", "username": "ann", "name": "Ann",
                                "public_metrics": {"followers_count": 4321}}]},
        "meta": {"result_count": 4, "newest_id": "13", "oldest_id": "11"}}
    fake_x.failures.append(Response(json.dumps(body), 200, content_type="application/json"))
    svc = service(tmp_path, db_url, httpserver)
    x_result = svc.run_once()[0]
    assert x_result.stored == 3 and x_result.rejected == 1
    with svc.store.db.engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(sa.select(mentions))}
    first, orphan = rows["11"], rows["12"]
    assert (first.author, first.author_reach, first.language) == ("ann", 4321, "es")
    assert first.created_at == datetime(2026, 11, 27, 10, 15, 30, tzinfo=UTC)
    assert first.url == "https://x.com/ann/status/11"
    assert (orphan.author, orphan.author_reach, orphan.url) == ("", 0, "https://x.com/i/status/12")
    assert orphan.created_at == datetime(2026, 11, 27, 10, 16, tzinfo=UTC)
    assert [rows[i].brand for i in ("11", "12", "13")] == ["Pixelcart"] * 3
    svc.close()


def test_a_first_run_that_finds_nothing_keeps_its_start_and_never_asks_past_seven_days(tmp_path, db_url,
                                                                                      httpserver, fake_x):
    svc = service(tmp_path, db_url, httpserver, backfill="2h")
    # The first run, three hours ago, found nothing: each quiet poll since asks from the same start, so a post
    # indexed late inside that window is still found (the window does not slide with the clock).
    three_hours_ago = (utcnow() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with svc.store.db.engine.begin() as conn:
        svc.store.sources.save_cursor(conn, "x", {"search:Pixelcart": json.dumps({"start_time": three_hours_ago})})
    for _ in range(2):
        fake_x.requests.clear()
        svc.run_once()
        assert next(r for r in searches(fake_x) if "pixelcart" in r["query"])["start_time"] == three_hours_ago
    # A cursor from a first run ten days ago that never found anything: recent search reaches back 7 days only.
    ten_days_ago = (utcnow() - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with svc.store.db.engine.begin() as conn:
        svc.store.sources.save_cursor(conn, "x", {"search:Pixelcart": json.dumps({"start_time": ten_days_ago})})
    fake_x.requests.clear()
    svc.run_once()
    sent = next(r for r in searches(fake_x) if "pixelcart" in r["query"])["start_time"]
    limit = utcnow() - timedelta(days=6, hours=23)
    assert abs(datetime.fromisoformat(sent.replace("Z", "+00:00")) - limit) < timedelta(minutes=1)
    svc.close()


def test_the_mentions_timeline_pages_with_its_own_token(tmp_path, db_url, httpserver, fake_x):
    ids = [fake_x.post(f"@northwindair bag {i} lost", f"u{i}", mentions_of="900") for i in range(25)]
    svc = service(tmp_path, db_url, httpserver, own_mentions=True, max_results=10, max_pages=5)
    [r] = svc.run_once()
    assert r.error is None and sorted(ids) == [i for i in stored_ids(svc) if i in ids]
    pages = [q for q in fake_x.requests if q["path"] == "/2/users/900/mentions"]
    assert len(pages) == 3 and "pagination_token" in pages[1] and "next_token" not in pages[1]
    svc.close()


def test_pagination_is_capped_per_poll_and_resumed(tmp_path, db_url, httpserver, fake_x):
    ids = [fake_x.post(f"pixelcart order {i} is late", f"u{i}") for i in range(25)]
    svc = service(tmp_path, db_url, httpserver, max_results=10, max_pages=2)
    [r1] = svc.run_once()
    assert r1.stored == 20
    fake_x.post("pixelcart is down again??", "late")
    fake_x.requests.clear()
    [r2] = svc.run_once()
    # The unfinished pagination is finished first (5 older posts); the new one waits for the next poll.
    assert r2.stored == 5 and "next_token" in searches(fake_x)[0] and "since_id" not in searches(fake_x)[0]
    fake_x.requests.clear()
    [r3] = svc.run_once()
    assert r3.stored == 1 and searches(fake_x)[0]["since_id"] == ids[-1]
    assert len(stored_ids(svc)) == 26
    svc.close()


def test_empty_results_cost_one_request_per_brand(tmp_path, db_url, httpserver, fake_x):
    svc = service(tmp_path, db_url, httpserver)
    [r] = svc.run_once()
    assert r.error is None and r.stored == 0 and len(searches(fake_x)) == 2
    svc.close()


def test_rate_limit_pauses_only_this_source_then_recovers(tmp_path, db_url, httpserver, fake_x, clock_at):
    now = clock_at(clock.SYSTEM.utcnow(), tick=True)
    fake_x.post("pixelcart still broken")
    reset = int(clock.timestamp()) + 30  # far enough ahead that a slow first poll is still inside the window
    fake_x.failures.append(problem(429, "Too Many Requests", "Too Many Requests",
                                   {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}))
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "f1", "text": "pixelcart charged me twice"}])
    config = build_config(tmp_path, db_url, environ=ENV, sources={
        "x": x_source(httpserver), "feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}})
    svc = MonitorService(config)
    svc.prepare()
    x, feed = svc.run_once()
    assert "rate limit" in x.error and feed.stored == 1
    before = len(fake_x.requests)
    x2, _ = svc.run_once()
    assert x2.skipped and len(fake_x.requests) == before  # no request while paused
    now.set(datetime.fromtimestamp(reset + 1, UTC))  # past the reset
    x3, _ = svc.run_once()
    assert x3.error is None and x3.stored == 1
    assert svc.store.sources.health()[1]["consecutive_failures"] == 0
    svc.close()


def test_unauthorized_marks_source_unhealthy_with_the_fix(tmp_path, db_url, httpserver, fake_x):
    svc = service(tmp_path, db_url, httpserver, environ={"X_BEARER_TOKEN": "revoked"})
    [r] = svc.run_once()
    assert "401" in r.error and "X_BEARER_TOKEN" in r.error and "revoked" not in r.error
    health = {h["source"]: h for h in svc.store.sources.health()}["x"]
    assert health["unhealthy"] and health["consecutive_failures"] == 1
    svc.close()


def test_forbidden_names_the_access_problem(tmp_path, db_url, httpserver, fake_x):
    fake_x.failures.append(problem(403, "Client Forbidden", "This request must be made using an approved "
                                   "developer account that is enrolled in the requested endpoint."))
    svc = service(tmp_path, db_url, httpserver)
    [r] = svc.run_once()
    assert "403" in r.error and "plan" in r.error and "enrolled" in r.error
    svc.close()


@pytest.mark.parametrize("failure, expected", [
    (Response("upstream exploded", 503), "X server error 503"),
    (Response("<html>not json</html>", 200, content_type="application/json"), "malformed"),
    (Response('{"data": "nope", "meta": {}}', 200, content_type="application/json"),
     "X returned a malformed response (data is str)"),
])
def test_server_errors_and_bad_bodies_fail_the_poll_and_lose_nothing(tmp_path, db_url, httpserver, fake_x,
                                                                     failure, expected):
    fake_x.post("pixelcart still no refund")
    fake_x.failures.append(failure)
    svc = service(tmp_path, db_url, httpserver)
    [r1] = svc.run_once()
    assert expected in r1.error
    health = {h["source"]: h for h in svc.store.sources.health()}["x"]
    assert not health["unhealthy"]
    [r2] = svc.run_once()  # first failure: retried at the next run
    assert r2.error is None and r2.stored == 1
    svc.close()


def test_network_error_is_a_source_error(tmp_path, db_url):
    config = build_config(tmp_path, db_url, environ=ENV, sources={"x": {
        "type": "x", "bearer_token": "${X_BEARER_TOKEN}", "api_base_url": "http://127.0.0.1:9", "timeout": "2s"}})
    svc = MonitorService(config)
    svc.prepare()
    [r] = svc.run_once()
    assert "cannot reach the X API" in r.error
    svc.close()


def test_restart_reads_nothing_twice_and_misses_nothing(tmp_path, db_url, httpserver, fake_x):
    fake_x.post("pixelcart lost my parcel")
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    svc.close()
    newer = fake_x.post("pixelcart charged me twice")
    svc = service(tmp_path, db_url, httpserver)  # new process state, same database
    fake_x.requests.clear()
    [r] = svc.run_once()
    assert r.read == 1 and r.stored == 1 and [a.external_id for a in RecordingSink.sent["rec"]] == [newer]
    assert all("since_id" in q for q in searches(fake_x) if "pixelcart" in q["query"])
    svc.close()


def test_monthly_budget_pauses_the_source_and_counts_reads(tmp_path, db_url, httpserver, fake_x):
    for i in range(30):
        fake_x.post(f"pixelcart order {i} never arrived")
    svc = service(tmp_path, db_url, httpserver, max_results=10, monthly_post_budget=15)
    [r] = svc.run_once()
    assert r.stored == 10 and "monthly post budget reached: 10 of 15" in r.error
    assert svc.store.usage.month()["x"] == {"posts_read": 10, "requests": 1}
    before = len(fake_x.requests)
    [again] = svc.run_once()
    assert again.skipped and len(fake_x.requests) == before
    svc.close()
    svc = service(tmp_path, db_url, httpserver, max_results=10, monthly_post_budget=15)  # restart: still paused
    [after_restart] = svc.run_once()
    assert after_restart.skipped and len(fake_x.requests) == before
    svc.close()


def test_own_account_mentions_timeline(tmp_path, db_url, httpserver, fake_x):
    mention = fake_x.post("@northwindair my flight was cancelled and no refund", "eve", mentions_of="900")
    svc = service(tmp_path, db_url, httpserver, own_mentions=True)
    [r] = svc.run_once()
    assert r.error is None and mention in stored_ids(svc)
    paths = [q["path"] for q in fake_x.requests]
    assert "/2/users/by/username/northwindair" in paths and "/2/users/900/mentions" in paths
    fake_x.requests.clear()
    svc.run_once()
    assert "/2/users/by/username/northwindair" not in [q["path"] for q in fake_x.requests]  # id is cached
    svc.close()


def test_unknown_own_account_is_unhealthy(tmp_path, db_url, httpserver, fake_x):
    config = build_config(tmp_path, db_url, environ=ENV, sources={"x": x_source(httpserver, own_mentions=True)},
                          brands=[{"name": "Ghost", "terms": ["ghostbrand"], "own_accounts": ["nosuchhandle"]}])
    svc = MonitorService(config)
    svc.prepare()
    [r] = svc.run_once()
    assert "no account @nosuchhandle" in r.error
    health = {h["source"]: h for h in svc.store.sources.health()}["x"]
    assert health["unhealthy"]  # a config mistake: retrying will not fix it
    svc.close()


def test_check_config_and_stats_show_monthly_reads(tmp_path, httpserver, fake_x, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.support import BRANDS

    fake_x.post("pixelcart still no refund")
    monkeypatch.setenv("X_BEARER_TOKEN", FakeX.TOKEN)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
        "sources": {"x": {**x_source(httpserver), "monthly_post_budget": 10000}}}))
    runner = CliRunner()
    assert "API reads this month: 0 of 10,000" in runner.invoke(cli, ["--config", str(path), "check-config"]).output
    assert runner.invoke(cli, ["--config", str(path), "run", "--once"]).exit_code == 0
    assert "API reads this month: 1 of 10,000" in runner.invoke(cli, ["--config", str(path), "check-config"]).output
    assert "x 1 posts in 2 requests" in runner.invoke(cli, ["--config", str(path), "stats"]).output
    monkeypatch.delenv("X_BEARER_TOKEN")
    missing = runner.invoke(cli, ["--config", str(path), "check-config"])
    assert missing.exit_code == 2 and "X_BEARER_TOKEN is not set" in missing.output


def test_the_brands_reply_on_x_answers_the_case_without_an_extra_request(tmp_path, db_url, httpserver, fake_x):
    complaint = fake_x.post("pixelcart charged me twice for one order", username="ann")
    reply = fake_x.post("@ann so sorry about that, check your DMs", username="pixelcart", reply_to=complaint)
    svc = service(tmp_path, db_url, httpserver)
    [result] = svc.run_once()
    assert stored_ids(svc) == [complaint] and result.drop_reasons == {"a public reply by the brand": 1}
    assert len(searches(fake_x)) == 2  # one search per brand, as before: the replies come in the same one
    assert all("referenced_tweets" in q["tweet.fields"] for q in searches(fake_x))
    [case] = svc.store.cases.find()
    assert (case["status"], case["first_response_by"]) == ("claimed", "@pixelcart")
    assert case["public_reply_url"] == f"https://x.com/pixelcart/status/{reply}"
    svc.close()


def test_a_reply_that_also_quotes_answers_only_the_post_it_replies_to(tmp_path, db_url, httpserver, fake_x):
    quoted = fake_x.post("pixelcart app crashes at checkout", username="bob")
    complaint = fake_x.post("pixelcart charged me twice for one order", username="ann")
    fake_x.post("@ann so sorry about that, check your DMs", username="pixelcart", reply_to=complaint)
    fake_x.tweets[-1]["referenced_tweets"].insert(0, {"type": "quoted", "id": quoted})
    svc = service(tmp_path, db_url, httpserver)
    svc.run_once()
    by_author = {c["author"]: c for c in svc.store.cases.find()}
    assert (by_author["ann"]["status"], by_author["ann"]["first_response_by"]) == ("claimed", "@pixelcart")
    assert (by_author["bob"]["status"], by_author["bob"]["first_response_by"]) == ("open", None)
    svc.close()
