"""Public replies, whatever the network: posted once however often the button is pressed, settled after a
crash from what the network has, approvals for teams that want them, saved replies, dry runs, answers
given off-platform, and the config that sets it up. Against the Mastodon stand-in on the wire."""
from __future__ import annotations

import threading

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ConfigError
from monitor.model import ReplyRequest
from monitor.service import MonitorService
from monitor.store.schema import replies
from tests.fake_reply_apis import FakeMastodonInstance
from tests.reply_support import case_for, interrupted, notes, reply_service, send
from tests.support import build_config, write_jsonl

POST_URL = "https://other.example/@ann/1134"
POST_URI = "https://other.example/users/ann/statuses/1134"
POSTS = [{"id": POST_URI, "url": POST_URL, "author": "ann@other.example",
          "text": "@pixelcart charged twice for one order and nobody replies to email"}]


@pytest.fixture
def instance(httpserver):
    fake = FakeMastodonInstance()
    fake.install(httpserver)
    fake.remote(POST_URL, POST_URI)
    return fake


def account(httpserver) -> dict:
    return {"instance": httpserver.url_for("").rstrip("/"), "access_token": FakeMastodonInstance.TOKEN}


def service(tmp_path, db_url, httpserver, **section):
    return reply_service(tmp_path, db_url, "mastodon", account(httpserver), POSTS, **section)


def rows(svc) -> list:
    with svc.store.db.engine.connect() as conn:
        return conn.execute(replies.select().order_by(replies.c.id)).all()


def test_a_double_click_posts_once(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    first = send(svc, case_id, "Sorry about the double charge, @ann@other.example: refunded today.")
    again = send(svc, case_id, "Sorry about the double charge,  @ann@other.example: refunded today.")
    assert first.ok and not again.ok and "already posted" in again.message and again.url == first.url
    assert len(instance.posted) == 1
    svc.close()


def test_two_agents_at_once_post_once(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    results = []
    threads = [threading.Thread(target=lambda who=who: results.append(send(svc, case_id, "On it, sorry!", who)))
               for who in ("dana", "eli", "fay")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.ok for r in results) == [False, False, True]
    assert len(instance.posted) == 1 and len(rows(svc)) == 1
    svc.close()


@pytest.mark.parametrize("posted", [True, False], ids=["posted", "not-posted"])
def test_a_restart_settles_an_interrupted_reply_without_posting_again(tmp_path, db_url, httpserver, instance,
                                                                        posted):
    svc = service(tmp_path, db_url, httpserver)
    case_id = case_for(svc, POST_URI)
    restarted, row = interrupted(svc, case_id, "mastodon", "We refunded the second charge.", posted)
    case = restarted.store.cases.get(case_id)
    if posted:
        assert row.status == "sent" and row.url == instance.posted[0]["url"]
        assert case.first_response_by == "dana" and case.public_reply_url == row.url
    else:
        assert row.status == "failed" and case.first_response_at is None
        assert send(restarted, case_id, "We refunded the second charge.").ok  # may be sent again now
    assert len(instance.posted) == 1
    restarted.close()


@pytest.mark.timed_waits
def test_a_timeout_is_not_resent_until_the_network_says(tmp_path, db_url, httpserver, instance):
    svc = reply_service(tmp_path, db_url, "mastodon", {**account(httpserver), "timeout": "1s"}, POSTS)
    case_id = case_for(svc, POST_URI)
    instance.delay = 1.6  # the instance posts it, but answers after the client gave up
    unknown = send(svc, case_id, "Sorry, refund on its way")
    assert not unknown.ok and "did not confirm" in unknown.message
    instance.delay = 0
    again = send(svc, case_id, "Sorry, refund on its way")
    assert not again.ok and "is being posted; wait for it" in again.message
    assert svc.replies.reconcile() == 1  # the next start, or a later attempt, finds it on the instance
    assert rows(svc)[0].status == "sent" and len(instance.posted) == 1
    svc.close()


def test_a_draft_waits_for_an_approver_and_only_their_click_sends(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver, require_approval={"Pixelcart": True}, approvers=["lee", "U0LEAD"])
    case_id = case_for(svc, POST_URI)
    waiting = send(svc, case_id, "So sorry Ann, refund issued", actor="newbie")
    assert waiting.ok and "waits for an approver" in waiting.message and instance.posted == []
    assert any("waits for an approver" in n and "So sorry Ann" in n for n in notes()), "asked in the thread"
    refused = svc.replies.handle(ReplyRequest(case_id, "newbie", "cli", "approve"))
    assert not refused.ok and "only an approver" in refused.message and instance.posted == []
    approved = svc.replies.handle(ReplyRequest(case_id, "<@U0LEAD>", "slack", "approve"))
    assert approved.ok, approved.message
    assert len(instance.posted) == 1 and "So sorry Ann" in instance.posted[0]["content"]
    case = svc.store.cases.get(case_id)
    assert case.first_response_by == "newbie" and rows(svc)[0].approved_by == "<@U0LEAD>"
    assert not svc.replies.handle(ReplyRequest(case_id, "lee", "cli", "approve")).ok  # nothing waits now
    svc.close()


def test_an_approver_sends_at_once_and_can_reject_or_edit_a_draft(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver, require_approval=True, approvers=["lee"])
    case_id = case_for(svc, POST_URI)
    send(svc, case_id, "we will look", actor="newbie")
    rejected = svc.replies.handle(ReplyRequest(case_id, "lee", "cli", "reject"))
    assert rejected.ok and instance.posted == [] and rows(svc)[0].status == "rejected"
    send(svc, case_id, "we will look at it", actor="newbie")
    edited = svc.replies.handle(ReplyRequest(case_id, "lee", "cli", "approve", text="Sorry Ann, refunded today."))
    assert edited.ok and "Sorry Ann, refunded today." in instance.posted[0]["content"]
    svc.close()


def test_saved_replies_fill_author_and_brand(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver,
                  templates={"sorry": "Sorry about this, {author}. {brand} support will DM you today."})
    case_id = case_for(svc, POST_URI)
    preview = svc.replies.handle(ReplyRequest(case_id, "dana", "cli", "preview", template="sorry"))
    assert preview.ok and instance.posted == []
    assert preview.draft == "Sorry about this, @ann@other.example. Pixelcart support will DM you today."
    assert "acmehelp" in preview.message and POST_URL in preview.message
    unknown = svc.replies.handle(ReplyRequest(case_id, "dana", "cli", template="thanks"))
    assert not unknown.ok and "no saved reply 'thanks'" in unknown.message
    svc.close()


def test_an_empty_reply_is_refused(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver)
    result = send(svc, case_for(svc, POST_URI), "   ")
    assert not result.ok and result.message == "the reply is empty" and instance.posted == []
    svc.close()


def test_a_network_without_a_write_api_is_answered_off_platform(tmp_path, db_url):
    write_jsonl(tmp_path / "feed.jsonl", [{"id": "41", "url": "https://news.ycombinator.com/item?id=41",
                                           "author": "pg", "text": "pixelcart double charged me, no reply"}])
    svc = MonitorService(build_config(tmp_path, db_url))
    svc.prepare()
    svc.run_once()
    case_id = case_for(svc, "41")
    result = send(svc, case_id, "Sorry, we refunded it")
    assert not result.ok and result.off_platform == "posts from a file have no network to answer on"
    assert result.link == "https://news.ycombinator.com/item?id=41" and result.draft == "Sorry, we refunded it"
    done = svc.replies.handle(ReplyRequest(case_id, "dana", "cli", "off_platform", text="Sorry, we refunded it"))
    assert done.ok and done.case.first_response_by == "dana" and done.case.status == "claimed"
    assert [e["action"] for e in svc.store.cases.history(case_id)][-1] == "off_platform"
    svc.close()


def test_no_account_for_the_brand_says_what_to_add(tmp_path, db_url, httpserver, instance):
    svc = reply_service(tmp_path, db_url, "x", {"access_token": "t"}, [
        {"id": "1", "author": "zed", "text": "northwind lost my bag again, no answer for 3 days"}])
    [alert] = [a for a in __import__("tests.support").support.RecordingSink.sent["rec"]]
    form = svc.replies.form(alert.case.id)
    assert form.off_platform == ("no X account of Northwind Air is set up to reply: add one under "
                                 "replies.accounts (platform: x)")
    svc.close()


def test_the_cli_replies_dry_runs_and_exits_by_outcome(tmp_path, db_url, httpserver, instance):
    svc = service(tmp_path, db_url, httpserver, templates={"sorry": "Sorry {author}!"})
    case_id = case_for(svc, POST_URI)
    path = tmp_path / "config.yaml"
    raw = {"database": {"url": db_url}, "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]},
                                                   {"name": "Northwind Air", "terms": ["northwind"]}],
           "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"), "platform": "mastodon"}},
           "alerts": {"sinks": {"console": {"type": "console"}}},
           "replies": {"templates": {"sorry": "Sorry {author}!"},
                       "accounts": [{"brand": "Pixelcart", "platform": "mastodon", **account(httpserver)}]}}
    path.write_text(yaml.safe_dump(raw))
    run = CliRunner().invoke
    dry = run(cli, ["--config", str(path), "case", str(case_id), "reply", "--as", "dana", "--template", "sorry",
                    "--dry-run"])
    assert dry.exit_code == 0 and "Sorry @ann@other.example!" in dry.output and instance.posted == []
    sent = run(cli, ["--config", str(path), "case", str(case_id), "reply", "--as", "dana", "--text", "On it!"])
    assert sent.exit_code == 0, sent.output
    assert instance.posted[0]["url"] in sent.output
    again = run(cli, ["--config", str(path), "case", str(case_id), "reply", "--as", "dana", "--text", "On it!"])
    assert again.exit_code == 1 and "already posted" in again.output
    both = run(cli, ["--config", str(path), "case", str(case_id), "reply", "--as", "dana"])
    assert both.exit_code == 2 and "--text or --template" in both.output
    svc.close()


@pytest.mark.parametrize("section, expected", [
    ({"accounts": [{"brand": "Pixelcart", "platform": "myspace"}]}, "replies.accounts[0].platform: unknown reply "
                                                                     "platform type 'myspace'"),
    ({"accounts": [{"brand": "Acme", "platform": "x", "access_token": "t"}]}, "replies.accounts[0].brand: 'Acme' "
                                                                               "is not a configured brand"),
    ({"accounts": [{"brand": "Pixelcart", "platform": "mastodon", "instance": "mastodon.social",
                    "access_token": "t"}]}, "replies.accounts[0].instance"),
    ({"accounts": [{"brand": "Pixelcart", "platform": "x"}]}, "replies.accounts[0].access_token"),
    ({"accounts": [{"brand": "Pixelcart", "platform": "x", "access_token": "a"},
                   {"brand": "Pixelcart", "platform": "x", "access_token": "b"}]},
     "replies.accounts[1]: Pixelcart already has a x account above"),
    ({"templates": {"sorry": "Sorry {name}"}}, "replies.templates: template 'sorry' uses {name}"),
    ({"require_approval": "yes please"}, "replies.require_approval"),
])
def test_config_problems_name_their_key(tmp_path, section, expected):
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, replies=section)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_missing_reply_secret_only_matters_to_commands_that_reply(tmp_path):
    section = {"accounts": [{"brand": "Pixelcart", "platform": "x", "access_token": "${ACME_X_USER_TOKEN}"}]}
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, replies=section)
    assert caught.value.problems == ["replies.accounts[0].access_token: environment variable ACME_X_USER_TOKEN is "
                                     "not set"]
    from monitor.config import parse_config
    raw = {"brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}], "replies": section}
    assert parse_config(raw, "t", environ={}, needs=("sinks",)).reply_accounts == []


def test_check_config_probes_each_reply_account(tmp_path, httpserver, instance):
    path = tmp_path / "config.yaml"
    raw = {"database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": [{"name": "Pixelcart", "terms": ["p"]}],
           "alerts": {"sinks": {"console": {"type": "console"}}},
           "replies": {"accounts": [{"brand": "Pixelcart", "platform": "mastodon", **account(httpserver)}]}}
    path.write_text(yaml.safe_dump(raw))
    ok = CliRunner().invoke(cli, ["--config", str(path), "check-config", "--probe"])
    assert ok.exit_code == 0, ok.output
    assert "replies: no approval needed; 0 approver(s)" in ok.output and "Pixelcart on mastodon" in ok.output
    where = account(httpserver)["instance"]
    assert f"replies.accounts[0] (Pixelcart on mastodon): OK: signed in as @acmehelp on {where}" in ok.output
    assert [r["path"] for r in instance.requests if r["method"] == "POST"] == [], "a probe posts nothing"
    raw["replies"]["accounts"][0]["access_token"] = "${ACME_MASTODON_TOKEN}"
    path.write_text(yaml.safe_dump(raw))
    bad = CliRunner().invoke(cli, ["--config", str(path), "check-config", "--probe"],
                             env={"ACME_MASTODON_TOKEN": "revoked"})
    assert bad.exit_code == 1
    assert "replies.accounts[0] (Pixelcart on mastodon): FAILED" in bad.output
    assert "[credentials: replies.accounts[0].access_token from $ACME_MASTODON_TOKEN]" in bad.output


def test_the_readmes_reply_commands_run_as_shown(tmp_path, db_url, httpserver, instance):
    import re
    import shlex

    from tests.support import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Answering in public\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if re.match(r"^ {4}monitor case ", line)]
    assert len(lines) == 2 and "--dry-run" in lines[0]
    svc = service(tmp_path, db_url, httpserver, templates={"sorry": "Sorry about this, {author}."})
    case_id = case_for(svc, POST_URI)
    path = tmp_path / "config.yaml"
    raw = {"database": {"url": db_url}, "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}],
           "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl"), "platform": "mastodon"}},
           "replies": {"templates": {"sorry": "Sorry about this, {author}."},
                       "accounts": [{"brand": "Pixelcart", "platform": "mastodon", **account(httpserver)}]}}
    path.write_text(yaml.safe_dump(raw))
    for line in lines:
        words = [str(case_id) if w == "42" else w for w in shlex.split(line)[1:]]
        result = CliRunner().invoke(cli, ["--config", str(path), *words])
        assert result.exit_code == 0, f"{line}:\n{result.output}"
    assert [p["content"] for p in instance.posted] == ["<p>Sorry about this, please DM us your order number</p>"]
    svc.close()


def test_a_database_that_goes_away_posts_nothing_and_says_so(tmp_path, httpserver, instance):
    svc = service(tmp_path, None, httpserver)
    case_id = case_for(svc, POST_URI)
    (tmp_path / "monitor.db").unlink()
    svc.store.db.engine.dispose()
    (tmp_path / "monitor.db").mkdir()  # the path can no longer be opened as a database
    result = send(svc, case_id, "Sorry about this")
    assert not result.ok and "its database did not answer" in result.message and instance.posted == []
    svc.close()
