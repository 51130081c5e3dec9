"""Slack sink: the real slack_sdk clients against a local server speaking the Slack Web API."""
from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner

from alerts._pacing import ChannelPacer
from alerts.slack import alert_message, escape, label_blocks, slack_error, spike_message
from monitor.cli import cli
from monitor.clock import utcnow
from monitor.config import ConfigError
from monitor.model import Alert, CaseAction, Spike
from monitor.service import MonitorService
from tests.fake_apis import (
    SIGNING_SECRET,
    FakeSlack,
    block_action,
    block_kit_problem,
    signed_request,
)
from tests.support import BRANDS, build_config, write_jsonl

ENV = {"SLACK_BOT_TOKEN": FakeSlack.TOKEN}
HOSTILE = ("<!channel> <!here> <!everyone> <@U024BE7LH> <!subteam^SAZ94GDB8> <https://evil.example|your invoice> "
           "*Priority: 100* _fake_ `code` & pixelcart still no refund")


@pytest.fixture
def fake_slack(httpserver):
    fake = FakeSlack()
    fake.install(httpserver)
    return fake


def slack(httpserver, **extra):
    return {"type": "slack", "token": "${SLACK_BOT_TOKEN}", "api_base_url": httpserver.url_for("/api/"),
            "default_channel": "C0SUPPORT", "min_interval": "0.02s", **extra}


def service(tmp_path, db_url, httpserver, posts, environ=ENV, delivery=None, **alerts):
    write_jsonl(tmp_path / "feed.jsonl", posts)
    alerts = alerts or {"sinks": {"slack": slack(httpserver)}}
    svc = MonitorService(build_config(tmp_path, db_url, environ=environ, alerts=alerts,
                                      delivery=delivery or {"backoff_base": "1s", "max_attempts": 5}))
    svc.prepare()
    return svc


def complaints(n, prefix="c"):
    return [{"id": f"{prefix}{i}", "text": f"pixelcart order {i} still not delivered", "author": f"user{i}",
             "followers": 10 * i} for i in range(n)]


def sweep_later(svc, seconds=3600):
    """Runs a sweep as if the backoff had passed."""
    return svc.delivery.deliver_due(now=utcnow() + timedelta(seconds=seconds))


def sample_alert(**over) -> Alert:
    base = dict(outbox_id=1, route="support", channel="C0SUPPORT", attempt=1, mention_id=1, source="x",
                brand="Pixelcart", external_id="1", author="ann", author_reach=12000,
                url="https://x.com/ann/status/1", text="still no refund", compound=-0.4, confidence=0.8,
                created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), topic="billing", priority=71.0,
                reasons=[{"rule": "waiting", "label": "waiting", "match": "still no"}], sink="slack")
    base.update(over)
    return Alert(**base)


def test_config_needs_exactly_one_mode(tmp_path):
    with pytest.raises(ConfigError, match="set exactly one of token"):
        build_config(tmp_path, alerts={"sinks": {"slack": {"type": "slack"}}})
    with pytest.raises(ConfigError) as info:
        build_config(tmp_path, alerts={"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}"}}})
    assert info.value.problems == ["alerts.sinks.slack.token: environment variable SLACK_BOT_TOKEN is not set"]


def test_alert_is_posted_with_blocks_token_and_metadata(tmp_path, db_url, httpserver, fake_slack):
    svc = service(tmp_path, db_url, httpserver, complaints(1))
    [r] = svc.run_once()
    assert r.alerts == 1
    [msg] = fake_slack.messages
    assert msg["channel"] == "C0SUPPORT" and msg["metadata"]["event_payload"]["outbox_id"] == 1
    text = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "Pixelcart" in text and "priority" in text and "open post" not in text  # no url in the file post
    assert "still not delivered" in text and "Why: " in text and "waiting (" in text and "VADER" in text
    assert msg["text"].startswith("Complaint about Pixelcart")
    # A post's link must not unfold into a preview of whatever it points at.
    assert msg["unfurl_links"] is False and msg["unfurl_media"] is False
    assert svc.store.stats.summary()["outbox"]["delivered"] == 1
    [post] = [r for r in fake_slack.requests if r["path"] == "/api/chat.postMessage"]
    assert post["authorization"] == f"Bearer {FakeSlack.TOKEN}"
    svc.close()


def test_hostile_post_cannot_mention_link_or_impersonate():
    message = alert_message(sample_alert(text=HOSTILE, author="<!channel>*admin*"))
    dumped = json.dumps(message)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<!subteam", "<https://evil"):
        assert raw not in dumped
    assert "&lt;!channel&gt;" in dumped and "&amp; pixelcart" in dumped
    post_block = message["blocks"][2]["text"]
    assert post_block["type"] == "plain_text"  # no mrkdwn: *Priority: 100* stays literal text
    author = message["blocks"][1]["elements"][1]
    assert author["type"] == "plain_text" and "&lt;!channel&gt;" in author["text"]
    assert "*" not in message["text"] and "<" not in message["text"]


def test_long_post_is_truncated_visibly_within_limits():
    message = alert_message(sample_alert(text="still no refund " * 1000))
    body = message["blocks"][2]["text"]["text"]
    assert len(body) <= 3000 and "[truncated:" in body
    assert len(message["blocks"]) <= 50


def test_link_cannot_break_out_of_its_target():
    message = alert_message(sample_alert(url="https://x.com/a|click here"))
    assert "<https://x.com/a%7Cclick here|open post>" in json.dumps(message["blocks"][1])


def test_outage_then_recovery_delivers_everything_once_oldest_first(tmp_path, db_url, httpserver, fake_slack):
    fake_slack.down = True
    svc = service(tmp_path, db_url, httpserver, complaints(5), delivery={"backoff_base": "1s", "max_attempts": 20,
                                                                          "burst_threshold": 0})
    svc.run_once()
    for _ in range(3):
        sweep_later(svc)
    assert fake_slack.messages == [] and svc.store.stats.summary()["outbox"]["pending"] == 5
    fake_slack.down = False
    for _ in range(3):
        sweep_later(svc)
    ids = [m["metadata"]["event_payload"]["outbox_id"] for m in fake_slack.messages]
    assert ids == [1, 2, 3, 4, 5]
    svc.close()


def test_rate_limit_retry_after_is_honoured(tmp_path, db_url, httpserver, fake_slack):
    fake_slack.failures.append(FakeSlack._fail("ratelimited", 429, {"Retry-After": "1"}))
    svc = service(tmp_path, db_url, httpserver, complaints(3), delivery={"burst_threshold": 0})
    # Slack answered 429 at some moment in [before, after]: the retry is due 1 s later, not sooner.
    before = utcnow()
    svc.run_once()
    after = utcnow()
    assert fake_slack.messages == []  # the sink is left alone for the rest of that sweep
    assert svc.delivery.deliver_due(now=after) == (2, 0)  # the others were due; the limited one waits 1 s
    assert svc.delivery.deliver_due(now=before + timedelta(seconds=0.9)) == (0, 0)  # not before Retry-After
    assert svc.delivery.deliver_due(now=after + timedelta(seconds=1.1)) == (1, 0)
    assert len(fake_slack.messages) == 3
    svc.close()


@pytest.mark.parametrize("environ, channel, expected", [
    ({"SLACK_BOT_TOKEN": "xoxb-revoked"}, "C0SUPPORT", "SLACK_BOT_TOKEN"),
    (ENV, "C0NOPE", "channel_not_found"),
    (ENV, "C0PRIVATE", "/invite the app"),
])
def test_permanent_errors_dead_letter_with_the_fix(tmp_path, db_url, httpserver, fake_slack, environ, channel,
                                                   expected):
    svc = service(tmp_path, db_url, httpserver, complaints(1), environ=environ,
                  sinks={"slack": slack(httpserver, default_channel=channel)})
    svc.run_once()
    [dead] = svc.store.outbox.dead_alerts()
    assert expected in dead["last_error"] and dead["attempts"] == 1
    assert svc.store.outbox.retry_dead() == [dead["id"]]
    svc.close()


def test_server_errors_back_off_and_then_dead_letter(tmp_path, db_url, httpserver, fake_slack):
    fake_slack.down = True
    svc = service(tmp_path, db_url, httpserver, complaints(1), delivery={"backoff_base": "1s", "max_attempts": 3})
    svc.run_once()
    sweep_later(svc)
    sweep_later(svc)
    [dead] = svc.store.outbox.dead_alerts()
    assert dead["attempts"] == 3 and "500" in dead["last_error"]
    svc.close()


def test_kill_mid_delivery_then_restart_posts_no_duplicate(tmp_path, db_url, httpserver, fake_slack):
    svc = service(tmp_path, db_url, httpserver, complaints(3), delivery={"burst_threshold": 0})
    svc.pipeline.poll(svc.connectors["feed"])  # stored, not delivered yet
    # The old process claimed two alerts; it posted the first and died before recording it.
    first = svc.store.outbox.claim_next("old")
    svc.store.outbox.claim_next("old")
    svc.sinks["slack"].send(first)
    svc.close()
    restarted = service(tmp_path, db_url, httpserver, [], delivery={"burst_threshold": 0, "claim_timeout": "0s"})
    restarted.delivery.kick()
    ids = sorted(m["metadata"]["event_payload"]["outbox_id"] for m in fake_slack.messages)
    assert ids == [1, 2, 3]  # each exactly once
    assert restarted.store.stats.summary()["outbox"] == {"pending": 0, "sending": 0, "delivered": 3, "folded": 0,
                                                         "dead": 0, "cancelled": 0}
    restarted.close()


class PacingClock:
    """The pacer's monotonic clock and sleep: sleeping moves it on at once and each turn is recorded."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_burst_of_200_is_one_spike_plus_thread_replies_paced(tmp_path, db_url, httpserver, fake_slack):
    svc = service(tmp_path, db_url, httpserver, complaints(200),
                  delivery={"burst_threshold": 10, "burst_window": "10m"},
                  sinks={"slack": slack(httpserver, min_interval="2s")})
    pacing = PacingClock()
    turns = []
    pacer = ChannelPacer(2.0, monotonic=pacing.monotonic, sleep=pacing.sleep)
    svc.sinks["slack"].pacer = pacer
    real_turn = pacer.wait_turn
    pacer.wait_turn = lambda channel: turns.append((channel, real_turn(channel))) or turns[-1][1]
    [r] = svc.run_once()
    assert r.alerts == 200
    top_level = [m for m in fake_slack.messages if not m.get("thread_ts")]
    [spike] = top_level
    assert "Spike: 200 complaints about Pixelcart" in spike["text"]
    assert "user199" in json.dumps(spike["blocks"])  # top post by reach
    replies = [m for m in fake_slack.messages if m.get("thread_ts") == spike["ts"]]
    # 200 replies would be minutes of posting into one thread: it carries the 20 highest priorities.
    assert len(replies) == 20 and "user199" in json.dumps(replies)
    assert svc.store.stats.summary()["outbox"]["folded"] == 180
    # Every message to the channel took a turn, each turn 2 s after the one before: the sink waited through
    # the pacer (on its clock, so no machine is too slow or too fast for this), never around it.
    assert [channel for channel, _ in turns] == ["C0SUPPORT"] * 21 == [m["channel"] for m in fake_slack.messages]
    assert [b - a for (_, a), (_, b) in itertools.pairwise(turns)] == [2.0] * 20
    assert len(pacing.slept) == 20
    svc.close()


def test_the_pacer_keeps_channels_apart_and_waits_only_for_what_is_left():
    pacing = PacingClock()
    pacer = ChannelPacer(1.0, monotonic=pacing.monotonic, sleep=pacing.sleep)
    assert pacer.wait_turn("C1") == 1000.0 and pacer.wait_turn("C2") == 1000.0  # first turns are free
    pacing.now += 0.25
    assert pacer.wait_turn("C1") == 1001.0 and pacing.slept == [0.75]  # only what was left of the interval
    pacing.now += 5
    assert pacer.wait_turn("C2") == 1006.0 and pacing.slept == [0.75]  # long since due: no wait


def test_the_spike_message_is_edited_in_place_as_the_burst_grows(tmp_path, db_url, httpserver, fake_slack,
                                                                  monkeypatch):
    import monitor.delivery.bursts as grouping

    clock = [1000.0]  # the grouper's edit pacing (once a minute per burst) reads this instead of the real clock
    monkeypatch.setattr(grouping.time, "monotonic", lambda: clock[0])
    svc = service(tmp_path, db_url, httpserver, complaints(12), delivery={"burst_threshold": 10,
                                                                          "burst_window": "10m"},
                  sinks={"slack": slack(httpserver)},
                  routes=[{"name": "incidents", "sink": "slack", "channel": "C0ESCALATE"}])
    svc.run_once()
    [spike] = [m for m in fake_slack.messages if not m.get("thread_ts")]
    assert spike["channel"] == "C0ESCALATE" and "Spike: 12 complaints" in spike["text"]
    write_jsonl(tmp_path / "feed.jsonl", complaints(3, prefix="late"))
    clock[0] += 61
    svc.run_once()
    [update] = fake_slack.updates
    # In the route's channel, not the sink's default one (Slack finds a message by channel and ts).
    assert (update["channel"], update["ts"]) == ("C0ESCALATE", spike["ts"])
    assert "Spike: 15 complaints" in update["text"] and "Spike: 15 complaints" in json.dumps(update["blocks"])
    svc.close()


def test_routes_send_high_priority_to_escalation(tmp_path, db_url, httpserver, fake_slack):
    posts = [{"id": "big", "text": "pixelcart charged me twice, disgraceful", "followers": 2_000_000},
             {"id": "small", "text": "pixelcart order still not here", "followers": 3}]
    svc = service(tmp_path, db_url, httpserver, posts, delivery={"burst_threshold": 0},
                  sinks={"slack": slack(httpserver)},
                  routes=[{"name": "escalation", "sink": "slack", "channel": "C0ESCALATE", "min_priority": 40},
                          {"name": "support", "sink": "slack", "channel": "C0SUPPORT", "fallback": True}])
    svc.run_once()
    by_channel = {m["channel"]: json.dumps(m["blocks"]) for m in fake_slack.messages}
    assert set(by_channel) == {"C0ESCALATE", "C0SUPPORT"} and len(fake_slack.messages) == 2
    # The 2,000,000-follower complaint escalates; the small one goes to the fallback route's channel.
    assert "charged me twice" in by_channel["C0ESCALATE"] and "still not here" not in by_channel["C0ESCALATE"]
    assert "still not here" in by_channel["C0SUPPORT"] and "charged me twice" not in by_channel["C0SUPPORT"]
    svc.close()


def test_webhook_mode(tmp_path, db_url, httpserver, fake_slack):
    url = httpserver.url_for(FakeSlack.WEBHOOK_PATH)
    svc = service(tmp_path, db_url, httpserver, complaints(1), environ={"SLACK_WEBHOOK_URL": url},
                  sinks={"hook": {"type": "slack", "webhook_url": "${SLACK_WEBHOOK_URL}"}})
    svc.run_once()
    [post] = fake_slack.webhook_posts
    assert post["blocks"] and "metadata" not in post
    svc.close()


def test_webhook_gone_is_permanent(tmp_path, db_url, httpserver, fake_slack):
    from werkzeug import Response

    fake_slack.failures.append(Response("no_service", 404))
    url = httpserver.url_for(FakeSlack.WEBHOOK_PATH)
    svc = service(tmp_path, db_url, httpserver, complaints(1), environ={"SLACK_WEBHOOK_URL": url},
                  sinks={"hook": {"type": "slack", "webhook_url": "${SLACK_WEBHOOK_URL}"}})
    svc.run_once()
    [dead] = svc.store.outbox.dead_alerts()
    assert "no_service" in dead["last_error"]
    svc.close()


def test_spike_message_shows_count_topics_and_the_top_three_posts():
    posts = [{"author": "ann", "author_reach": 12000, "text": "x" * 301, "url": "https://x.com/ann/status/1"},
             {"author": "", "author_reach": 5, "text": "y" * 300, "url": None},
             {"author": "cy", "author_reach": 4, "text": "short", "url": "https://x.com/cy/status/3"},
             {"author": "dee", "author_reach": 3, "text": "fourth, not shown", "url": None}]
    spike = Spike(route="support", channel="C0SUPPORT", brand="Pixel & Cart", complaints=40, window_minutes=10,
                  top_topics=[("billing", 30), ("delivery", 10)], top_posts=posts)
    message = spike_message(spike)
    assert block_kit_problem(message["blocks"]) is None
    header, *quoted = message["blocks"]
    assert header == {"type": "section", "text": {"type": "mrkdwn", "text": (
        ":fire: *Spike: 40 complaints about Pixel &amp; Cart* in the last 10 min\nTop topics: billing (30), "
        "delivery (10)\nFurther complaints follow in this thread.")}}
    assert [block["type"] for block in quoted] == ["context"] * 3
    assert quoted[0]["elements"] == [
        {"type": "plain_text", "text": "@ann · 12,000 followers: " + "x" * 300 + "…", "emoji": True},
        {"type": "mrkdwn", "text": "<https://x.com/ann/status/1|open post>"}]
    assert quoted[1]["elements"] == [
        {"type": "plain_text", "text": "@unknown · 5 followers: " + "y" * 300, "emoji": True},  # 300 fits whole
        {"type": "mrkdwn", "text": "no link"}]
    assert quoted[2]["elements"][0]["text"] == "@cy · 4 followers: short"
    assert message["text"] == ("Spike: 40 complaints about Pixel &amp; Cart in the last 10 min. Top topics: billing "
                               "(30), delivery (10). Further complaints of this burst follow as replies.")
    quiet = spike_message(Spike(route="support", channel=None, brand="Pixelcart", complaints=10, window_minutes=1,
                                top_topics=[], top_posts=[]))
    assert "Top topics: none\n" in quiet["blocks"][0]["text"]["text"] and len(quiet["blocks"]) == 1


def test_label_blocks_offer_both_verdicts_for_each_post():
    blocks = label_blocks([{"mention_id": 7, "why": "possible miss", "text": "z" * 401},
                           {"mention_id": 9, "why": "uncertain alert", "text": "<!channel> maybe"}])
    assert block_kit_problem(blocks) is None
    assert blocks[0] == {"type": "section", "text": {"type": "plain_text", "text": "Possible miss: " + "z" * 400,
                                                     "emoji": True}}
    assert blocks[1] == {"type": "actions", "block_id": "label_7", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "This is a complaint"},
         "action_id": "label_complaint", "value": "7", "style": "primary"},
        {"type": "button", "text": {"type": "plain_text", "text": "Not a complaint"},
         "action_id": "label_not", "value": "7"}]}
    assert blocks[2]["text"]["text"] == "Uncertain alert: &lt;!channel&gt; maybe"
    assert blocks[3]["block_id"] == "label_9" and [e["value"] for e in blocks[3]["elements"]] == ["9", "9"]


@pytest.mark.parametrize("status, headers, code, message, retry_after, permanent", [
    (429, {"Retry-After": "7"}, None, "Slack rate limit (429); retry after 7s", 7.0, False),
    (429, {}, None, "Slack rate limit (429); retry after 30s", 30.0, False),  # no header: wait 30 s
    (200, {}, "ratelimited", "Slack rate limit (429); retry after 30s", 30.0, False),
    (500, {}, None, "Slack server error 500", None, False),
    (499, {}, None, "Slack answered 499: error", None, False),
    (200, {}, "not_in_channel", "Slack refused the message (not_in_channel): the bot is not a member", None, True),
    (200, {}, "invalid_blocks", "Slack refused the message (invalid_blocks)", None, False),  # ours to fix, retried
    (200, {}, "some_new_error", "Slack answered 200: some_new_error", None, False),
])
def test_slack_errors_map_to_retry_wait_or_dead_letter(status, headers, code, message, retry_after, permanent):

    error = slack_error(status, headers, code)
    assert str(error).startswith(message)
    assert (error.retry_after, error.permanent) == (retry_after, permanent)


def test_escape():
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"


def test_test_alert_command_goes_through_each_route(tmp_path, httpserver, fake_slack, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.support import BRANDS

    monkeypatch.setenv("SLACK_BOT_TOKEN", FakeSlack.TOKEN)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
        "sources": {"f": {"type": "file", "path": "x.jsonl"}},
        "alerts": {"sinks": {"slack": slack(httpserver)},
                   "routes": [{"name": "support", "sink": "slack", "channel": "C0SUPPORT"},
                              {"name": "broken", "sink": "slack", "channel": "C0NOPE"}]}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "test-alert"])
    assert result.exit_code == 1
    assert "support: sent via slack" in result.output and "broken: FAILED via slack" in result.output
    assert "channel_not_found" in result.output
    [msg] = fake_slack.messages
    assert msg["channel"] == "C0SUPPORT" and "test alert" in json.dumps(msg["blocks"])


def test_hostile_post_over_the_wire(tmp_path, db_url, httpserver, fake_slack):
    svc = service(tmp_path, db_url, httpserver, [{"id": "h", "text": HOSTILE, "author": "<!here>"}],
                  delivery={"burst_threshold": 0})
    svc.run_once()
    [msg] = fake_slack.messages
    received = json.dumps({k: msg[k] for k in ("text", "blocks")})
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<https://evil"):
        assert raw not in received
    assert "&lt;!channel&gt;" in received
    svc.close()



def test_hostile_posts_cannot_ping_through_a_spike(tmp_path, db_url, httpserver, fake_slack):
    # The spike message quotes its top posts: they are as untrusted there as in a single alert.
    posts = [{"id": f"h{i}", "text": f"{HOSTILE} {i}", "author": "<!here>", "followers": 10_000 + i}
             for i in range(12)]
    svc = service(tmp_path, db_url, httpserver, posts, delivery={"burst_threshold": 10, "burst_window": "10m"})
    svc.run_once()
    [spike] = [m for m in fake_slack.messages if not m.get("thread_ts")]
    assert "Spike: " in spike["text"]
    sent = [spike, *fake_slack.updates]
    received = json.dumps([{k: m.get(k) for k in ("text", "blocks")} for m in sent])
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<!subteam", "<https://evil"):
        assert raw not in received
    quoted = [e for b in spike["blocks"] if b["type"] == "context" for e in b["elements"]
              if "refund" in e["text"]]
    assert len(quoted) == 3  # the top three posts, each quoted
    for element in quoted:
        # Shown as written: as plain text (Slack renders no mrkdwn there) and with the controls escaped.
        assert element["type"] == "plain_text" and "&lt;!channel&gt;" in element["text"]
    # All 12 arrive in one sweep, so the spike names its top posts by reach among them: h11, h10, h9.
    assert [e["text"].split(" followers")[0] for e in quoted] == [
        "@&lt;!here&gt; · 10,011", "@&lt;!here&gt; · 10,010", "@&lt;!here&gt; · 10,009"]
    svc.close()

# -- cases: buttons, clicks over HTTP through slack-bolt, chat.update --------------------------------------------

INTERACTIVE_ENV = {**ENV, "SLACK_SIGNING_SECRET": SIGNING_SECRET}


def interactive(tmp_path, db_url, httpserver, posts, **extra):
    write_jsonl(tmp_path / "feed.jsonl", posts)
    buttons_over_http = {"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}"}
    sink = slack(httpserver, **{"interactivity": buttons_over_http, **extra})
    svc = MonitorService(build_config(tmp_path, db_url, environ=INTERACTIVE_ENV, alerts={"sinks": {"slack": sink}},
                                      service={"http": {"enabled": True, "port": 0}}))
    svc.prepare()
    svc.run_once()
    server = svc.start_ops_server()
    return svc, server


def post(server, body: bytes, headers: dict, path: str = "/slack/events") -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def case_in(message: dict) -> int:
    """The case id an alert message's buttons carry."""
    return int(message["blocks"][-1]["elements"][0]["value"])


def buttons(message: dict) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def status_line(message: dict) -> str:
    return next(e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
                if e.get("type") == "mrkdwn" and "Case " in e.get("text", ""))


def test_alerts_carry_their_case_buttons_only_with_interactivity(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    assert buttons(message) == ["case_claim", "case_resolve", "case_dismiss"]
    [case_id] = {e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert "open" in status_line(message) and f"Case {case_id}" in status_line(message)
    server.stop()
    svc.close()
    (tmp_path / "b").mkdir()
    plain_svc = service(tmp_path / "b", db_url, httpserver, complaints(1, prefix="d"))
    plain_svc.run_once()
    assert buttons(fake_slack.messages[-1]) == [] and "open" in status_line(fake_slack.messages[-1])
    plain_svc.close()


def test_a_click_updates_the_message_in_place(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    case_id = case_in(message)
    base = httpserver.url_for("")
    try:
        assert post(server, *signed_request(block_action(base, case_id, "claim", "U0ANN", message["ts"]))) == 200
        assert wait_for(lambda: len(fake_slack.updates) == 1)
        [update] = fake_slack.updates
        assert (update["channel"], update["ts"]) == ("C0SUPPORT", message["ts"])
        assert buttons(update) == ["case_resolve", "case_dismiss"]
        assert f"Case {case_id} · *claimed* by <@U0ANN> at " in status_line(update)
        assert [b for b in update["blocks"] if b["type"] == "section"] == \
            [b for b in message["blocks"] if b["type"] == "section"]  # the escaped post itself is unchanged
        assert post(server, *signed_request(block_action(base, case_id, "resolve", "U0BOB", message["ts"]))) == 200
        assert wait_for(lambda: len(fake_slack.updates) == 2)
        assert buttons(fake_slack.updates[1]) == ["case_reopen"]
        assert "*resolved* by <@U0BOB>" in status_line(fake_slack.updates[1])
        assert fake_slack.responses == []  # nothing to explain: both clicks changed the case
    finally:
        server.stop()
        svc.close()


def test_forged_stale_and_replayed_clicks(tmp_path, db_url, httpserver, fake_slack, caplog):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    case_id = case_in(message)
    click = block_action(httpserver.url_for(""), case_id, "claim", "U0ANN", message["ts"])
    try:
        assert post(server, *signed_request(click, secret="not-the-signing-secret")) == 401
        assert post(server, *signed_request(click, timestamp=int(time.time()) - 6 * 60)) == 401
        body, headers = signed_request(click)
        assert post(server, body, {**headers, "X-Slack-Signature": "v0=" + "0" * 64}) == 401
        time.sleep(0.3)
        assert fake_slack.updates == [] and svc.store.cases.get(case_id).status == "open"
        assert "bad signature or a stale timestamp" in caplog.text
        assert post(server, body, headers) == 200
        assert post(server, body, headers) == 401  # the same signed request again: a replay, refused
        assert "refused a replayed request" in caplog.text
        again = signed_request(click, timestamp=int(time.time()) + 1)  # a second real click: signed anew
        assert post(server, *again) == 200  # acknowledged, changes nothing
        assert wait_for(lambda: len(fake_slack.responses) == 1 and len(fake_slack.updates) == 2)
        [answer] = fake_slack.responses
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        assert answer["text"].startswith(f"Nothing changed: :large_blue_circle: Case {case_id} · *claimed* by <@U0ANN>")
        assert [e["action"] for e in svc.store.cases.history(case_id)] == ["claim"]
        assert post(server, *signed_request(block_action(httpserver.url_for(""), 999999, "claim", "U0ANN",
                                                         message["ts"]))) == 200
        assert wait_for(lambda: len(fake_slack.responses) == 2)
        assert fake_slack.responses[1]["text"] == "there is no case 999999"
    finally:
        server.stop()
        svc.close()


def test_two_agents_clicking_at_once(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    case_id = case_in(message)
    requests = [signed_request(block_action(httpserver.url_for(""), case_id, "claim", user, message["ts"]))
                for user in ("U0ANN", "U0BOB")]
    try:
        threads = [threading.Thread(target=post, args=(server, *r)) for r in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert wait_for(lambda: len(fake_slack.updates) == 2 and len(fake_slack.responses) == 1)
        case = svc.store.cases.get(case_id)
        assert case.status == "claimed" and case.claimed_by in ("<@U0ANN>", "<@U0BOB>")
        assert all(f"by {case.claimed_by}" in status_line(u) for u in fake_slack.updates)  # the final state
        assert [e["actor"] for e in svc.store.cases.history(case_id)] == [case.claimed_by]
    finally:
        server.stop()
        svc.close()


def test_a_change_from_the_command_line_edits_the_slack_message(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    server.stop()
    [message] = fake_slack.messages
    case_id = case_in(message)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": db_url}, "brands": BRANDS, "service": {"http": {"enabled": True, "port": 0}},
        "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
        "alerts": {"sinks": {"slack": slack(httpserver, interactivity={
            "mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}"})}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "case", str(case_id), "dismiss", "--as", "<b>ann</b>"],
                                env=INTERACTIVE_ENV)
    assert result.exit_code == 0, result.output
    [update] = fake_slack.updates
    assert "*not a complaint* (dismissed by &lt;b&gt;ann&lt;/b&gt; at" in status_line(update)  # names escaped
    assert buttons(update) == ["case_reopen"]
    svc.close()


def test_interactivity_needs_a_bot_token_a_secret_and_the_ops_server(tmp_path):
    def problems(sink, **sections):
        with pytest.raises(ConfigError) as info:
            build_config(tmp_path, environ=INTERACTIVE_ENV, alerts={"sinks": {"slack": sink}}, **sections)
        return info.value.problems

    hook = {"type": "slack", "webhook_url": "https://hooks.slack.com/services/T/B/X",
            "interactivity": {"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}"}}
    assert problems(hook, service={"http": {"enabled": True}}) == [
        "alerts.sinks.slack: interactivity needs the bot token: an incoming webhook cannot carry buttons"]
    bot = {"type": "slack", "token": "${SLACK_BOT_TOKEN}", "interactivity": {"mode": "http"}}
    assert problems(bot, service={"http": {"enabled": True}}) == [
        "alerts.sinks.slack: interactivity mode http needs signing_secret: write ${SLACK_SIGNING_SECRET}"]
    bot["interactivity"]["signing_secret"] = "${SLACK_SIGNING_SECRET}"
    assert problems(bot) == ["alerts.sinks.slack: it needs the ops HTTP server: set service.http.enabled: true"]


@pytest.mark.timed_waits
def test_socket_mode_clicks_are_acknowledged_and_applied(tmp_path, db_url, httpserver, fake_slack):
    from tests.fake_apis import FakeSocketMode

    socket_end = FakeSocketMode()
    socket_end.install(httpserver)
    write_jsonl(tmp_path / "feed.jsonl", complaints(1))
    sink = slack(httpserver, interactivity={"mode": "socket", "app_token": "${SLACK_APP_TOKEN}"})
    svc = MonitorService(build_config(tmp_path, db_url, environ={**ENV, "SLACK_APP_TOKEN": FakeSocketMode.APP_TOKEN},
                                      alerts={"sinks": {"slack": sink}}))
    svc.prepare()
    svc.run_once()
    [message] = fake_slack.messages
    case_id = case_in(message)
    try:
        svc.listen()
        assert wait_for(lambda: socket_end.connections == 1)
        first = socket_end.send(block_action(httpserver.url_for(""), case_id, "claim", "U0ANN", message["ts"]))
        assert wait_for(lambda: len(fake_slack.updates) == 1)
        assert wait_for(lambda: any(a.get("envelope_id") == first for a in socket_end.acks))
        assert "*claimed* by <@U0ANN>" in status_line(fake_slack.updates[0])
        second = socket_end.send(block_action(httpserver.url_for(""), case_id, "claim", "U0BOB", message["ts"]))
        assert wait_for(lambda: len(fake_slack.responses) == 1 and any(a.get("envelope_id") == second
                                                                        for a in socket_end.acks))
        assert "claimed* by <@U0ANN>" in fake_slack.responses[0]["text"]  # Bob hears who was first
        assert svc.store.cases.get(case_id).claimed_by == "<@U0ANN>"
    finally:
        svc.close()
        socket_end.close()


def test_check_config_says_how_buttons_work(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"brands": BRANDS, "sources": {"f": {"type": "file", "path": "x"}},
                                    "alerts": {"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                                                   "interactivity": {
                                                                       "mode": "socket",
                                                                       "app_token": "${SLACK_APP_TOKEN}"}}}}}))
    monkeypatch.setenv("SLACK_BOT_TOKEN", FakeSlack.TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-x")
    out = CliRunner().invoke(cli, ["--config", str(path), "check-config"]).output
    assert "slack (slack): enabled; bot token; case buttons over Socket Mode" in out


def test_a_spike_is_a_case_and_closing_it_closes_its_threads_open_cases(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(12),
                              min_interval="0s")
    [spike] = [m for m in fake_slack.messages if not m.get("thread_ts")]
    replies = [m for m in fake_slack.messages if m.get("thread_ts") == spike["ts"]]
    assert spike["text"].startswith("Spike: 12 complaints about Pixelcart") and len(replies) == 12
    spike_case = int(next(b for b in spike["blocks"] if b["type"] == "actions")["elements"][0]["value"])
    assert buttons(spike) == ["case_claim", "case_resolve", "case_dismiss"]
    own = int(replies[0]["blocks"][-1]["elements"][0]["value"])
    svc.desk.act(CaseAction(own, "claim", "<@U0CY>", "slack"))  # one complaint is someone's own now
    fake_slack.updates.clear()
    base = httpserver.url_for("")
    try:
        assert post(server, *signed_request(block_action(base, spike_case, "resolve", "U0ANN", spike["ts"]))) == 200
        assert wait_for(lambda: len(fake_slack.updates) == 12)  # the spike and the 11 unclaimed complaints
        [spike_update] = [u for u in fake_slack.updates if u["ts"] == spike["ts"]]
        assert "*resolved* by <@U0ANN>" in status_line(spike_update) and buttons(spike_update) == ["case_reopen"]
        assert "12 complaints" in spike_update["text"]  # the live count of its thread
        states = {r["id"]: (r["status"], r["closed_by"]) for r in svc.store.cases.find()}
        assert states[own] == ("claimed", None)
        assert sorted(v for k, v in states.items() if k not in (own, spike_case)) == [("resolved", "<@U0ANN>")] * 11
    finally:
        server.stop()
        svc.close()


def test_an_sla_reminder_goes_into_the_alerts_thread(tmp_path, db_url, httpserver, fake_slack):
    routes = [{"name": "support", "sink": "slack", "channel": "C0SUPPORT", "sla": {"first_response": "30m"}}]
    svc = service(tmp_path, db_url, httpserver, complaints(1),
                  sinks={"slack": slack(httpserver, min_interval="0s")}, routes=routes)
    svc.run_once()
    [alert] = fake_slack.messages
    assert svc.sla.sweep(utcnow() + timedelta(minutes=45)) == 1
    reminder = fake_slack.messages[-1]
    assert reminder["thread_ts"] == alert["ts"] and reminder["channel"] == "C0SUPPORT"
    assert reminder["text"].startswith("No response yet: this complaint has waited 4")
    assert reminder["blocks"][0]["text"] == {"type": "plain_text", "emoji": True, "text": reminder["text"]}
    svc.close()


def test_the_alert_says_when_the_brand_answered_publicly():
    from alerts._slack_blocks import case_status
    from monitor.model import CaseState

    opened = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    case = CaseState(id=7, mention_id=1, brand="Pixelcart", status="claimed", opened_at=opened,
                     claimed_by="@pixelcart", claimed_at=opened + timedelta(minutes=14),
                     first_response_at=opened + timedelta(minutes=14), first_response_by="@pixelcart",
                     public_reply_url="https://x.com/pixelcart/status/123")
    assert case_status(case) == (":large_blue_circle: Case 7 · *claimed* by @pixelcart at 10:14 UTC on 20 Nov · "
                                 "answered publicly by @pixelcart after 14 min "
                                 "(<https://x.com/pixelcart/status/123|reply>)")


def test_a_label_button_records_the_verdict_and_thanks_the_agent(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    mention_id = svc.store.outbox.alert(1).mention_id
    click = block_action(httpserver.url_for(""), 0, "claim", "U0ANN", message["ts"])
    click["actions"] = [{"type": "button", "action_id": "label_not", "block_id": f"label_{mention_id}",
                         "value": str(mention_id), "text": {"type": "plain_text", "text": "Not a complaint"},
                         "action_ts": "1.0"}]
    try:
        assert post(server, *signed_request(click)) == 200
        assert wait_for(lambda: len(fake_slack.responses) == 1)
        thanks = fake_slack.responses[0]
        assert thanks["text"].startswith(f"Thanks: post {mention_id} is labelled not a complaint")
        # Only the clicking agent sees it, and the digest message with its buttons stays for the others.
        assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
        [label] = [r for r in svc.store.labels.newest()]
        assert (label["mention_id"], label["complaint"], label["by"], label["origin"]) == \
            (mention_id, False, "<@U0ANN>", "slack")
        click["actions"][0].update(action_id="label_complaint", text={"type": "plain_text",
                                                                      "text": "This is a complaint"})
        assert post(server, *signed_request(click)) == 200
        assert wait_for(lambda: len(fake_slack.responses) == 2)
        assert fake_slack.responses[1]["text"].startswith(f"Thanks: post {mention_id} is labelled a complaint")
        assert [r["complaint"] for r in svc.store.labels.newest()][0] is True  # the newer verdict counts
        click["actions"][0]["value"] = "999999"
        assert post(server, *signed_request(click)) == 200
        assert wait_for(lambda: len(fake_slack.responses) == 3)
        assert fake_slack.responses[2]["text"] == "there is no stored post 999999"
    finally:
        server.stop()
        svc.close()


def test_a_button_that_carries_no_number_is_answered(tmp_path, db_url, httpserver, fake_slack):
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1))
    [message] = fake_slack.messages
    click = block_action(httpserver.url_for(""), 0, "claim", "U0ANN", message["ts"])
    click["actions"][0]["value"] = "not-a-number"
    try:
        assert post(server, *signed_request(click)) == 200
        assert wait_for(lambda: len(fake_slack.responses) == 1)
        assert fake_slack.responses[0]["text"] == "That button does not belong to a case."
        assert fake_slack.updates == []
    finally:
        server.stop()
        svc.close()
