"""Runs the daily digest: figures per brand, rendered to stdout, files and Slack, once per day."""
from __future__ import annotations

import logging
import sys
from datetime import date, timedelta
from typing import IO

from monitor import clock
from monitor.components import DeliveryError, Sink
from monitor.config import Config, brand_slug
from monitor.digest.figures import BrandDay, brand_day, day_bounds
from monitor.model import Report
from monitor.store.database import Database
from monitor.store.digest_runs import DigestRunRepository
from monitor.store.mentions import MentionRepository

log = logging.getLogger(__name__)


def yesterday(tz: str) -> date:
    return clock.today(tz) - timedelta(days=1)


def period_figures(config: Config, db: Database, brand: str, day: date, days: int = 1) -> BrandDay:
    """A brand's digest figures for ``day`` (``days`` 7: the week ending with it), with the configured
    sentiment thresholds and the routes' SLAs: what the digest sends and the web inbox shows."""
    scoring = config.root.scoring
    slas = {r.name: r.sla for r in config.routes() if r.sla}
    return brand_day(db, brand, day, config.root.digest.timezone, scoring.negative_threshold,
                     scoring.positive_threshold, slas=slas, days=days)


class DigestRunner:
    def __init__(self, config: Config, sinks: dict[str, Sink], *, db: Database, mentions: MentionRepository,
                 runs: DigestRunRepository, worth_a_label=None) -> None:
        """``worth_a_label(brand, start, end)``: the day's posts the labelling queue would ask about; without
        it the digest lists possible misses and uncertain alerts from the stored scores."""
        self.config = config
        self.sinks = sinks
        self.db, self.mentions, self.runs = db, mentions, runs
        self.worth_a_label = worth_a_label

    def run(self, day: date | None = None, brands: list[str] | None = None,
            targets: list[str] | None = None, force: bool = False, out: IO[str] | None = None,
            weekly: bool = False) -> int:
        """Sends the digest of ``day`` (default: yesterday, local) to each target once; returns how many went.
        ``weekly``: the 7 days ending with ``day`` against the 7 before, sent once per brand and week."""
        cfg = self.config.root.digest
        day = day or yesterday(cfg.timezone)
        names = brands or cfg.brands or [b.name for b in self.config.brands]
        sent = 0
        for name in names:
            figures = period_figures(self.config, self.db, name, day, 7 if weekly else 1)
            if self.worth_a_label is not None:
                figures.to_label = self._worth_a_label(name, day)
            charts: dict[str, bytes] = {}
            for target in targets or cfg.targets:
                run = f"weekly:{target}" if weekly else target
                # Reserved before sending: with several instances, exactly one sends each digest.
                if target != "stdout" and not self.runs.claim(name, day, run, force=force):
                    log.info("digest for %s on %s already sent to %s", name, day, target)
                    continue
                try:
                    detail = self._send(target, figures, charts, out or sys.stdout)
                except Exception as exc:  # noqa: BLE001 - whatever failed, the reservation must not stay "sending"
                    log.error("digest for %s on %s to %s failed (retried on the next run): %s", name, day, target,
                              exc, exc_info=not isinstance(exc, (DeliveryError, OSError)))
                    if target != "stdout":
                        self.runs.finish(name, day, run, None)
                    continue
                if target != "stdout":
                    self.runs.finish(name, day, run, detail or "")
                sent += 1
        return sent

    def _worth_a_label(self, brand: str, day: date) -> list[dict]:
        try:
            return self.worth_a_label(brand, *day_bounds(day, self.config.root.digest.timezone))
        except Exception as exc:  # noqa: BLE001 - the digest goes out without the label hints
            log.error("labelling queue failed for the digest of %s: %s: %s", brand, type(exc).__name__, exc)
            return []

    def _charts(self, figures: BrandDay, charts: dict[str, bytes]) -> dict[str, bytes]:
        if not charts:
            from monitor.digest.charts import (  # matplotlib: only when a chart is needed
                topics_png,
                trend_png,
            )

            charts["trend"] = trend_png(figures)
            charts["topics"] = topics_png(figures)
        return charts

    def _send(self, target: str, figures: BrandDay, charts: dict[str, bytes], out: IO[str]) -> str | None:
        from monitor.digest import report

        if target == "stdout":
            out.write(report.render_text(figures))
            return None
        if target == "file":
            return self._write_files(figures, self._charts(figures, charts))
        cfg = self.config.root.digest
        sink = self.sinks.get(cfg.sink or "")
        if sink is None:
            raise DeliveryError(f"digest.sink {cfg.sink!r} is not an enabled sink")
        charts = self._charts(figures, charts)
        slug = f"{brand_slug(figures.brand)}-{figures.day:%Y-%m-%d}"
        return sink.send_report(Report(
            title=f"{report.words(figures)['kind']} digest: {figures.brand}, {report.words(figures)['period']} "
                  f"({figures.timezone})",
            lines=report.summary_lines(figures) + report.slack_extra_lines(figures, self.config.root.digest,
                                                                            self.config.root.web.base_url),
            channel=cfg.channel, to_label=figures.to_label,
            images=[(f"{slug}-trend.png", charts["trend"], f"{figures.brand}: 14-day trend"),
                    (f"{slug}-topics.png", charts["topics"], f"{figures.brand}: complaint topics")]))

    def _write_files(self, figures: BrandDay, charts: dict[str, bytes]) -> str:
        from monitor.digest import export, report
        from monitor.digest.files import DigestFolder

        files = DigestFolder(self.config.root.digest.directory)
        folder, html_name, csv_name = report.report_names(figures)
        start, end = day_bounds(figures.day, figures.timezone)
        with files.replace(folder, csv_name, encoding="utf-8", newline="") as f:
            export.write_csv(export.mention_rows(self.mentions, start, end, [figures.brand]), f)
        html_path = files.write(folder, html_name, report.render_html(figures, charts["trend"], charts["topics"]))
        log.info("digest for %s on %s written to %s", figures.brand, figures.day, html_path)
        return str(html_path)
