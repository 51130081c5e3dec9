"""Other people's data: the retention purge clears text, author and link and keeps every figure; an author's
erasure reaches every table, the database files, the case messages and the digests on disk; an author gets a
copy of what is held. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.clock import utcnow
from monitor.config import ConfigError
from monitor.digest.figures import brand_day
from monitor.model import CaseAction
from monitor.service import MonitorService
from monitor.store.privacy import ERASED_TEXT, EXPIRED_TEXT
from monitor.store.schema import mentions, metadata
from tests.support import RecordingSink, build_config, write_jsonl

HANDLE = "ann_k_1987"


def post(ident: str, text: str, days_ago: float, author: str = "bob", **more) -> dict:
    when = (utcnow() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": ident, "text": text, "author": author, "created_at": when,
            "url": f"https://x.com/{author}/status/{ident}", **more}


POSTS = [
    post("c-old-open", "@pixelcart 40 days and still no refund, nobody answers", 40, author=HANDLE),
    post("c-old-done", "@pixelcart my parcel vanished and support ignores me", 40),
    post("n-old", "pixelcart has a nice new logo", 40),
    post("n-mid", "bought socks at pixelcart today", 10, author=HANDLE),
    post("c-new", "@pixelcart charged twice for order 5512 and no reply", 2, author=HANDLE),
]


def service(tmp_path, db_url, environ=None, **sections):
    write_jsonl(tmp_path / "feed.jsonl", POSTS)
    sections.setdefault("alerts", {"max_age": 0, "sinks": {"rec": {"type": "test-recording"}}})
    svc = MonitorService(build_config(tmp_path, db_url, environ=environ, **sections))
    svc.prepare()
    svc.run_once()
    return svc


def rows(svc) -> dict:
    with svc.store.db.engine.connect() as conn:
        return {r.external_id: r for r in conn.execute(sa.select(mentions))}


def figures(svc, day) -> dict:
    """Every digest figure of the day, the posts it quotes reduced to what is not personal."""
    found = asdict(brand_day(svc.store.db, "Pixelcart", day, "UTC"))
    for key in ("top_complaints", "top_positive"):
        found[key] = [{k: v for k, v in p.items() if k not in ("text", "author", "url")} for p in found[key]]
    found["examples"] = {t: [p.get("priority") for p in posts] for t, posts in found["examples"].items()}
    return found


def test_the_purge_clears_what_outlived_its_retention_and_keeps_every_figure(tmp_path, db_url):
    svc = service(tmp_path, db_url, retention={"mentions": "30d", "non_complaints": "7d"})
    stored = rows(svc)
    done = [a for a in RecordingSink.sent["rec"] if a.external_id == "c-old-done"][0]
    svc.desk.act(CaseAction(done.case.id, "resolve", "dana", "cli"))
    days = {(utcnow() - timedelta(days=d)).date() for d in (40, 10, 2)}
    before = {day: figures(svc, day) for day in days}
    report = svc.store.privacy.purge(svc.config.root.retention)
    after = rows(svc)
    assert report.counts["mentions"] == 3  # the resolved old complaint, the two old non-complaints
    for ident in ("c-old-done", "n-old", "n-mid"):
        assert (after[ident].text, after[ident].author, after[ident].url, after[ident].redacted) == \
            (EXPIRED_TEXT, "", None, "expired")
        assert all("match" not in r and "terms" not in r for r in after[ident].reasons)
    assert after["c-old-open"].text == stored["c-old-open"].text, "a case still open keeps its post"
    assert after["c-new"].text == stored["c-new"].text
    assert {day: figures(svc, day) for day in days} == before
    assert svc.store.privacy.purge(svc.config.root.retention).counts["mentions"] == 0  # nothing twice
    svc.close()


def test_forever_keeps_everything_and_the_dry_run_changes_nothing(tmp_path, db_url):
    svc = service(tmp_path, db_url, retention={"mentions": "forever", "non_complaints": "7d"})
    dry = svc.store.privacy.purge(svc.config.root.retention, dry_run=True)
    assert dry.counts == {"mentions": 2, "replies": 0, "labels": 0}  # the two non-complaints past 7 days
    assert all(r.redacted is None for r in rows(svc).values())
    svc.close()


def test_bare_text_labels_expire_and_redacted_posts_teach_nothing(tmp_path, db_url):
    svc = service(tmp_path, db_url, retention={"labels": "30d"})
    svc.store.labels.import_texts([{"text": "my order never came", "complaint": True}], "dana")
    with svc.store.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE labels SET at = :old"), {"old": utcnow() - timedelta(days=31)})
    assert svc.store.privacy.purge(svc.config.root.retention).counts["labels"] == 1
    svc.store.labels.label_mention(rows(svc)["c-new"].id, True, "dana", "cli")
    svc.store.privacy.erase(HANDLE, None, "dpo")
    assert list(svc.store.labels.newest()) == [], "a label on an erased post is not trained on"
    svc.close()


# Every text column of the schema: either it can hold an author's words or name (and erasure and the purge
# clear it), or it cannot, and why. A new table or column must be sorted here before the suite passes.
PERSONAL = {"mentions.text", "mentions.author", "mentions.url", "mentions.reasons", "labels.text", "replies.text"}
NOT_PERSONAL = {
    "mentions.source": "a configured source name", "mentions.external_id": "the network's post id, kept so an "
    "erased post is not stored again", "mentions.brand": "ours", "mentions.language": "a language code",
    "mentions.topic": "ours", "mentions.redacted": "why the fields are gone",
    "cursors.source": "ours", "cursors.key": "query names", "cursors.value": "cursor state",
    "bursts.route": "ours", "bursts.brand": "ours", "bursts.message_ref": "a Slack message id",
    "outbox.route": "ours", "outbox.sink": "ours", "outbox.channel": "ours", "outbox.status": "ours",
    "outbox.last_error": "the sink's error", "outbox.message_ref": "a Slack message id",
    "outbox.claimed_by": "an instance name", "digest_runs.brand": "ours", "digest_runs.target": "ours",
    "digest_runs.status": "ours", "digest_runs.detail": "a file path or message id",
    "source_health.source": "ours", "source_health.last_error": "an API error", "source_usage.source": "ours",
    "source_usage.period": "a month", "leases.name": "ours", "leases.owner": "an instance",
    "cases.brand": "ours", "cases.status": "ours", "cases.claimed_by": "an agent", "cases.first_response_by":
    "an agent or the brand's account", "cases.closed_by": "an agent", "cases.public_reply_url": "the brand's reply",
    "case_events.action": "ours", "case_events.actor": "an agent", "case_events.origin": "ours",
    "case_events.from_status": "ours", "case_events.to_status": "ours", "labels.brand": "ours",
    "labels.actor": "an agent", "labels.origin": "ours", "label_picks.kind": "ours",
    "models.weights": "numbers", "models.figures": "numbers", "models.activated_by": "an operator",
    "replies.platform": "ours", "replies.fingerprint": "a hash", "replies.key": "an idempotency key",
    "replies.status": "ours", "replies.author": "an agent", "replies.origin": "ours", "replies.approved_by":
    "an agent", "replies.external_id": "the brand's reply id", "replies.url": "the brand's reply",
    "replies.error": "the network's error", "replies.message_ref": "a Slack message id",
    "erasures.actor": "an operator", "erasures.subject": "a hash", "erasures.source": "ours",
    "erasures.counts": "numbers",
    "users.name": "a team member", "users.role": "ours", "users.password_hash": "a hash",
    "web_sessions.token_hash": "a hash", "web_sessions.csrf_token": "a random token",
}


def text_columns() -> set[str]:
    return {f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns
            if isinstance(c.type, (sa.String, sa.Text, sa.JSON)) or "JSON" in type(c.type).__name__}


def test_every_text_column_is_sorted_into_personal_or_not():
    unsorted = text_columns() - PERSONAL - set(NOT_PERSONAL)
    assert unsorted == set(), f"say whether these can hold an author's words or name: {sorted(unsorted)}"
    assert PERSONAL <= text_columns()


def _everything(svc) -> str:
    """Every value of every text column, as one string to search."""
    found = []
    with svc.store.db.engine.connect() as conn:
        for name in sorted(text_columns()):
            table, column = name.split(".")
            found += [json.dumps(v) if not isinstance(v, str) else v
                      for v in conn.execute(sa.select(metadata.tables[table].c[column])).scalars()]
    return "\n".join(found)


def test_forget_erases_an_author_from_every_table_the_files_and_the_digests(tmp_path, db_url):
    digests = tmp_path / "digests"
    svc = service(tmp_path, db_url, digest={"directory": str(digests), "timezone": "UTC"})
    cases = {a.external_id: a.case.id for a in RecordingSink.sent["rec"]}
    svc.store.labels.import_texts([{"text": f"@{HANDLE} says her refund never came", "complaint": True}], "dana")
    svc.store.replies.start(cases["c-new"], "x", f"Sorry @{HANDLE}, refunded", "3kreplyabcdef", "dana", "cli",
                            "sent")
    day = (utcnow() - timedelta(days=2)).date()
    svc.run_digest(day=day)
    written = [p for p in digests.rglob("*") if p.is_file() and p.suffix in (".html", ".csv")]
    assert any("charged twice for order 5512" in p.read_text(encoding="utf-8") for p in written)
    svc.close()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": svc.config.database_url},
                                    "brands": [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"]}],
                                    "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
                                    "digest": {"directory": str(digests), "timezone": "UTC"}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "forget", "--author", f"@{HANDLE.upper()}",
                                      "--as", "dpo@pixelcart"])
    assert result.exit_code == 0, result.output
    assert "erased: 3 post(s), 1 repl(ies), 1 bare-text label(s)" in result.output
    assert "1 digest file(s) rewritten" in result.output
    again = MonitorService(svc.config)
    everything = _everything(again)
    for trace in (HANDLE, "40 days and still no refund", "socks", "charged twice for order 5512",
                  "refund never came"):
        assert trace.lower() not in everything.lower(), f"{trace!r} is still stored"
    assert rows(again)["c-new"].text == ERASED_TEXT and rows(again)["c-old-done"].text != ERASED_TEXT
    if db_url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("monitor.db*"))
        assert HANDLE.encode() not in raw and b"charged twice for order 5512" not in raw, "left in the file"
        # The search index's words too: FTS5 only marks a deleted row's words until its segments are merged.
        assert b"socks" not in raw and b"5512" not in raw, "left in the search index"
    for p in digests.rglob("*"):
        if p.is_file() and p.suffix in (".html", ".csv"):
            assert "charged twice for order 5512" not in p.read_text(encoding="utf-8") and HANDLE not in \
                p.read_text(encoding="utf-8")
    [audit] = again.store.privacy.erasures()
    assert audit["actor"] == "dpo@pixelcart" and audit["counts"]["mentions"] == 3 and HANDLE not in json.dumps(
        audit, default=str)
    assert figures(again, day)["complaints"] == 1, "the erased complaint is still counted, anonymously"
    again.close()


def test_export_subject_hands_over_what_is_held(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": svc.config.database_url},
                                    "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}]}))
    out = tmp_path / "subject.json"
    result = CliRunner().invoke(cli, ["--config", str(path), "export-subject", "--author", HANDLE, "-o", str(out)])
    assert result.exit_code == 0, result.output
    held = json.loads(out.read_text())
    assert sorted(p["external_id"] for p in held["posts"]) == ["c-new", "c-old-open", "n-mid"]
    assert {c["mention_id"] for c in held["cases"]} == {p["id"] for p in held["posts"] if p["is_complaint"]}
    assert "3 post(s), 2 case(s)" in result.output
    svc.close()


@pytest.mark.parametrize("value, problem", [
    ("180", "expected a number of days like 180d, or forever"), ("0d", "expected 1d to 36500d"),
    (True, "expected a number of days"),
])
def test_retention_settings_are_checked(tmp_path, value, problem):
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, retention={"mentions": value})
    assert any(p.startswith("retention.mentions:") and problem in p for p in caught.value.problems)


def test_purge_cli_says_what_it_would_clear(tmp_path, db_url):
    svc = service(tmp_path, db_url)
    svc.close()
    path = Path(tmp_path / "config.yaml")
    path.write_text(yaml.safe_dump({"database": {"url": svc.config.database_url},
                                    "brands": [{"name": "Pixelcart", "terms": ["pixelcart"]}],
                                    "retention": {"non_complaints": "7d"}}))
    dry = CliRunner().invoke(cli, ["--config", str(path), "purge", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.startswith("would clear: 2 post(s)")
    done = CliRunner().invoke(cli, ["--config", str(path), "purge"])
    assert done.exit_code == 0 and done.output.startswith("cleared: 2 post(s)")


def test_forget_edits_the_alert_messages_already_in_slack(tmp_path, db_url, httpserver):
    from tests.fake_apis import FakeSlack
    from tests.test_sink_slack import ENV, slack

    fake = FakeSlack()
    fake.install(httpserver)
    svc = service(tmp_path, db_url, environ=ENV, alerts={"max_age": 0, "sinks": {"slack": slack(httpserver)}})
    assert any("charged twice for order 5512" in json.dumps(m["blocks"]) for m in fake.messages)
    svc.close()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": svc.config.database_url},
                                    "brands": [{"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"]}],
                                    "alerts": {"sinks": {"slack": slack(httpserver)}},
                                    "web": {"base_url": "https://inbox.example.com"}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "forget", "--author", HANDLE, "--as", "dpo"], env=ENV)
    assert result.exit_code == 0, result.output
    edited = {u["ts"]: json.dumps(u["blocks"]) for u in fake.updates}
    quoted = [m for m in fake.messages if HANDLE in json.dumps(m["blocks"])]
    assert quoted and all(m["ts"] in edited for m in quoted), "every message that quoted the author was edited"
    for blocks in edited.values():
        assert ERASED_TEXT in blocks and HANDLE not in blocks and "5512" not in blocks
        assert "https://inbox.example.com/cases/" in blocks  # the edit keeps the link to the case's page
