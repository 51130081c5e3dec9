"""The daily digest: exact figures from a seeded database across days and timezones, charts, HTML,
CSV, idempotency, Slack upload through the real client, the schedule, and export."""
from __future__ import annotations

import csv
import io
import json
import struct
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.sections import SlaConfig
from monitor.digest import export
from monitor.digest.charts import topics_png, trend_png
from monitor.digest.figures import brand_day, day_bounds
from monitor.digest.report import render_html, render_text, response_lines
from monitor.digest.runner import DigestRunner
from monitor.model import Route
from monitor.store.schema import bursts, cases, digest_runs, mentions, outbox
from tests.fake_apis import FakeSlack
from tests.support import BRANDS, build_config

TZ = "America/New_York"
DAY = date(2026, 11, 20)
UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (utc time, source, compound, complaint topic or None, author, reach)
SEED = [
    # 2026-11-20 in New York (UTC-5): 05:00Z .. next day 04:59Z
    ("2026-11-20T05:00:00", "x", -0.60, "billing", "ann", 9000),
    ("2026-11-20T12:00:00", "x", -0.30, "billing", "bob", 100),
    ("2026-11-20T15:00:00", "reddit", 0.00, "delivery", "cy", 50),
    ("2026-11-20T18:00:00", "reddit", 0.50, None, "dee", 10),
    ("2026-11-21T04:59:00", "x", 0.70, None, "eve", 5),          # 23:59 local: still the 20th
    # 2026-11-19 local
    ("2026-11-20T04:30:00", "x", -0.50, "outage", "fay", 1),    # 23:30 local on the 19th
    ("2026-11-19T12:00:00", "x", 0.20, None, "gus", 1),
    ("2026-11-19T13:00:00", "x", 0.20, None, "hal", 1),
    ("2026-11-19T14:00:00", "x", 0.00, None, "ida", 1),
    # 2026-11-15 local: two negatives for the 7-day baseline
    ("2026-11-15T15:00:00", "x", -0.40, None, "jo", 1),
    ("2026-11-15T16:00:00", "x", -0.70, None, "kim", 1),
    # 2026-11-01 local: outside the baseline and the trend
    ("2026-11-01T15:00:00", "x", -0.90, None, "lou", 1),
]


def row(i, when, source, compound, topic, author, reach, brand="Pixelcart"):
    return {"source": source, "external_id": f"m{i}", "brand": brand, "author": author, "author_reach": reach,
            "url": f"https://example.com/{i}", "text": f"post {i} about pixelcart", "language": "en",
            "created_at": at(when), "fetched_at": at(when), "compound": compound, "positive": 0.0, "neutral": 0.0,
            "negative": 0.0, "is_complaint": topic is not None, "confidence": 0.9 if topic else 0.1,
            "reasons": [], "topic": topic or "other", "priority": 50.0}


@pytest.fixture
def seeded(store):
    for i, item in enumerate(SEED):
        r = row(i, *item)
        routes = [[Route("support", "rec", None)]] if r["is_complaint"] else [[]]
        store.mentions.store_batch(r["source"], [r], routes, {}, read=1, rejected=0)
    store.mentions.store_batch("x", [row(99, "2026-11-20T15:00:00", "x", -0.9, "billing", "zed", 1, brand="Northwind Air")],
                      [[]], {}, read=1, rejected=0)
    with store.db.engine.begin() as conn:
        # Alerts for the 20th: delivered 60 s and 180 s after publication, one still pending.
        ids = {r.external_id: r.id for r in conn.execute(sa.text("SELECT id, external_id FROM mentions"))}
        for ext, delay in (("m0", 60), ("m1", 180)):
            conn.execute(sa.update(outbox).where(outbox.c.mention_id == ids[ext]).values(
                status="delivered", delivered_at=at(SEED[int(ext[1:])][0]) + timedelta(seconds=delay)))
        burst_id = conn.execute(sa.insert(bursts).values(
            route="support", brand="Pixelcart", started_at=at("2026-11-20T12:00:00"),
            last_at=at("2026-11-20T15:00:00"), message_ref="123.456").returning(bursts.c.id)).scalar_one()
        conn.execute(sa.update(outbox).where(outbox.c.mention_id.in_([ids["m1"], ids["m2"]]))
                     .values(burst_id=burst_id))
    return store


def test_figures_match_the_database_exactly(seeded):
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ)
    assert d.volume_by_source == {"x": 3, "reddit": 2}
    assert d.sentiment == {"positive": 2, "neutral": 1, "negative": 2}
    assert d.previous_shares == {"positive": 0.5, "neutral": 0.25, "negative": 0.25}
    assert d.baseline_shares == pytest.approx({"positive": 2 / 6, "neutral": 1 / 6, "negative": 3 / 6})
    assert d.complaints == 3 and d.complaint_rate == pytest.approx(0.6)
    assert d.topics == [("billing", 2), ("delivery", 1)]
    assert d.pareto() == [("billing", 2, pytest.approx(2 / 3)), ("delivery", 1, 1.0)]
    assert [p["author"] for p in d.top_negative] == ["ann", "bob"]
    assert (d.alerts_delivered, d.alerts_pending, d.alerts_dead) == (2, 1, 0)
    assert d.median_alert_delay == 120.0
    [spike] = d.spikes
    assert spike["complaints"] == 2 and spike["started"].tzinfo == ZoneInfo(TZ) and spike["started"].hour == 7
    assert len(d.trend) == 14 and d.trend[-1].day == DAY and d.trend[-1].volume == 5
    assert d.trend[-2].volume == 4 and d.trend[-2].negative == 1 and d.trend[0].day == date(2026, 11, 7)
    assert sum(p.volume for p in d.trend) == 11  # the 1 Nov post is outside the 14 days


def test_same_data_in_another_timezone_splits_days_differently(seeded):
    d = brand_day(seeded.db, "Pixelcart", DAY, "UTC")
    # In UTC the 20th holds 04:30, 05:00, 12:00, 15:00, 18:00 and not the 21st 04:59.
    assert d.volume == 5 and d.volume_by_source == {"x": 3, "reddit": 2}
    assert d.sentiment["negative"] == 3


def test_a_25_hour_day_at_the_dst_change_counts_its_last_hour(store):
    # New York leaves daylight time on 1 Nov 2026: that local day runs 04:00Z to 05:00Z next day (25 hours).
    late = row(1, "2026-11-02T04:30:00", "x", -0.5, "billing", "ann", 1)  # 23:30 local on the 1st
    early = row(2, "2026-11-01T04:30:00", "x", 0.2, None, "bob", 1)       # 00:30 local on the 1st
    store.mentions.store_batch("x", [late, early], [[], []], {}, read=2, rejected=0)
    first = brand_day(store.db, "Pixelcart", date(2026, 11, 1), TZ)
    assert first.volume == 2 and first.sentiment["negative"] == 1 and first.trend[-1].volume == 2
    second = brand_day(store.db, "Pixelcart", date(2026, 11, 2), TZ)
    assert second.volume == 0 and second.trend[-2].volume == 2 and second.trend[-2].negative == 1


def test_text_shows_changes_pareto_spike_and_delivery(seeded):
    text = render_text(brand_day(seeded.db, "Pixelcart", DAY, TZ))
    assert "Mentions: 5 (reddit 2, x 3)" in text
    assert "Negative: 2 (40%; +15.0 pts vs previous day, -10.0 pts vs 7-day average)" in text
    assert "billing 2 (67% cumulative)" in text and "Spike: 2 complaints from 07:00 to 10:00" in text
    assert "2 delivered, 1 pending, 0 dead; median time from post to alert 2 min" in text


def test_empty_day_says_so(store):
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert "No mentions of Pixelcart" in render_text(d)
    assert trend_png(d).startswith(b"\x89PNG") and topics_png(d).startswith(b"\x89PNG")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_charts_are_pngs_of_the_expected_size(seeded):
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ)
    assert png_size(trend_png(d)) == (800, 400)
    assert png_size(topics_png(d)) == (800, 400)


def test_html_is_self_contained_and_escapes_posts(seeded):
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ)
    d.top_negative[0]["text"] = "<script>alert(1)</script>"
    page = render_html(d, trend_png(d), topics_png(d))
    assert page.count('src="data:image/png;base64,') == 2
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    assert "&lt;script&gt;" in page and "Pixelcart" in page and "billing" in page


def test_file_target_writes_html_and_csv_once_per_day(seeded, tmp_path):
    config = build_config(tmp_path, digest={"timezone": TZ, "directory": str(tmp_path / "digests")})
    runner = DigestRunner(config, {}, db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"], targets=["file"]) == 1
    html_path = tmp_path / "digests" / "pixelcart" / "2026-11-20.html"
    rows = list(csv.DictReader((tmp_path / "digests" / "pixelcart" / "2026-11-20.csv").open()))
    assert html_path.exists() and len(rows) == 5 and {r["source"] for r in rows} == {"x", "reddit"}
    assert runner.run(day=DAY, brands=["Pixelcart"], targets=["file"]) == 0  # already sent: idempotent
    assert runner.run(day=DAY, brands=["Pixelcart"], targets=["file"], force=True) == 1


def test_slack_target_posts_summary_and_uploads_charts(seeded, tmp_path, httpserver):
    fake = FakeSlack()
    fake.install(httpserver)
    config = build_config(tmp_path, environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN},
                          alerts={"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                                      "api_base_url": httpserver.url_for("/api/"),
                                                      "min_interval": "0s"}}},
                          digest={"timezone": TZ, "targets": ["slack"], "sink": "slack", "channel": "C0SUPPORT"})
    from alerts.slack import SlackSink

    sink = SlackSink("slack", config.sinks["slack"].config)
    runner = DigestRunner(config, {"slack": sink}, db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 1
    [summary] = fake.messages
    assert summary["channel"] == "C0SUPPORT" and "Daily digest: Pixelcart" in json.dumps(summary["blocks"])
    assert "Spike: 2 complaints" in json.dumps(summary["blocks"])
    uploaded = list(fake.files.values())
    assert [f["filename"] for f in uploaded] == ["pixelcart-2026-11-20-trend.png", "pixelcart-2026-11-20-topics.png"]
    assert all(png_size(f["content"]) == (800, 400) and f["length"] == len(f["content"]) for f in uploaded)
    assert all(f["channel"] == "C0SUPPORT" and f["thread_ts"] == summary["ts"] for f in uploaded)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 0  # once per brand and day, across restarts too


def test_schedule_fires_at_the_local_time(tmp_path):
    from monitor.service import MonitorService

    config = build_config(tmp_path, digest={"time": "08:30", "timezone": "Asia/Tokyo"})
    svc = MonitorService(config)
    scheduler = svc.build_scheduler()
    scheduler.start(paused=True)
    try:
        fire = scheduler.get_job("digest").next_run_time.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (fire.hour, fire.minute) == (8, 30)
        now = datetime.now(ZoneInfo("Asia/Tokyo"))
        assert timedelta(0) < fire - now <= timedelta(days=1)
    finally:
        scheduler.shutdown(wait=False)
        svc.close()


def test_digest_and_export_commands(tmp_path, store):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": store.url}, "brands": BRANDS, "sources": {"f": {"type": "file", "path": "x.jsonl"}},
        "digest": {"timezone": TZ, "directory": str(tmp_path / "out")}}))
    for i, item in enumerate(SEED):
        store.mentions.store_batch(item[1], [row(i, *item)], [[]], {}, read=1, rejected=0)
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(path), "digest", "--date", "2026-11-20", "--brand", "pixelcart"])
    assert out.exit_code == 0 and "Mentions: 5" in out.output
    files = runner.invoke(cli, ["--config", str(path), "digest", "--date", "2026-11-20", "--to", "file"])
    assert files.exit_code == 0 and (tmp_path / "out" / "northwind-air" / "2026-11-20.html").exists()
    again = runner.invoke(cli, ["--config", str(path), "digest", "--date", "2026-11-20", "--to", "file"])
    assert again.exit_code == 1 and "already sent" in again.output
    exported = runner.invoke(cli, ["--config", str(path), "export", "--since", "2026-11-19", "--until",
                                   "2026-11-20", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 9 and rows[0]["created_at"] < rows[-1]["created_at"]
    jsonl = runner.invoke(cli, ["--config", str(path), "export", "--since", "2026-11-20T05:00:00+00:00",
                                "--until", "2026-11-20T13:00:00+00:00", "--format", "jsonl", "--brand", "Pixelcart"])
    assert [json.loads(x)["external_id"] for x in jsonl.stdout.splitlines()] == ["m0", "m1"]


def slack_digest_config(tmp_path, httpserver):
    return build_config(tmp_path, environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN},
                        alerts={"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                                    "api_base_url": httpserver.url_for("/api/"),
                                                    "min_interval": "0s"}}},
                        digest={"timezone": TZ, "targets": ["slack"], "sink": "slack", "channel": "C0SUPPORT"})


def test_slack_upload_failing_midway_fails_cleanly_and_stays_retryable(seeded, tmp_path, httpserver):
    from alerts.slack import SlackSink

    fake = FakeSlack()
    fake.install(httpserver)
    fake.upload_url_missing = True  # Slack answers ok, but gives no URL to upload the chart to
    config = slack_digest_config(tmp_path, httpserver)
    runner = DigestRunner(config, {"slack": SlackSink("slack", config.sinks["slack"].config)},
                          db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 0
    with seeded.db.engine.connect() as conn:
        assert conn.execute(sa.select(digest_runs)).all() == []  # no reservation left in "sending"
    fake.upload_url_missing = False
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 1  # the next run sends it


def test_upload_file_names_are_slugged(seeded, tmp_path, httpserver):
    from alerts.slack import SlackSink

    fake = FakeSlack()
    fake.install(httpserver)
    config = slack_digest_config(tmp_path, httpserver)
    with seeded.db.engine.begin() as conn:
        conn.execute(sa.update(mentions).where(mentions.c.brand == "Pixelcart").values(brand="../../etc/evil"))
    runner = DigestRunner(config, {"slack": SlackSink("slack", config.sinks["slack"].config)},
                          db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["../../etc/evil"]) == 1
    assert sorted(f["filename"] for f in fake.files.values()) == ["etc-evil-2026-11-20-topics.png",
                                                                  "etc-evil-2026-11-20-trend.png"]


@pytest.mark.parametrize("names, folders", [
    (["Pixel Cart", "日本航空"], ["pixel-cart", "日本航空"]),
    (["Ünïcödé Café", "Pixelcart"], ["ünïcödé-café", "pixelcart"]),
])
def test_each_brand_gets_its_own_readable_folder(tmp_path, store, names, folders):
    for i, name in enumerate(names):
        store.mentions.store_batch("x", [row(i, "2026-11-20T15:00:00", "x", -0.5, "billing", "a", 1, brand=name)],
                                   [[]], {}, read=1, rejected=0)
    brands = [{"name": n, "terms": [f"term{i}"]} for i, n in enumerate(names)]
    config = build_config(tmp_path, brands=brands, digest={"timezone": TZ, "directory": str(tmp_path / "d")})
    runner = DigestRunner(config, {}, db=store.db, mentions=store.mentions, runs=store.digest_runs)
    assert runner.run(day=DAY, targets=["file"]) == 2
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(folders)
    for folder in folders:
        assert (tmp_path / "d" / folder / "2026-11-20.html").exists()


def test_csv_cells_cannot_become_formulas_and_numbers_stay_exact(tmp_path, store):
    hostile = row(1, "2026-11-20T15:00:00", "x", -0.9, "billing", '=HYPERLINK("http://evil.example","click")', 5)
    hostile["text"] = "+1+cmd|' /C calc'!A0 pixelcart"
    hostile["url"] = "@SUM(1+1)"
    store.mentions.store_batch("x", [hostile], [[]], {}, read=1, rejected=0)
    start, end = day_bounds(DAY, TZ)
    out = io.StringIO()
    assert export.write_csv(export.mention_rows(store.mentions, start, end), out) == 1
    [cells] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert cells["author"] == '\'=HYPERLINK("http://evil.example","click")'
    assert cells["text"] == "'+1+cmd|' /C calc'!A0 pixelcart"
    assert cells["url"] == "'@SUM(1+1)"
    assert cells["compound"] == "-0.9" and cells["author_reach"] == "5"  # numeric cells are left as numbers
    lines = io.StringIO()
    export.write_jsonl(export.mention_rows(store.mentions, start, end), lines)
    record = json.loads(lines.getvalue())
    assert record["author"] == '=HYPERLINK("http://evil.example","click")' and record["compound"] == -0.9


def test_a_target_failing_in_an_unexpected_way_is_released_for_the_next_run(seeded, tmp_path):
    from monitor.components import Sink

    class BrokenSink(Sink):
        def send(self, alert):
            raise AssertionError("not used")

        def notify(self, text, channel):
            raise KeyError("upload_url")  # a client library tripping over an answer it did not expect

    config = build_config(tmp_path, alerts={"sinks": {"rec": {"type": "test-recording"}}},
                          digest={"timezone": TZ, "targets": ["slack"], "sink": "rec", "channel": "C1"})
    runner = DigestRunner(config, {"rec": BrokenSink("rec", config.sinks["rec"].config)},
                          db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 0
    with seeded.db.engine.connect() as conn:
        assert conn.execute(sa.select(digest_runs)).all() == []


def test_response_figures_from_the_cases(seeded, tmp_path):
    """The day's cases (New York, 20 Nov): m0 answered in 10 min and resolved, m1 claimed after 60 min and
    still claimed, m2 dismissed after 30 min; m5 was opened the evening before and is still open."""
    plan = {  # external id: (opened, first response, status, closed)
        "m0": ("2026-11-20T05:10:00", "2026-11-20T05:20:00", "resolved", "2026-11-20T06:00:00"),
        "m1": ("2026-11-20T12:05:00", "2026-11-20T13:05:00", "claimed", None),
        "m2": ("2026-11-20T15:05:00", "2026-11-20T15:35:00", "dismissed", "2026-11-20T16:00:00"),
        "m5": ("2026-11-20T04:35:00", None, "open", None),
    }
    with seeded.db.engine.begin() as conn:
        ids = {r.external_id: r.id for r in conn.execute(sa.select(mentions.c.id, mentions.c.external_id))}
        for ext, (opened, first, status, closed) in plan.items():
            conn.execute(sa.update(cases).where(cases.c.mention_id == ids[ext]).values(
                opened_at=at(opened), first_response_at=at(first) if first else None, status=status,
                closed_at=at(closed) if closed else None))
    sla = SlaConfig(first_response=45 * 60)
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ, slas={"support": sla})
    r = d.responses
    assert (r.cases, r.answered, r.median, r.p90) == (3, 3, 30 * 60, 60 * 60)
    assert (r.sla_cases, r.within_sla, r.dismissed, r.backlog) == (3, 2, 1, 2)
    assert r.oldest_open == at("2026-11-20T04:35:00")
    assert [(t.topic, t.cases, t.answered, t.median) for t in r.by_topic] == [
        ("billing", 2, 2, 35 * 60), ("delivery", 1, 1, 30 * 60)]
    assert response_lines(d) == [
        "Responses: 3 of 3 cases answered (100%); time to first response median 30 min, p90 60 min",
        "Within SLA: 2 of 3 (67%) of the cases whose deadline has passed or that were answered",
        "Backlog at the end of the day: 2 case(s) open or claimed, the oldest opened 2026-11-19 23:35",
        "Not complaints (dismissed by the team): 1 of 3 (33%, the detector's false alarms)",
        "By topic: billing 2/2 answered, median 35 min; delivery 1/1 answered, median 30 min"]
    assert response_lines(brand_day(seeded.db, "Northwind Air", DAY, TZ)) == []  # no cases, no lines


def test_posts_worth_a_label_in_the_digest_and_their_slack_buttons(seeded, tmp_path, httpserver):
    from alerts.slack import SlackSink

    unflagged = row(50, "2026-11-20T16:00:00", "x", -0.8, None, "ivy", 3)
    unflagged["text"] = "pixelcart 3 weeks and counting"
    labelled = row(51, "2026-11-20T17:00:00", "x", -0.9, None, "jay", 3)
    seeded.mentions.store_batch("x", [unflagged, labelled], [[], []], {}, read=2, rejected=0)
    with seeded.db.engine.connect() as conn:
        ids = {r.external_id: r.id for r in conn.execute(sa.select(mentions.c.id, mentions.c.external_id))}
    seeded.labels.label_mention(ids["m51"], False, "ann", "cli")  # already has a verdict: not asked again
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ)
    # Every seeded complaint has confidence 0.9: the least certain alerts are then the lowest ids, m0 and m1.
    assert [(p["mention_id"], p["why"]) for p in d.to_label] == [
        (ids["m50"], "possible miss"), (ids["m0"], "uncertain alert"), (ids["m1"], "uncertain alert")]
    assert f"  {ids['m50']} (possible miss): \"pixelcart 3 weeks and counting\"" in render_text(d)
    fake = FakeSlack()
    fake.install(httpserver)
    config = build_config(tmp_path, environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN, "SLACK_SIGNING_SECRET": "s3cret!"},
                          alerts={"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                                      "api_base_url": httpserver.url_for("/api/"), "min_interval": "0s",
                                                      "interactivity": {"mode": "http",
                                                                        "signing_secret": "${SLACK_SIGNING_SECRET}"}}}},
                          digest={"timezone": TZ, "targets": ["slack"], "sink": "slack", "channel": "C0SUPPORT"},
                          service={"http": {"enabled": True}})
    runner = DigestRunner(config, {"slack": SlackSink("slack", config.sinks["slack"].config)},
                          db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 1
    [summary] = fake.messages
    label_actions = [b for b in summary["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in label_actions] == [f"label_{ids['m50']}", f"label_{ids['m0']}",
                                                      f"label_{ids['m1']}"]
    assert [e["action_id"] for e in label_actions[0]["elements"]] == ["label_complaint", "label_not"]
