"""Prometheus metrics: counters kept by this process, and figures read from the database at scrape time
(so every instance reports the same outbox and source state)."""
from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

MENTIONS = Counter("monitor_mentions_ingested", "Mentions stored, by source and brand", ["source", "brand"],
                   registry=REGISTRY)
COMPLAINTS = Counter("monitor_complaints", "Complaints stored, by source and brand", ["source", "brand"],
                     registry=REGISTRY)
API_REQUESTS = Counter("monitor_api_requests", "Requests sources made to their APIs", ["source"], registry=REGISTRY)
POSTS_REPAIRED = Counter("monitor_posts_repaired", "Posts kept with an unusable field replaced (implausible "
                         "reach, unreadable or future time), by source and reason", ["source", "reason"],
                         registry=REGISTRY)
CASE_ACTIONS = Counter("monitor_case_actions", "Case actions (claim, resolve, dismiss, reopen) by origin (slack, "
                       "cli, web, auto) and result (changed, refused, error)", ["action", "origin", "result"],
                       registry=REGISTRY)
FIRST_RESPONSE_SECONDS = Histogram("monitor_case_first_response_seconds", "Time from a case opening to its first "
                                   "response (claim, resolution or the brand's public reply)",
                                   buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200),
                                   registry=REGISTRY)
REPLIES = Counter("monitor_replies", "Public reply requests (send, preview, approve, reject, off_platform) by "
                  "origin (slack, cli, web) and outcome (ok, refused)", ["action", "origin", "outcome"],
                  registry=REGISTRY)
WEB_REQUESTS = Counter("monitor_web_requests", "Web inbox requests by page and status code", ["page", "status"],
                       registry=REGISTRY)
WEB_SECONDS = Histogram("monitor_web_request_seconds", "Time the web inbox took to answer, by page", ["page"],
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5), registry=REGISTRY)
WEB_SIGN_INS = Counter("monitor_web_sign_ins", "Sign-in attempts by outcome (ok, wrong, locked, throttled)",
                       ["outcome"], registry=REGISTRY)
SOURCE_ERRORS = Counter("monitor_source_errors", "Failed polls, by source", ["source"], registry=REGISTRY)
SOURCE_PAUSES = Counter("monitor_source_pauses", "Times a source was paused (rate limit or monthly budget)",
                        ["source", "reason"], registry=REGISTRY)
ALERTS_SENT = Counter("monitor_alert_sends", "Alert send attempts by sink and result (ok, retry, dead)",
                      ["sink", "result"], registry=REGISTRY)
DELIVERY_SECONDS = Histogram(
    "monitor_alert_delivery_seconds",
    "Time from a complaint being stored to its alert being accepted by the sink",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)

TIME_TO_ALERT = Histogram(
    "monitor_time_to_alert_seconds",
    "Time from a complaint's publication to its alert being accepted by the sink, by source (posts read live)",
    ["source"], buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600), registry=REGISTRY,
)


class StoreCollector:
    """Outbox state, source health and monthly API usage, read from the database on each scrape."""

    def __init__(self, stats, budgets: dict[str, int]) -> None:
        self.stats = stats  # a StatsReader
        self.budgets = budgets

    def describe(self):
        return []

    def collect(self):
        try:
            stats = self.stats.summary()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics: database unreachable: %s", exc)
            return
        by_status = GaugeMetricFamily("monitor_cases", "Cases by status", labels=["status"])
        for status, count in stats.get("cases", {}).items():
            by_status.add_metric([status], count)
        yield by_status
        outbox = GaugeMetricFamily("monitor_outbox_alerts", "Alerts in the outbox by status", labels=["status"])
        for status, count in stats["outbox"].items():
            outbox.add_metric([status], count)
        yield outbox
        last = GaugeMetricFamily("monitor_source_last_success_timestamp_seconds",
                                 "Unix time of the last successful poll", labels=["source"])
        failing = GaugeMetricFamily("monitor_source_consecutive_failures", "Failed polls in a row", labels=["source"])
        unhealthy = GaugeMetricFamily("monitor_source_unhealthy", "1 when the operator must act (credentials, access)",
                                      labels=["source"])
        for s in stats["sources"]:
            if s["last_success_at"]:
                last.add_metric([s["source"]], s["last_success_at"].timestamp())
            failing.add_metric([s["source"]], s["consecutive_failures"])
            unhealthy.add_metric([s["source"]], 1 if s["unhealthy"] else 0)
        yield from (last, failing, unhealthy)
        used = GaugeMetricFamily("monitor_source_posts_read_this_month", "Posts read from the API this calendar "
                                 "month (UTC)", labels=["source"])
        budget = GaugeMetricFamily("monitor_source_monthly_post_budget", "Configured monthly post budget (0 = none)",
                                   labels=["source"])
        for source, figures in stats["usage_this_month"].items():
            used.add_metric([source], figures["posts_read"])
        for source, value in self.budgets.items():
            budget.add_metric([source], value)
        yield from (used, budget)


_collector: StoreCollector | None = None


def watch_store(stats, budgets: dict[str, int]) -> None:
    """Registers the database-backed gauges (once per process); ``stats`` is a StatsReader."""
    global _collector
    if _collector is None:
        _collector = StoreCollector(stats, budgets)
        REGISTRY.register(_collector)
    else:
        _collector.stats, _collector.budgets = stats, budgets
