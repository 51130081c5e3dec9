"""What a failing source costs the rest: it is paused (rate limit, budget, growing backoff), the pause
survives restarts, and the ops channel hears once when it starts failing and once when it recovers."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.clock import utcnow
from monitor.components import Connector, SourceError
from monitor.ops import metrics
from monitor.store.sources import SourceRepository

log = logging.getLogger(__name__)

MAX_FAILURE_BACKOFF = 900.0


class SourceHealth:
    def __init__(self, sources: SourceRepository, ops: Callable[[str], None] | None, ops_after: int) -> None:
        self.sources = sources
        self.ops = ops  # posts a notice to the ops channel; raises when it could not
        self.ops_after = ops_after
        self._paused_until: dict[str, datetime] = {}
        self._pauses_loaded = False

    def paused_until(self, source: str) -> datetime | None:
        """When the source may be polled again, or None when it may be polled now."""
        if not self._pauses_loaded:  # a restart honours rate limits, budgets and backoff
            self._paused_until.update(self.sources.paused_sources())
            self._pauses_loaded = True
        until = self._paused_until.get(source)
        return until if until and utcnow() < until else None

    def succeeded(self, source: str) -> None:
        self._paused_until.pop(source, None)
        if self.sources.record_success(source):
            log.warning("source=%s recovered", source)
            if self.ops and self.sources.ops_notified(source):
                self._tell_ops(source, f"Source {source} recovered and is polling again.", False)

    def failed(self, connector: Connector, exc: Exception) -> str:
        """Records the failure, pauses the source and tells ops when due; returns the error as logged."""
        source = connector.name
        error = f"{type(exc).__name__}: {exc}"
        retry_after, unhealthy, notice, pause_reason = None, False, False, "rate_limit"
        if isinstance(exc, SourceError):
            error = str(exc)
            retry_after, unhealthy, notice, pause_reason = exc.retry_after, exc.unhealthy, exc.notice, exc.pause_reason
        log.error("source=%s poll failed: %s", source, error,
                  exc_info=not isinstance(exc, SourceError) and log.isEnabledFor(logging.DEBUG),
                  extra={"event": "poll_failed", "source": source})
        metrics.SOURCE_ERRORS.labels(source).inc()
        if retry_after:
            metrics.SOURCE_PAUSES.labels(source, pause_reason).inc()
        try:
            failures = self.sources.record_failure(source, error, unhealthy=unhealthy)
        except Exception as db_exc:  # noqa: BLE001 - the database may be the thing that failed
            log.error("source=%s could not record the failure: %s", source, db_exc)
            failures = 1
        if self.ops and (failures >= self.ops_after or notice):
            self._notify_failing(source, failures, error)
        if retry_after is None:
            # Repeated failures back off: next run, then 1, 3, 7... intervals skipped, at most 15 minutes.
            # (the exponent is capped: a source failing for weeks must not overflow the float)
            retry_after = min(MAX_FAILURE_BACKOFF, connector.config.interval * (2 ** min(failures - 1, 30) - 1))
        if retry_after > 0:
            self._pause(source, retry_after)
        return error

    def _notify_failing(self, source: str, failures: int, error: str) -> None:
        try:
            told = self.sources.ops_notified(source)
        except Exception:  # noqa: BLE001 - the database is down: the notice waits for the next failure
            told = True
        if not told:
            self._tell_ops(source, f"Source {source} is failing ({failures} poll(s) in a row): {error}", True)

    def _pause(self, source: str, seconds: float) -> None:
        self._paused_until[source] = utcnow() + timedelta(seconds=seconds)
        try:
            self.sources.set_paused(source, self._paused_until[source])
        except Exception as db_exc:  # noqa: BLE001 - the pause still holds in this process
            log.error("source=%s could not record the pause: %s", source, db_exc)

    def _tell_ops(self, source: str, text: str, failing: bool) -> None:
        """One notice when a source starts failing and one when it recovers, never one per failed run."""
        try:
            self.ops(text)
            self.sources.set_ops_notified(source, failing)
        except Exception as exc:  # noqa: BLE001 - a failing ops channel must not fail the poll
            log.error("source=%s could not notify the ops channel: %s", source, exc)
