"""The digest as text (stdout), as a self-contained HTML page with embedded charts, and its files."""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from monitor.config import brand_slug
from monitor.digest.figures import SENTIMENTS, BrandDay


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _change(now: float, then: float | None) -> str:
    if then is None:
        return "n/a"
    points = (now - then) * 100
    return f"{points:+.1f} pts"


def words(d: BrandDay) -> dict[str, str]:
    """The period's own words: a daily digest compares with the day before, a weekly one with the week before."""
    if d.days == 1:
        return {"previous": "previous day", "baseline": "7-day average", "now": "today", "then": "7-day average",
                "period": f"{d.day:%a %d %b %Y}", "long": f"{d.day:%A %d %B %Y}", "kind": "Daily"}
    span = f"{d.first_day:%d %b} – {d.day:%d %b %Y}"
    return {"previous": "previous week", "baseline": "4-week average", "now": "this week", "then": "last week",
            "period": f"week {span}", "long": f"the week {span}", "kind": "Weekly"}


def whole_percents(counts: dict[str, int]) -> dict[str, int]:
    """Whole percentages that add up to exactly 100 (largest remainder), or {} when there is nothing."""
    total = sum(counts.values())
    if not total:
        return {}
    exact = {k: v * 100 / total for k, v in counts.items()}
    floors = {k: int(x) for k, x in exact.items()}
    order = {k: i for i, k in enumerate(counts)}  # ties go to the one listed first
    for k in sorted(exact, key=lambda k: (floors[k] - exact[k], order[k]))[:100 - sum(floors.values())]:
        floors[k] += 1
    return floors


def sentiment_rows(d: BrandDay) -> list[tuple[str, int, str, str, str]]:
    """(sentiment, count, share, change vs previous day, change vs 7-day baseline)."""
    shares, percents = d.shares(), whole_percents(d.sentiment)
    rows = []
    for kind in SENTIMENTS:
        share = shares.get(kind, 0.0)
        rows.append((kind, d.sentiment[kind], f"{percents.get(kind, 0)}%" if percents else "–",
                     _change(share, (d.previous_shares or {}).get(kind) if d.previous_shares else None),
                     _change(share, (d.baseline_shares or {}).get(kind) if d.baseline_shares else None)))
    return rows


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def summary_lines(d: BrandDay) -> list[str]:
    if not d.volume:
        return [f"No mentions of {d.brand} were stored for this day."]
    sources = ", ".join(f"{s} {n}" for s, n in sorted(d.volume_by_source.items()))
    lines = list(d.movement.headline) if d.movement else []
    lines.append(f"Mentions (posts naming {d.brand}): {d.volume} ({sources})")
    w = words(d)
    lines += [f"{kind.capitalize()} tone (VADER, the words' sentiment): {count} ({share}; {prev} vs {w['previous']}, "
              f"{base} vs {w['baseline']})" for kind, count, share, prev, base in sentiment_rows(d)]
    lines.append(f"Complaints (posts the detector flagged; a complaint need not sound negative): {d.complaints} "
                 f"({d.complaint_rate:.1%} of mentions{_rates(d)})")
    lines += movement_lines(d)
    if d.topics:
        lines.append("Top complaint topics: " + ", ".join(
            f"{t} {c} ({cum:.0%} cumulative)" for t, c, cum in d.pareto()[:5]))
    for s in d.spikes:
        lines.append(f"Spike: {s['complaints']} complaints from {s['started']:%H:%M} to {s['ended']:%H:%M} "
                     f"(route {s['route']})")
    lines.append(f"Alerts: {d.alerts_delivered} delivered, {d.alerts_pending} pending, {d.alerts_dead} dead; "
                 f"median time from post to alert {_delay(d.median_alert_delay)} (posts read live)")
    if d.alert_delay_by_source:
        lines.append("Time from post to alert by source (p50 / p95, posts read live): " + ", ".join(
            f"{source} {_delay(p50)} / {_delay(p95)} ({n} alert{'s' if n != 1 else ''})"
            for source, (n, p50, p95) in d.alert_delay_by_source.items()))
    return lines + response_lines(d)


def slack_extra_lines(d: BrandDay, digest, inbox_url: str | None = None) -> list[str]:
    """For the Slack summary: the three top complaints and where the full report and its CSV are (and the
    digest's page in the web inbox, when ``inbox_url`` is its base URL)."""
    lines = []
    if d.top_complaints:
        lines.append("Top complaints:")
        lines += [f"  @{p['author']} ({p['topic']}, priority {p['priority']:.0f}): {_quoted(p['text'], 140)} "
                  f"{p['url'] or ''}".rstrip() for p in d.top_complaints[:3]]
    if "file" in digest.targets:
        html_path, csv_path = report_paths(digest.directory, d)
        lines.append(f"Full report: {html_path} (CSV of the day's mentions: {csv_path.name})")
    if inbox_url:
        query = urlencode({"brand": d.brand, "period": "weekly" if d.days == 7 else "daily",
                           "day": d.day.isoformat()})
        lines.append(f"In the inbox: {inbox_url}/digest?{query}")
    return lines


def _rates(d: BrandDay) -> str:
    m = d.movement
    if m is None or m.rate14 is None:
        return ""
    return f"; {m.rate14:.1%} over 14 days, {m.rate28:.1%} over 28 days"


ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def movement_lines(d: BrandDay) -> list[str]:
    """Complaint topics today against their 7-day average, biggest change first."""
    if d.movement is None or not d.movement.topics:
        return []
    w = words(d)
    return [f"Topic movement (complaints {w['now']} vs {w['then']}): " + ", ".join(
        f"{t.topic} {t.today} vs {t.average:.1f} {ARROWS[t.direction]}" for t in d.movement.topics[:5])]


def response_lines(d: BrandDay) -> list[str]:
    r = d.responses
    if r is None or not (r.cases or r.backlog):
        return []
    lines = []
    if r.cases:
        lines.append(f"Responses: {r.answered} of {r.cases} cases answered ({r.answered / r.cases:.0%}); time to "
                     f"first response median {_delay(r.median)}, p90 {_delay(r.p90)}")
    if r.sla_cases:
        lines.append(f"Within SLA: {r.within_sla} of {r.sla_cases} ({r.within_sla / r.sla_cases:.0%}) of the cases "
                     "whose deadline has passed or that were answered")
    if r.backlog:
        lines.append(f"Backlog at the end of the day: {r.backlog} case(s) open or claimed, the oldest opened "
                     f"{r.oldest_open.astimezone(ZoneInfo(d.timezone)):%Y-%m-%d %H:%M}")
    if r.cases:
        lines.append(f"Not complaints (dismissed by the team): {r.dismissed} of {r.cases} ({r.false_alarm_rate:.0%}, "
                     "the detector's false alarms)")
        lines.append("By topic: " + "; ".join(f"{t.topic} {t.answered}/{t.cases} answered, median {_delay(t.median)}"
                                              for t in r.by_topic[:5]))
    return lines


def _quoted(text: str, limit: int) -> str:
    """One line in double quotes, whatever quotes the post itself uses."""
    flat = " ".join(text.split())
    return f'"{flat[:limit]}…"' if len(flat) > limit else f'"{flat}"'


def label_lines(d: BrandDay) -> list[str]:
    if not d.to_label:
        return []
    return (["Worth a label (monitor label ID complaint|not --as NAME):"]
            + [f"  {p['mention_id']} ({p['why']}): {_quoted(p['text'], 100)}" for p in d.to_label])


def render_text(d: BrandDay) -> str:
    lines = [f"{d.brand} · {words(d)['period']} ({d.timezone})"] + [f"  {x}" for x in summary_lines(d)]
    lines += [f"  {x}" for x in label_lines(d)]
    sections = [("Top complaints (by priority)", d.top_complaints)]
    sections += [(f"Examples of {topic} complaints", posts) for topic, posts in d.examples.items()]
    for title, posts in sections + [("Most-read positive posts", d.top_positive)]:
        if posts:
            lines.append(f"  {title}:")
            lines += [f"    @{p['author']} (reach {p['reach']:,}, topic {p['topic']}) {_quoted(p['text'], 100)} "
                      f"{p['url'] or ''}".rstrip() for p in posts]
    return "\n".join(lines) + "\n"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _safe_link(url: str | None, label: str) -> str:
    if url and re.match(r"^https?://", url):
        return f'<a href="{html.escape(url)}" rel="noopener noreferrer">{html.escape(label)}</a>'
    return html.escape(label)


def render_html(d: BrandDay, trend_png: bytes, topics_png: bytes) -> str:
    """One file with everything inline: no scripts, stylesheets or images fetched from anywhere."""
    e = html.escape
    w = words(d)
    title = f"{d.brand} · digest for {w['long']} ({d.timezone})"
    sentiment = "".join(f"<tr><td>{e(k)}</td><td>{c}</td><td>{e(s)}</td><td>{e(p)}</td><td>{e(b)}</td></tr>"
                        for k, c, s, p, b in sentiment_rows(d))
    topics = "".join(f"<tr><td>{e(t)}</td><td>{c}</td><td>{cum:.0%}</td></tr>" for t, c, cum in d.pareto())
    complaints, positives = (_posts_html(d.top_complaints, "priority"), _posts_html(d.top_positive, "reach"))
    moves = "".join(
        f"<tr><td>{e(t.topic)}</td><td>{t.today}</td><td>{t.average:.1f}</td>"
        f"<td>{ARROWS[t.direction]} {e(t.direction)}</td></tr>"
        for t in (d.movement.topics if d.movement else [])
    )
    summary = "".join(f"<li>{e(x)}</li>" for x in summary_lines(d))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: .5rem 0 1.5rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3rem .8rem; text-align: left; }}
img {{ max-width: 100%; height: auto; border: 1px solid #eee; margin: .5rem 0; }}
</style></head><body>
<h1>{e(title)}</h1>
<ul>{summary}</ul>
<h2>Trend</h2>
{_img(trend_png, f"{d.brand}: mentions per day and negative share over 14 days")}
<h2>Sentiment</h2>
<table><tr><th>sentiment</th><th>mentions</th><th>share</th><th>vs {w['previous']}</th><th>vs {w['baseline']}</th></tr>
{sentiment}</table>
<h2>Complaint topics</h2>
{_img(topics_png, f"{d.brand}: complaint topics ranked")}
<table><tr><th>topic</th><th>complaints</th><th>cumulative share</th></tr>{topics}</table>
{_examples_html(d)}
<h2>Topic movement</h2>
<table><tr><th>topic</th><th>complaints {w['now']}</th><th>{w['then']}</th><th>direction</th></tr>
{moves or "<tr><td colspan=4>no complaints in the last 8 days</td></tr>"}</table>
<h2>Top complaints (chosen by the detector, ranked by priority)</h2>
<ol>{complaints or "<li>none</li>"}</ol>
<h2>Most-read positive posts</h2>
<ol>{positives or "<li>none</li>"}</ol>
{_to_label_html(d)}
</body></html>
"""


def _examples_html(d: BrandDay) -> str:
    e = html.escape
    return "".join(f"<h3>{e(topic)}: examples</h3><ol>{_posts_html(posts, 'priority')}</ol>"
                   for topic, posts in d.examples.items() if posts)


def _measure_text(post: dict, measure: str) -> str:
    if measure == "priority":
        return f"priority {post['priority']:.0f}"
    return f"VADER {post['compound']:+.2f}"


def _posts_html(posts: list[dict], measure: str) -> str:
    e = html.escape
    return "".join(
        f"<li><b>@{e(p['author'])}</b> ({p['reach']:,} followers, {e(p['topic'])}, "
        f"{_measure_text(p, measure)}): "
        f"{e(p['text'])} {_safe_link(p['url'], 'open')}</li>"
        for p in posts
    )


def _to_label_html(d: BrandDay) -> str:
    if not d.to_label:
        return ""
    e = html.escape
    items = "".join(f"<li><code>{p['mention_id']}</code> ({e(p['why'])}): {e(p['text'][:280])} "
                    f"{_safe_link(p['url'], 'open')}</li>" for p in d.to_label)
    return ("<h2>Worth a label</h2><p>Tell the detector: <code>monitor label ID complaint --as NAME</code> or "
            f"<code>monitor label ID not --as NAME</code> (or the buttons in Slack).</p><ul>{items}</ul>")


def report_names(d: BrandDay) -> tuple[str, str, str]:
    """The brand's folder under the digest directory, and the report's HTML and CSV file names."""
    name = f"{d.day:%Y-%m-%d}" + ("" if d.days == 1 else "-week")
    return brand_slug(d.brand), f"{name}.html", f"{name}.csv"


def report_paths(directory: str, d: BrandDay) -> tuple[Path, Path]:
    folder, html_name, csv_name = report_names(d)
    return Path(directory) / folder / html_name, Path(directory) / folder / csv_name
