"""/digest: the digest of a brand for a day or a week, as marketing reads it: the headline figures on the page,
the full report (charts, topics, examples) framed below it, and the latest periods one click away. Computed
from the database, so it is there whatever targets the scheduled digest is sent to."""
from __future__ import annotations

import time
from datetime import date, timedelta
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from monitor.digest.runner import period_figures, yesterday
from monitor.web.guard import page, signed_in
from monitor.web.recent import Recent
from monitor.web.security import REPORT_POLICY

PERIODS = {"daily": 1, "weekly": 7}
FRESH_FOR = 300.0  # a report is rebuilt after this (the day's figures still move while posts arrive)


class Reports:
    """Figures and rendered reports, kept a few minutes: charts take matplotlib a moment to draw."""

    def __init__(self, remembered: int = 32) -> None:
        self._kept = Recent(remembered)

    def get(self, key: tuple, build):
        kept = self._kept.get(key)
        if kept and time.monotonic() - kept[0] < FRESH_FOR:
            return kept[1]
        value = build()
        self._kept.put(key, (time.monotonic(), value))
        return value


def _choice(request: Request) -> tuple[str, str, date]:
    inbox = request.app.state.inbox
    brand = request.query_params.get("brand", "")
    brand = brand if brand in inbox.brands else inbox.brands[0]
    period = request.query_params.get("period", "daily")
    period = period if period in PERIODS else "daily"
    latest = yesterday(inbox.timezone)
    try:
        day = min(date.fromisoformat(request.query_params.get("day", "")), latest)
    except ValueError:
        day = latest
    return brand, period, day


def _figures(inbox, brand: str, period: str, day: date):
    return period_figures(inbox.config, inbox.store.db, brand, day, PERIODS[period])


@signed_in()
async def digest(request: Request) -> Response:
    from monitor.digest import report

    inbox, reports = request.app.state.inbox, request.app.state.reports
    brand, period, day = _choice(request)
    figures = await run_in_threadpool(reports.get, ("figures", brand, period, day),
                                      lambda: _figures(inbox, brand, period, day))
    step = PERIODS[period]
    latest = yesterday(inbox.timezone)
    recent = [latest - timedelta(days=step * i) for i in range(7 if period == "daily" else 4)]
    link = lambda **c: "/digest?" + urlencode({"brand": brand, "period": period, "day": day.isoformat(), **c})  # noqa: E731
    return page(request, "digest.html", figures=figures, lines=report.summary_lines(figures),
                words=report.words(figures), brand=brand, period=period, day=day, brands=inbox.brands,
                periods=list(PERIODS), recent=recent, link=link, latest=latest,
                earlier=(day - timedelta(days=step)).isoformat(),
                later=(day + timedelta(days=step)).isoformat() if day + timedelta(days=step) <= latest else None)


@signed_in()
async def digest_report(request: Request) -> Response:
    """The full report, as the digest writes it to its file: its own inline styles and images, no script, so
    it is framed under a policy of its own."""
    inbox, reports = request.app.state.inbox, request.app.state.reports
    brand, period, day = _choice(request)

    def build() -> str:
        from monitor.digest import report
        from monitor.digest.charts import topics_png, trend_png

        figures = reports.get(("figures", brand, period, day), lambda: _figures(inbox, brand, period, day))
        return report.render_html(figures, trend_png(figures), topics_png(figures))

    html = await run_in_threadpool(reports.get, ("report", brand, period, day), build)
    return HTMLResponse(html, headers={"content-security-policy": REPORT_POLICY, "x-frame-options": "SAMEORIGIN"})


ROUTES = [Route("/digest", digest), Route("/digest/report", digest_report)]
