"""The daily digest: exact figures from a seeded database across days and timezones, charts, HTML,
CSV, idempotency, Slack upload through the real client, the schedule, and export."""
from __future__ import annotations

import csv
import io
import json
import struct
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from monitor import clock
from monitor.cli import cli
from monitor.config.sections import SlaConfig
from monitor.digest import export
from monitor.digest.charts import topics_png, trend_png
from monitor.digest.figures import brand_day, day_bounds
from monitor.digest.report import render_html, render_text, response_lines
from monitor.digest.runner import DigestRunner
from monitor.model import Route
from monitor.store.schema import bursts, cases, digest_runs, mentions, outbox
from tests.fake_apis import SIGNING_SECRET, FakeSlack
from tests.support import BRANDS, build_config

TZ = "America/New_York"
DAY = date(2026, 11, 20)
UTC = UTC


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
    store.mentions.store_batch(
        "x",
        [row(99, "2026-11-20T15:00:00", "x", -0.9, "billing", "zed", 1, brand="Northwind Air")],
        [[]],
        {},
        read=1,
        rejected=0,
    )
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
    assert [p["author"] for p in d.top_complaints] == ["ann", "bob", "cy"]  # the detector's, by priority
    assert [p["author"] for p in d.top_positive] == ["dee", "eve"]  # most-read positive, not complaints
    assert {t: [p["author"] for p in posts] for t, posts in d.examples.items()} == {"billing": ["ann", "bob"],
                                                                                      "delivery": ["cy"]}
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
    assert "Mentions (posts naming Pixelcart): 5 (reddit 2, x 3)" in text
    assert "Negative tone (VADER, the words' sentiment): 2 (40%; +15.0 pts vs previous day, -10.0 pts vs " \
           "7-day average)" in text
    assert "Complaints (posts the detector flagged; a complaint need not sound negative): 3 (60.0% of mentions" in text
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


def test_slack_summary_escapes_top_complaints_as_alerts_are(seeded, tmp_path, httpserver):
    fake = FakeSlack()
    fake.install(httpserver)
    with seeded.db.engine.begin() as conn:
        conn.execute(sa.update(mentions).where(mentions.c.external_id == "m0")
                     .values(text="<!channel> pixelcart refund <https://evil.example|click> *now*"))
    config = build_config(tmp_path, environ={"SLACK_BOT_TOKEN": FakeSlack.TOKEN},
                          alerts={"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}",
                                                      "api_base_url": httpserver.url_for("/api/"),
                                                      "min_interval": "0s"}}},
                          digest={"timezone": TZ, "targets": ["slack"], "sink": "slack", "channel": "C0SUPPORT"})
    from alerts.slack import SlackSink

    runner = DigestRunner(config, {"slack": SlackSink("slack", config.sinks["slack"].config)}, db=seeded.db,
                          mentions=seeded.mentions, runs=seeded.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 1
    blocks = json.dumps(fake.messages[0]["blocks"])
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks and "<https://evil" not in blocks


def test_html_is_self_contained_and_escapes_posts(seeded):
    d = brand_day(seeded.db, "Pixelcart", DAY, TZ)
    d.top_complaints[0]["text"] = "<script>alert(1)</script>"
    page = render_html(d, trend_png(d), topics_png(d))
    assert page.count('src="data:image/png;base64,') == 2
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    assert "&lt;script&gt;" in page and "Pixelcart" in page and "billing" in page
    assert "<h3>billing: examples</h3>" in page and "<h3>delivery: examples</h3>" in page


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
    blocks = json.dumps(summary["blocks"])
    assert "Spike: 2 complaints" in blocks and "A quiet day for Pixelcart" in blocks  # the headline leads
    assert "Top complaints:" in blocks and "@ann (billing, priority 50)" in blocks and "@cy (delivery" in blocks
    uploaded = list(fake.files.values())
    assert [f["filename"] for f in uploaded] == ["pixelcart-2026-11-20-trend.png", "pixelcart-2026-11-20-topics.png"]
    assert all(png_size(f["content"]) == (800, 400) and f["length"] == len(f["content"]) for f in uploaded)
    assert all(f["channel"] == "C0SUPPORT" and f["thread_ts"] == summary["ts"] for f in uploaded)
    assert [f["title"] for f in uploaded] == ["Pixelcart: 14-day trend", "Pixelcart: complaint topics"]
    header = "Daily digest: Pixelcart, Fri 20 Nov 2026 (America/New_York)"
    assert summary["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "emoji": True, "text": header}}
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
        now = clock.now("Asia/Tokyo")
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
    assert out.exit_code == 0 and "Mentions (posts naming Pixelcart): 5" in out.output
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


def test_export_writes_every_field_whole_and_keeps_to_the_days_asked(tmp_path, store):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": store.url}, "brands": BRANDS, "sources": {"f": {"type": "file", "path": "x.jsonl"}},
        "digest": {"timezone": TZ}}))
    long_text = "@pixelcart order 5521 \"arrived\" empty, box taped shut, nobody answers, " + "still waiting " * 20
    reasons = [{"rule": "waiting", "label": "still waiting", "match": "still waiting"},
               {"rule": "vader", "label": "negative tone", "score": -0.62},
               {"rule": "rating", "label": "1-star review"}]
    items = [  # (id, UTC time, text): New York is UTC-5, so the 20th runs 05:00Z to 05:00Z the next day
        ("first", "2026-11-20T05:00:00", long_text),
        ("formula", "2026-11-20T16:00:00", "=HYPERLINK(\"http://evil.example\",\"pixelcart refund\")"),
        ("last", "2026-11-21T04:59:59", "pixelcart, line one\nline two"),
        ("next day", "2026-11-21T05:00:00", "pixelcart on the 21st, café ☕ cold"),
        ("day before", "2026-11-20T04:59:59", "pixelcart on the 19th"),
    ]
    for ext, when, text in items:
        mention = {**row(0, when, "x", -0.6, "billing", "ann", 10), "external_id": ext, "text": text,
                   "reasons": reasons, "rating": 2}
        store.mentions.store_batch("x", [mention], [[]], {}, read=1, rejected=0)
    exported = CliRunner().invoke(cli, ["--config", str(path), "export", "--since", "2026-11-20", "--until",
                                        "2026-11-20", "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    assert "3 mention(s) exported" in exported.stderr.splitlines()
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["external_id"] for r in rows] == ["first", "formula", "last"]  # --until's day is whole, not more
    first, formula, last = rows
    # "@" starts a formula in some spreadsheets too, so a leading handle is made inert the same way.
    assert first["text"] == "'" + long_text and last["text"] == "pixelcart, line one\nline two"
    assert first["reasons"] == "waiting:still waiting; vader:-0.62; rating:"
    assert first["created_at"] == "2026-11-20T05:00:00+00:00" and first["rating"] == "2"
    assert (first["brand"], first["author"], first["topic"], first["is_complaint"]) == ("Pixelcart", "ann",
                                                                                          "billing", "True")
    # A spreadsheet must not run a post as a formula: the cell starts with an apostrophe instead.
    assert formula["text"] == "'=HYPERLINK(\"http://evil.example\",\"pixelcart refund\")"
    jsonl = CliRunner().invoke(cli, ["--config", str(path), "export", "--since", "2026-11-20", "--until",
                                     "2026-11-21", "--format", "jsonl"])
    lines = jsonl.stdout.splitlines()
    assert [json.loads(x)["external_id"] for x in lines] == ["first", "formula", "last", "next day"]
    assert json.loads(lines[-1])["reasons"] == reasons
    assert "café ☕ cold" in lines[-1]  # UTF-8 as written, not \u escapes: the file stays readable
    assert "4 mention(s) exported" in jsonl.stderr.splitlines()


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


def test_a_case_whose_post_was_deleted_is_not_counted_as_unanswered(seeded):
    """m0 answered after 10 min; m1 deleted by its author before anyone answered (gone): one case, answered."""
    plan = {"m0": ("2026-11-20T05:10:00", "2026-11-20T05:20:00", "resolved"),
            "m1": ("2026-11-20T12:05:00", None, "gone"), "m2": ("2026-11-20T15:05:00", None, "gone")}
    with seeded.db.engine.begin() as conn:
        ids = {r.external_id: r.id for r in conn.execute(sa.select(mentions.c.id, mentions.c.external_id))}
        for ext, (opened, first, status) in plan.items():
            conn.execute(sa.update(cases).where(cases.c.mention_id == ids[ext]).values(
                opened_at=at(opened), first_response_at=at(first) if first else None, status=status))
    r = brand_day(seeded.db, "Pixelcart", DAY, TZ).responses
    assert (r.cases, r.answered, r.median) == (1, 1, 10 * 60)


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
    secrets = {"SLACK_BOT_TOKEN": FakeSlack.TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    config = build_config(tmp_path, environ=secrets,
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


@pytest.mark.parametrize("counts, percents", [
    ({"positive": 1, "neutral": 1, "negative": 1}, {"positive": 34, "neutral": 33, "negative": 33}),
    ({"positive": 2, "neutral": 2, "negative": 3}, {"positive": 29, "neutral": 28, "negative": 43}),
    ({"positive": 0, "neutral": 5, "negative": 0}, {"positive": 0, "neutral": 100, "negative": 0}),
])
def test_shares_add_up_to_100_by_largest_remainder(counts, percents):
    from monitor.digest.report import whole_percents

    assert whole_percents(counts) == percents and sum(percents.values()) == 100


def seed_days(store, per_day: dict[int, list[tuple[str, str]]], fetched_late: bool = False, first: int = 0,
              source: str = "x") -> None:
    """per_day: days before DAY -> (topic, text) complaints posted at 15:00 UTC that day."""
    rows, n = [], first
    for back, items in per_day.items():
        for topic, text in items:
            n += 1
            r = row(1000 + n, f"{DAY - timedelta(days=back)}T15:00:00", source, -0.3, topic, f"u{n}", 10)
            r["text"] = text
            if fetched_late:
                r["fetched_at"] = r["created_at"] + timedelta(days=3)
            rows.append(r)
    store.mentions.store_batch(source, rows, [[] for _ in rows], {}, read=len(rows), rejected=0)


def test_headline_names_a_topic_beyond_its_usual_range_and_the_words_driving_it(store):
    usual = {back: [("delivery", "pixelcart parcel late"), ("delivery", "pixelcart courier missed me")]
             for back in range(1, 29)}
    today = [("delivery", f"@pixelcart tracking not updating for order {i}") for i in range(9)] + \
        [("delivery", "pixelcart parcel never came"), ("delivery", "where is my parcel pixelcart"),
         ("delivery", "pixelcart tracking not updating since monday")]
    seed_days(store, {**usual, 0: today + [("billing", "pixelcart charged twice")]})
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.headline == [
        "Complaints about delivery 6.0x the usual (12 vs 2 a day), mostly 'tracking not updating'."]
    assert (d.trend[-1].complaints, d.trend[-2].complaints) == (13, 2)  # the complaint-rate line of the chart
    delivery = next(t for t in d.movement.topics if t.topic == "delivery")
    assert (delivery.today, delivery.average, delivery.direction) == (12, 2.0, "up")
    billing = next(t for t in d.movement.topics if t.topic == "billing")
    assert (billing.today, billing.average, billing.direction, billing.news) == (1, 0.0, "up", False)
    assert d.movement.rate14 == pytest.approx((2 * 13 + 13) / (2 * 13 + 13))  # every seeded post is a complaint
    text = render_text(d)
    assert text.splitlines()[1].strip().startswith("Complaints about delivery 6.0x the usual")
    assert "Topic movement (complaints today vs 7-day average): delivery 12 vs 2.0 ↑, billing 1 vs 0.0 ↑" in text


def test_a_day_within_the_usual_range_is_called_quiet(store):
    seed_days(store, {back: [("delivery", "pixelcart parcel late")] * 3 for back in range(0, 29)})
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.headline == ["A quiet day for Pixelcart: 3 complaint(s) against 3 a day usually; nothing "
                                   "moved beyond its normal range."]
    assert [t.direction for t in d.movement.topics] == ["flat"]


def test_complaint_rate_over_14_and_28_days(store):
    seed_days(store, {back: [("delivery", "pixelcart parcel late")] for back in range(0, 28)})
    quiet = [row(5000 + i, f"{DAY - timedelta(days=20)}T15:00:00", "x", 0.5, None, "q", 1) for i in range(28)]
    store.mentions.store_batch("x", quiet, [[] for _ in quiet], {}, read=28, rejected=0)
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.rate14 == pytest.approx(1.0) and d.movement.rate28 == pytest.approx(28 / 56)
    assert "100.0% over 14 days, 50.0% over 28 days" in render_text(d)


def test_post_to_alert_time_counts_only_posts_read_live(store):
    seed_days(store, {0: [("delivery", "pixelcart late a")]})
    seed_days(store, {0: [("delivery", "pixelcart late b")]}, fetched_late=True, first=500)
    with store.db.engine.begin() as conn:
        ids = dict(conn.execute(sa.select(mentions.c.text, mentions.c.id)).all())
        for text, delay in (("pixelcart late a", 120), ("pixelcart late b", 3 * 86400 + 60)):
            created = at(f"{DAY}T15:00:00")
            conn.execute(sa.insert(outbox).values(mention_id=ids[text], route="support", sink="rec",
                                                  status="delivered", attempts=1, next_attempt_at=created,
                                                  created_at=created, delivered_at=created + timedelta(seconds=delay)))
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.alerts_delivered == 2 and d.median_alert_delay == 120.0  # the backfilled one is not a delay


def test_a_high_day_within_the_usual_spread_is_not_news(store):
    # Usually 2 or 8 a day (mean 5, spread 3): today's 8 is 1.6x the mean but only one spread above it.
    seed_days(store, {back: [("delivery", f"pixelcart parcel late {back} {i}") for i in range(2 if back % 2 else 8)]
                      for back in range(1, 29)})
    seed_days(store, {0: [("delivery", f"pixelcart parcel late today {i}") for i in range(8)]}, first=900)
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    [delivery] = d.movement.topics
    assert (delivery.today, delivery.mean28, delivery.spread28) == (8, 5.0, 3.0) and not delivery.news
    assert d.movement.headline[0].startswith("A quiet day for Pixelcart: 8 complaint(s) against 5 a day usually")


@pytest.mark.parametrize("brand, shown", [
    ("Пиксель", "Пиксель"),                    # Cyrillic: the chart font has it
    ("像素购物", "[…]"),                         # no installed font has it: left out, never drawn as boxes
    ("像素 Pixel", "[…] Pixel"),
])
def test_charts_draw_any_brand_name_without_missing_glyph_boxes(store, brand, shown, recwarn):
    from monitor.digest.charts import chart_text

    seed_days(store, {0: [("delivery", "pixelcart parcel late")]})
    with store.db.engine.begin() as conn:
        conn.execute(sa.update(mentions).values(brand=brand))
    d = brand_day(store.db, brand, DAY, TZ)
    assert chart_text(f"{brand}: complaint topics")[0] == f"{shown}: complaint topics"
    assert png_size(trend_png(d)) == (800, 400) and png_size(topics_png(d)) == (800, 400)
    assert not [w for w in recwarn.list if "missing from" in str(w.message)]  # matplotlib's missing-glyph warning


def test_weekly_digest_compares_the_last_7_days_with_the_7_before(store, tmp_path):
    # The week 14-20 Nov has 12 delivery complaints; the week before 3, the three before that 1 each.
    seed_days(store, {back: [("delivery", f"pixelcart tracking not updating {back} {i}") for i in range(2)]
                      for back in range(0, 5)})
    seed_days(store, {back: [("delivery", f"pixelcart tracking not updating {back}")] for back in (5, 6)}, first=100)
    seed_days(store, {back: [("delivery", f"pixelcart parcel late {back}")] for back in (7, 9, 11)}, first=200)
    seed_days(store, {back: [("delivery", f"pixelcart parcel late {back}")] for back in (14, 21, 28)}, first=300)
    d = brand_day(store.db, "Pixelcart", DAY, TZ, days=7)
    assert (d.first_day, d.day, d.complaints) == (date(2026, 11, 14), DAY, 12)
    [delivery] = d.movement.topics
    assert (delivery.today, delivery.average, delivery.direction) == (12, 3.0, "up")
    assert [p.day for p in d.trend] == [date(2026, 10, 17), date(2026, 10, 24), date(2026, 10, 31),
                                        date(2026, 11, 7), date(2026, 11, 14)]
    assert [p.complaints for p in d.trend] == [1, 1, 1, 3, 12]
    assert (delivery.mean28, d.movement.rate14) == (1.5, 1.0)  # the movement table compares with last week only
    assert d.movement.headline == [
        "Complaints about delivery 4.0x the usual (12 vs 3 a week), mostly 'tracking not updating'."]
    text = render_text(d)
    assert text.startswith("Pixelcart · week 14 Nov – 20 Nov 2026 (America/New_York)")
    assert "Topic movement (complaints this week vs last week): delivery 12 vs 3.0 ↑" in text
    assert "vs previous week" in text and "vs 4-week average" in text
    config = build_config(tmp_path, digest={"timezone": TZ, "targets": ["file"], "directory": str(tmp_path / "d")})
    runner = DigestRunner(config, {}, db=store.db, mentions=store.mentions, runs=store.digest_runs)
    assert runner.run(day=DAY, brands=["Pixelcart"], weekly=True) == 1
    assert runner.run(day=DAY, brands=["Pixelcart"]) == 1  # the daily digest of the same day is its own run
    assert runner.run(day=DAY, brands=["Pixelcart"], weekly=True) == 0  # once per brand and week
    assert sorted(p.name for p in (tmp_path / "d" / "pixelcart").iterdir()) == [
        "2026-11-20-week.csv", "2026-11-20-week.html", "2026-11-20.csv", "2026-11-20.html"]


def test_the_weekly_digest_is_scheduled_on_its_day(tmp_path):
    from monitor.service import MonitorService

    svc = MonitorService(build_config(tmp_path, digest={"time": "08:30", "timezone": TZ, "weekly": "monday"}))
    scheduler = svc.build_scheduler()
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("weekly-digest")
        fire = job.next_run_time.astimezone(ZoneInfo(TZ))
        assert (fire.weekday(), fire.hour, fire.minute) == (0, 8, 30) and job.kwargs == {"weekly": True}
    finally:
        scheduler.shutdown(wait=False)
        svc.close()
    off = MonitorService(build_config(tmp_path, digest={"timezone": TZ, "weekly": None}))
    scheduler = off.build_scheduler()
    assert scheduler.get_job("weekly-digest") is None
    off.close()


def test_topic_chart_marks_each_topics_usual_level(store):
    from monitor.digest.charts import topic_rows

    seed_days(store, {back: [("delivery", "pixelcart parcel late")] * 2 for back in range(1, 8)})
    seed_days(store, {0: [("delivery", "pixelcart parcel late")] * 5 + [("billing", "pixelcart charged twice")]},
              first=100)
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert topic_rows(d) == [("delivery", 5, 2.0, pytest.approx(5 / 6)), ("billing", 1, 0.0, 1.0)]
    assert png_size(topics_png(d)) == (800, 400)


def test_the_phrase_driving_a_topic_never_names_the_brand():
    from monitor.digest.movement import driving_words

    texts = ["Acme Bank app down again, cannot log in", "acme bank app down since 9am",
             "@acmebank Acme Bank's app down for everyone?", "acme bank app down and no word from them"]
    phrase = driving_words(texts, brand="Acme Bank")
    assert phrase == "app down" and not {"acme", "bank"} & set(phrase.split())
    assert driving_words(texts) == "bank app down"  # what the headline said before: half the brand


def test_days_before_the_monitor_was_watching_are_no_data_not_zero(store):
    # Watching for 12 days, 4 delivery complaints each; today 6. Counting the 16 unwatched days as zeros made
    # the usual 1.7 a day and today "3.5x the usual"; against the 12 watched days it is an ordinary day.
    seed_days(store, {back: [("delivery", f"pixelcart parcel late {back} {i}") for i in range(4)]
                      for back in range(1, 13)})
    seed_days(store, {0: [("delivery", f"pixelcart parcel late today {i}") for i in range(6)]}, first=900)
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    [delivery] = d.movement.topics
    assert d.movement.history_days == 12
    assert (delivery.today, delivery.average, delivery.mean28, delivery.spread28) == (6, 4.0, 4.0, 0.0)
    assert d.movement.headline == ["A quiet day for Pixelcart: 6 complaint(s) against 4 a day usually; nothing "
                                   "moved beyond its normal range."]


@pytest.mark.parametrize("watched_days", [0, 3, 6])
def test_the_first_week_claims_no_rise(store, watched_days):
    history = {back: [("delivery", f"pixelcart parcel late {back}")] for back in range(1, watched_days + 1)}
    seed_days(store, {**history, 0: [("delivery", f"pixelcart parcel never came {i}") for i in range(9)]})
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.history_days == watched_days
    assert d.movement.headline == [
        f"First week of history for Pixelcart: 9 complaint(s) today; comparisons with the usual level start after "
        f"7 days of history ({watched_days} so far)."]
    assert "the usual" not in render_text(d).split("Top complaints")[0].replace("the usual level", "")


def test_a_week_of_history_is_enough_to_compare(store):
    history = {back: [("delivery", f"pixelcart parcel late {back}")] for back in range(1, 8)}
    seed_days(store, {**history, 0: [("delivery", f"pixelcart tracking not updating {i}") for i in range(9)]})
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.history_days == 7
    assert d.movement.headline == [
        "Complaints about delivery 9.0x the usual (9 vs 1 a day), mostly 'tracking not updating'."]


@pytest.mark.parametrize("reddit_days, headline", [
    # Reddit added 3 days ago: its complaints are shown apart, X alone is compared with X's usual level.
    (3, ["A quiet day for Pixelcart: 2 complaint(s) against 2 a day usually; nothing moved beyond its normal range.",
         "Not compared yet (under a week of history): reddit (6 complaint(s) today, watched 3 day(s))."]),
    # With 10 days of its own history Reddit joins the comparison, against its own days: 8 against 2 + 6.
    (10, ["A quiet day for Pixelcart: 8 complaint(s) against 8 a day usually; nothing moved beyond its normal "
          "range."]),
])
def test_a_source_added_later_is_no_rise(store, reddit_days, headline):
    """Four weeks of X at 2 a day, then Reddit at 6 a day: counting Reddit's missing weeks as zeros, or X's
    usual level against both sources' today, would read 8 as '4.0x the usual'."""
    seed_days(store, {back: [("delivery", f"pixelcart parcel late {back} {i}") for i in range(2)]
                      for back in range(0, 29)})
    seed_days(store, {back: [("delivery", f"pixelcart order missing {back} {i}") for i in range(6)]
                      for back in range(0, reddit_days + 1)}, first=5000, source="reddit")
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.movement.headline == headline
    assert d.movement.complaints_today == 8  # the day's own figures count every source
    assert "the usual" not in " ".join(headline)



def test_the_service_digest_asks_the_labelling_queue_what_is_worth_a_label(seeded, tmp_path):
    """The same queue as `monitor labels next`: the day's unlabelled posts of the brand, the least certain first,
    every fourth at random, each pick recorded."""
    import io

    from monitor.service import digest_runner
    from monitor.store.schema import label_picks

    words = ["parcel", "refund", "courier", "checkout", "voucher", "basket", "invoice", "tracking", "driver", "box",
             "app", "login", "delivery", "return", "discount", "receipt"]
    with seeded.db.engine.begin() as conn:  # the seeded posts differ only by number: copies of each other
        day_ids = sorted(conn.execute(sa.select(mentions.c.id).where(mentions.c.brand == "Pixelcart")).scalars())
        for mention_id, word in zip(day_ids, words, strict=False):
            conn.execute(sa.update(mentions).where(mentions.c.id == mention_id)
                         .values(text=f"pixelcart {word} question"))
    labelled = day_ids[0]
    seeded.labels.label_mention(labelled, True, "ann", "cli")
    config = build_config(tmp_path, digest={"timezone": TZ, "targets": ["stdout"]})
    out = io.StringIO()
    assert digest_runner(config, seeded, {}).run(day=DAY, brands=["Pixelcart"], out=out) == 1
    with seeded.db.engine.connect() as conn:
        picked = conn.execute(sa.select(label_picks.c.mention_id, label_picks.c.kind)).all()
    assert 0 < len(picked) <= 5 and labelled not in {m for m, _ in picked}
    assert [k for _, k in picked][:3] == ["uncertain"] * 3 and (len(picked) < 4 or picked[3][1] == "random")
    text = out.getvalue()
    for mention_id, kind in picked:
        assert f"  {mention_id} ({'random pick' if kind == 'random' else 'unsure ('}" in text


def test_time_from_post_to_alert_by_source_for_posts_read_live(store):
    """p50 and p95 per source, nearest rank, from publication to the sink accepting the alert; a backfilled post's
    delay says when the backfill ran and is left out."""
    delays = {"x": [60, 120, 600], "live": [1, 2, 3, 2]}
    for source, seconds in delays.items():
        seed_days(store, {0: [("delivery", f"pixelcart late {source} {i}") for i in range(len(seconds))]},
                  source=source, first=1000 * len(source))
    seed_days(store, {0: [("delivery", "pixelcart late backfilled")]}, fetched_late=True, first=9000)
    with store.db.engine.begin() as conn:
        rows = conn.execute(sa.select(mentions.c.id, mentions.c.text, mentions.c.created_at)).all()
        for mention_id, text, created in rows:
            source, _, index = text.rpartition(" ")
            source = source.rsplit(" ", 1)[-1]
            delay = 7200 if text.endswith("backfilled") else delays[source][int(index)]
            conn.execute(sa.insert(outbox).values(mention_id=mention_id, route="support", sink="rec",
                                                  status="delivered", attempts=1, next_attempt_at=created,
                                                  created_at=created, delivered_at=created + timedelta(seconds=delay)))
    d = brand_day(store.db, "Pixelcart", DAY, TZ)
    assert d.alert_delay_by_source == {"live": (4, 2, 3), "x": (3, 120, 600)}
    assert ("Time from post to alert by source (p50 / p95, posts read live): live 2 s / 3 s (4 alerts), "
            "x 2 min / 10 min (3 alerts)") in render_text(d)


@pytest.mark.parametrize("values, p, expected", [
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10), ([7.5], 95, 7.5),
    ([3, 1, 2], 50, 2), ([1, 2], 50, 1), ([1, 2], 51, 2),
])
def test_percentiles_are_nearest_rank(values, p, expected):
    from monitor.store.stats import nearest_rank

    assert nearest_rank(values, p) == expected
