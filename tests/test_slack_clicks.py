"""Who may press a case button, and where: real signed requests over a socket to the running endpoint, the
real slack-bolt and slack_sdk answering through the local Slack stand-in."""
from __future__ import annotations

import logging
import threading
import time
import urllib.request

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.model import CaseAction
from tests.fake_apis import FakeSlack, block_action, signed_request
from tests.support import write_jsonl
from tests.test_sink_slack import (
    ENV,
    buttons,
    case_in,
    complaints,
    fake_slack,  # noqa: F401 - the fixture
    interactive,
    post,
    slack,
    wait_for,
)


@pytest.fixture
def desk(tmp_path, db_url, httpserver, fake_slack):  # noqa: F811 - the fixture above
    """A service with two delivered alerts (two cases) and its endpoint; closed after the test."""
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(2))
    yield svc, server, httpserver.url_for("")
    server.stop()
    svc.close()


def click(base: str, case_id: int, ts: str, action: str = "claim", user: str = "U0ANN", **over) -> dict:
    payload = block_action(base, case_id, action, user, ts)
    payload["response_url"] = f"{base.rstrip('/')}/actions/T0TEAM/{abs(case_id) % 10**6}/hook"
    for key, value in over.items():
        payload[key] = value
    return payload


def refusals(fake: FakeSlack) -> list[str]:
    return [r["text"] for r in fake.responses if r.get("response_type") == "ephemeral"]


def test_a_click_from_another_workspace_changes_nothing(desk, fake_slack):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    foreign = click(base, case_in(first), first["ts"], team={"id": "T0OTHER", "domain": "evil"})
    foreign["user"]["team_id"] = "T0OTHER"
    assert post(server, *signed_request(foreign)) == 200  # acknowledged, as Slack requires
    assert wait_for(lambda: refusals(fake_slack))
    assert refusals(fake_slack) == ["This monitor answers clicks from its own workspace only."]
    assert svc.store.cases.get(case_in(first)).status == "open" and fake_slack.updates == []


def test_a_button_from_another_message_or_channel_changes_nothing(desk, fake_slack):  # noqa: F811
    svc, server, base = desk
    first, second = fake_slack.messages
    wrong_message = click(base, case_in(first), second["ts"])  # case 1's number on case 2's message
    wrong_channel = click(base, case_in(first), first["ts"])
    wrong_channel["container"]["channel_id"] = "C0ELSEWHERE"
    for forged in (wrong_message, wrong_channel):
        assert post(server, *signed_request(forged)) == 200
    assert wait_for(lambda: len(refusals(fake_slack)) == 2)
    assert refusals(fake_slack) == ["That button is not on this case's alert."] * 2
    assert svc.store.cases.get(case_in(first)).status == "open" and fake_slack.updates == []
    right = click(base, case_in(first), first["ts"])
    assert post(server, *signed_request(right)) == 200
    assert wait_for(lambda: len(fake_slack.updates) == 1)
    assert svc.store.cases.get(case_in(first)).status == "claimed"


def test_only_allowed_users_and_group_members_may_act(tmp_path, db_url, httpserver, fake_slack):  # noqa: F811
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(2),
                              interactivity={"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}",
                                             "allowed_users": ["U0ANN"], "allowed_usergroups": ["S0SUPPORT"]})
    base = httpserver.url_for("")
    first, second = fake_slack.messages
    try:
        assert post(server, *signed_request(click(base, case_in(first), first["ts"], user="U0MALLORY"))) == 200
        assert wait_for(lambda: refusals(fake_slack))
        assert refusals(fake_slack) == ["Only the support team can act on cases from Slack: ask an admin to add you."]
        assert svc.store.cases.get(case_in(first)).status == "open"
        asked = fake_slack.calls["auth.test"]
        assert post(server, *signed_request(click(base, case_in(first), first["ts"], user="U0ANN"))) == 200
        assert post(server, *signed_request(click(base, case_in(second), second["ts"], user="U0CAROL"))) == 200
        assert wait_for(lambda: len(fake_slack.updates) == 2)
        assert {svc.store.cases.get(case_in(m)).claimed_by for m in (first, second)} == {"<@U0ANN>", "<@U0CAROL>"}
        assert post(server, *signed_request(click(base, case_in(second), second["ts"], "resolve", "U0DAN"))) == 200
        assert wait_for(lambda: svc.store.cases.get(case_in(second)).status == "resolved")
        assert fake_slack.calls["usergroups.users.list"] == 1  # members remembered between clicks
        assert fake_slack.calls["auth.test"] == asked          # and the workspace too
    finally:
        server.stop()
        svc.close()


@pytest.mark.parametrize("user", ["U> <!channel", "", "u0lower", "U0ANN\n<!here>", "B0BOT", "U" + "A" * 40])
def test_a_user_id_that_is_not_slacks_shape_is_refused_and_never_stored(desk, fake_slack, user):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    assert post(server, *signed_request(click(base, case_in(first), first["ts"], user=user))) == 200
    assert wait_for(lambda: refusals(fake_slack))
    assert refusals(fake_slack) == ["That click did not say who made it."]
    assert svc.store.cases.history(case_in(first)) == []


def test_a_replayed_click_is_refused_even_after_the_case_moved_on(desk, fake_slack):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    case_id = case_in(first)
    captured = signed_request(click(base, case_id, first["ts"]))
    assert post(server, *captured) == 200
    assert wait_for(lambda: svc.store.cases.get(case_id).status == "claimed")
    svc.desk.act(CaseAction(case_id, "resolve", "ann", "cli"))
    svc.desk.act(CaseAction(case_id, "reopen", "ann", "cli"))
    assert post(server, *captured) == 401  # the same bytes again, inside the 5-minute window
    time.sleep(0.3)
    assert svc.store.cases.get(case_id).status == "open"
    assert [e["action"] for e in svc.store.cases.history(case_id)] == ["claim", "resolve", "reopen"]


def test_a_label_button_counts_only_on_this_bots_message(desk, fake_slack):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    mention_id = svc.store.outbox.alert(1).mention_id
    forged = click(base, 0, first["ts"], message={"type": "message", "ts": first["ts"], "bot_id": "B0SOMEONE"})
    forged["actions"] = [{"type": "button", "action_id": "label_not", "block_id": f"label_{mention_id}",
                          "value": str(mention_id), "text": {"type": "plain_text", "text": "Not a complaint"},
                          "action_ts": "1.0"}]
    assert post(server, *signed_request(forged)) == 200
    assert wait_for(lambda: refusals(fake_slack))
    assert refusals(fake_slack) == ["That button is not on a message from this monitor."]
    assert list(svc.store.labels.newest()) == []


def test_clicks_wait_for_slack_to_confirm_the_workspace(desk, fake_slack):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    fake_slack.down = True  # auth.test cannot answer: the workspace is unknown, so no click is trusted
    assert post(server, *signed_request(click(base, case_in(first), first["ts"]))) == 200
    time.sleep(0.5)
    assert svc.store.cases.get(case_in(first)).status == "open" and fake_slack.updates == []
    fake_slack.down = False
    assert post(server, *signed_request(click(base, case_in(first), first["ts"], user="U0BOB"))) == 200
    assert wait_for(lambda: svc.store.cases.get(case_in(first)).status == "claimed")


def test_a_number_too_large_for_any_row_is_no_such_case(desk, fake_slack, caplog):  # noqa: F811
    svc, server, base = desk
    first = fake_slack.messages[0]
    huge = click(base, 0, first["ts"])
    huge["actions"][0]["value"] = "9" * 400
    with caplog.at_level(logging.INFO):
        assert post(server, *signed_request(huge)) == 200
        assert wait_for(lambda: fake_slack.responses)
    assert [r["text"] for r in fake_slack.responses] == ["there is no case with that number"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("args, said", [
    (["case", "9" * 400, "claim", "--as", "ann"], "there is no case with that number"),
    (["case", "0", "claim", "--as", "ann"], "there is no case with that number"),
    (["case", "--as", "ann", "--", "-5", "claim"], "there is no case with that number"),
    (["label", "9" * 40, "not", "--as", "ann"], "there is no stored post with that number"),
    (["alerts", "retry", "--id", str(2**63)], "there is no dead alert with that number"),
])
def test_the_cli_says_no_such_row_for_a_number_no_row_can_have(tmp_path, db_url, caplog, args, said):
    import yaml

    from tests.support import BRANDS

    write_jsonl(tmp_path / "feed.jsonl", [])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url or f"sqlite:///{tmp_path / 'm.db'}"},
                                    "brands": BRANDS, "alerts": {"sinks": {"console": {}}},
                                    "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}}}))
    with caplog.at_level(logging.INFO):
        result = CliRunner().invoke(cli, ["--config", str(path), *args])
    assert said in result.output and result.exit_code == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_desk_says_no_such_case_or_post_for_out_of_range_numbers(desk):
    from monitor.model import MAX_ROW_ID, LabelAction

    svc, _, _ = desk
    for case_id in (0, -1, MAX_ROW_ID + 1, 10**400):
        result = svc.desk.act(CaseAction(case_id, "claim", "ann", "cli"))
        assert (result.changed, result.message) == (False, "there is no case with that number")
    assert svc.desk.act(CaseAction(MAX_ROW_ID, "claim", "ann", "cli")).message == f"there is no case {MAX_ROW_ID}"
    result = svc.desk.act(LabelAction(10**30, True, "ann", "cli"))
    assert (result.changed, result.message) == (False, "there is no stored post with that number")


def test_an_unsigned_megabyte_is_refused_without_logging_it_and_health_stays_up(desk, fake_slack, caplog):  # noqa: F811
    svc, server, _ = desk
    hostile = ("a://b:" + "c" * 999_994).encode()  # what froze the old log redactor for hours
    probes: list[int] = []

    def probe() -> None:
        for _ in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5) as answer:
                probes.append(answer.status)
            time.sleep(0.05)

    with caplog.at_level(logging.DEBUG):
        prober = threading.Thread(target=probe)
        prober.start()
        status = post(server, hostile, {"Content-Type": "application/x-www-form-urlencoded",
                                        "X-Slack-Request-Timestamp": str(int(time.time())),
                                        "X-Slack-Signature": "v0=" + "0" * 64})
        prober.join(10)
    assert status == 401 and probes == [200] * 5
    assert "cccccccc" not in caplog.text  # no part of an unverified body reached any log
    assert "bad signature or a stale timestamp" in caplog.text


def test_buttons_config_takes_only_slack_ids(tmp_path, db_url, httpserver):
    from monitor.config import ConfigError
    from tests.support import build_config

    write_jsonl(tmp_path / "feed.jsonl", [])
    sink = slack(httpserver, interactivity={"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}",
                                            "allowed_users": ["U0ANN", "@ann"], "allowed_usergroups": ["support"]})
    with pytest.raises(ConfigError) as error:
        build_config(tmp_path, db_url, environ={**ENV, "SLACK_SIGNING_SECRET": "s" * 32},
                     alerts={"sinks": {"slack": sink}})
    text = str(error.value)
    assert "interactivity.allowed_users" in text and "@ann" in text
    assert "interactivity.allowed_usergroups" in text and "support" in text


def test_alerts_still_carry_buttons_with_an_allow_list(tmp_path, db_url, httpserver, fake_slack):  # noqa: F811
    svc, server = interactive(tmp_path, db_url, httpserver, complaints(1),
                              interactivity={"mode": "http", "signing_secret": "${SLACK_SIGNING_SECRET}",
                                             "allowed_users": ["U0ANN"]})
    try:
        assert buttons(fake_slack.messages[0]) == ["case_claim", "case_resolve", "case_dismiss"]
    finally:
        server.stop()
        svc.close()


def test_starting_with_buttons_logs_no_library_warning(monkeypatch, caplog):
    from slack_sdk import WebClient

    from alerts._slack_actions import SlackActions

    monkeypatch.setenv("SLACK_BOT_TOKEN", FakeSlack.TOKEN)  # what bolt read and warned about at every start
    with caplog.at_level(logging.INFO):
        SlackActions(WebClient(token=FakeSlack.TOKEN, base_url="http://127.0.0.1:9/"), lambda request: None,
                     "8f742231b10e8888abcd99yyyzzz85a5")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
