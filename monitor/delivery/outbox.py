"""Delivers the alert outbox: oldest first, claimed before each send, retried with backoff,
dead-lettered after max attempts, and grouped into one spike plus thread replies during bursts."""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta

from monitor.clock import utcnow
from monitor.components import DeliveryError, Sink
from monitor.config import DeliveryConfig
from monitor.delivery.bursts import BurstGrouper
from monitor.model import LIVE_READ, Alert
from monitor.ops import metrics
from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository
from monitor.store.outbox import OutboxRepository

log = logging.getLogger(__name__)


class OutboxDelivery:
    def __init__(self, outbox: OutboxRepository, bursts: BurstRepository, sinks: dict[str, Sink],
                 config: DeliveryConfig, stop: threading.Event | None = None, owner: str = "",
                 cases: CaseRepository | None = None) -> None:
        self.outbox = outbox
        self.grouper = BurstGrouper(bursts, config, cases)
        self.sinks = sinks
        self.config = config
        self.stop = stop or threading.Event()
        self.owner = owner or f"delivery-{id(self):x}"
        self._running = threading.Lock()
        self._dirty = threading.Event()
        self._sent_ok: dict = {}  # the per-sink "ok" counter, looked up once

    def kick(self) -> None:
        """Deliver what is due now. Concurrent kicks coalesce into the running one."""
        self._dirty.set()
        while self._dirty.is_set() and not self.stop.is_set():
            if not self._running.acquire(blocking=False):
                return  # the running delivery sees the flag and goes round again
            try:
                while self._dirty.is_set() and not self.stop.is_set():
                    self._dirty.clear()
                    try:
                        self.deliver_due()
                    except Exception as exc:  # noqa: BLE001 - the database may be away: the next sweep retries
                        log.error("delivery sweep failed: %s: %s", type(exc).__name__, str(exc).splitlines()[0])
                        return
            finally:
                self._running.release()

    def deliver_due(self, now=None) -> tuple[int, int]:
        """One sweep over due alerts, oldest first, claimed in batches; returns (delivered, failed)."""
        self.recover_claims()
        self.grouper.new_sweep()
        delivered = failed = 0
        blocked: set[str] = set()  # sinks that failed during this sweep: the rest waits for the next one
        while not self.stop.is_set():
            batch = self.outbox.claim_batch(self.owner, self.config.batch_size, blocked, now)
            if not batch:
                break
            sent, lost = self._deliver_batch(batch, blocked)
            delivered, failed = delivered + sent, failed + lost
        self.grouper.refresh_spikes(self.sinks)
        if delivered or failed:
            log.info("delivery delivered=%d failed=%d", delivered, failed)
        return delivered, failed

    def recover_claims(self) -> None:
        """Alerts whose sender died mid-send (claimed longer ago than claim_timeout): keep those the sink
        already has, send the rest again."""
        older_than = utcnow() - timedelta(seconds=self.config.claim_timeout)
        for alert, claimed_at in self.outbox.stale_claims(older_than):
            sink = self.sinks.get(alert.sink)
            ref = None
            if sink is not None:
                try:
                    ref = sink.find_delivered(alert, claimed_at)
                except Exception as exc:  # noqa: BLE001 - cannot tell: sending again is the safe side
                    log.warning("alert %d: could not check whether it was delivered: %s", alert.outbox_id, exc)
            if ref:
                log.info(
                    "alert %d had reached %s before the restart; not sending it again", alert.outbox_id, alert.sink
                )
                self.outbox.mark_delivered(alert.outbox_id, ref)
            else:
                self.outbox.release(alert.outbox_id)

    def _deliver_batch(self, batch: list[Alert], blocked: set[str]) -> tuple[int, int]:
        """Sends a claimed batch; results are written together, or every second while a slow sink sends,
        so an agent's click on a just-posted alert finds its message."""
        results = _Results(self.outbox)
        for alert, burst in self._plan(batch, results, blocked):
            if alert.sink in blocked:
                results.released.append(alert.outbox_id)  # its sink failed earlier in this batch
            elif self._send(alert, burst, results):
                results.flush_if_due()
            else:
                blocked.add(alert.sink)
        results.flush()
        return results.sent, results.lost

    def _plan(self, batch: list[Alert], results: _Results, blocked: set[str]) -> list[tuple[Alert, dict | None]]:
        """Which burst each alert joins; in a burst, the thread takes the highest priorities, the rest fold."""
        plain, by_burst = [], {}
        for alert in batch:
            sink = self.sinks.get(alert.sink)
            if sink is None:
                self._failed(alert, DeliveryError(f"sink {alert.sink!r} is not configured or disabled"), results)
                continue
            try:
                burst = None if alert.sink in blocked else self.grouper.burst_for(alert, sink)
            except DeliveryError as exc:  # the spike could not be posted
                self._failed(alert, exc, results)
                blocked.add(alert.sink)
                continue
            if burst is None:
                plain.append((alert, None))
            else:
                by_burst.setdefault(burst["id"], (burst, []))[1].append(alert)
        for burst, alerts in by_burst.values():
            threaded, folded = self.grouper.split(burst, alerts)
            plain += [(alert, burst) for alert in threaded]
            results.folded += [(alert.outbox_id, burst["id"]) for alert in folded]
            self.grouper.grew(burst, alerts[0].sink)
        return sorted(plain, key=lambda pair: pair[0].outbox_id)

    def _send(self, alert: Alert, burst: dict | None, results: _Results) -> bool:
        if burst:
            alert.thread_ref = burst["message_ref"]
        try:
            ref = self.sinks[alert.sink].send(alert)
        except DeliveryError as exc:
            self._failed(alert, exc, results)
            return False
        except Exception as exc:  # noqa: BLE001 - a sink bug must not stop delivery of the rest
            self._failed(alert, DeliveryError(f"{type(exc).__name__}: {exc}"), results)
            return False
        results.delivered.append((alert.outbox_id, ref, burst["id"] if burst else None))
        counter = self._sent_ok.get(alert.sink)
        if counter is None:
            counter = self._sent_ok[alert.sink] = metrics.ALERTS_SENT.labels(alert.sink, "ok")
        counter.inc()
        if alert.stored_at:
            now = utcnow()
            metrics.DELIVERY_SECONDS.observe(max(0.0, (now - alert.stored_at).total_seconds()))
            if alert.created_at and alert.stored_at - alert.created_at <= LIVE_READ:  # a backfill says nothing of speed
                metrics.TIME_TO_ALERT.labels(alert.source).observe(max(0.0, (now - alert.created_at).total_seconds()))
        return True

    def _failed(self, alert: Alert, exc: DeliveryError, results: _Results) -> None:
        results.lost += 1
        if exc.permanent or alert.attempt >= self.config.max_attempts:
            log.error("alert %d to %s dead-lettered after %d attempt(s): %s",
                      alert.outbox_id, alert.route, alert.attempt, exc)
            results.failed.append((alert.outbox_id, str(exc), None))
            metrics.ALERTS_SENT.labels(alert.sink, "dead").inc()
            return
        delay = self.backoff(alert.attempt, exc.retry_after)
        log.warning("alert %d to %s failed (attempt %d), retry in %.0fs: %s",
                    alert.outbox_id, alert.route, alert.attempt, delay, exc)
        results.failed.append((alert.outbox_id, str(exc), utcnow() + timedelta(seconds=delay)))
        metrics.ALERTS_SENT.labels(alert.sink, "retry").inc()

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter spreads retries after an outage


class _Results:
    """A batch's outcomes, written to the outbox in one transaction (and every FLUSH_EVERY seconds meanwhile)."""

    FLUSH_EVERY = 1.0

    def __init__(self, outbox: OutboxRepository) -> None:
        self.outbox = outbox
        self.delivered: list[tuple[int, str | None, int | None]] = []
        self.folded: list[tuple[int, int]] = []
        self.failed: list[tuple[int, str, datetime | None]] = []
        self.released: list[int] = []
        self.sent = self.lost = 0
        self._since = time.monotonic()

    def flush_if_due(self) -> None:
        if time.monotonic() - self._since >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.delivered or self.folded or self.failed or self.released:
            self.outbox.finish(self.delivered, self.folded, self.failed, self.released)
        self.sent += len(self.delivered)
        self.delivered, self.folded, self.failed, self.released = [], [], [], []
        self._since = time.monotonic()
