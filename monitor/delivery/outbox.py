"""Delivers the alert outbox: oldest first, claimed before each send, retried with backoff,
dead-lettered after max attempts, and grouped into one spike plus thread replies during bursts."""
from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta
from typing import Optional

from monitor.clock import utcnow
from monitor.components import DeliveryError, Sink
from monitor.config import DeliveryConfig
from monitor.delivery.bursts import BurstGrouper
from monitor.model import Alert
from monitor.ops import metrics
from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository
from monitor.store.outbox import OutboxRepository

log = logging.getLogger(__name__)


class OutboxDelivery:
    def __init__(self, outbox: OutboxRepository, bursts: BurstRepository, sinks: dict[str, Sink],
                 config: DeliveryConfig, stop: Optional[threading.Event] = None, owner: str = "",
                 cases: Optional[CaseRepository] = None) -> None:
        self.outbox = outbox
        self.grouper = BurstGrouper(bursts, config, cases)
        self.sinks = sinks
        self.config = config
        self.stop = stop or threading.Event()
        self.owner = owner or f"delivery-{id(self):x}"
        self._running = threading.Lock()
        self._dirty = threading.Event()

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
        """One sweep over due alerts, oldest first; returns (delivered, failed)."""
        self.recover_claims()
        delivered = failed = 0
        blocked: set[str] = set()  # sinks that failed during this sweep: the rest waits for the next one
        while not self.stop.is_set():
            alert = self.outbox.claim_next(self.owner, blocked, now)
            if alert is None:
                break
            if self._deliver_one(alert):
                delivered += 1
            else:
                failed += 1
                blocked.add(alert.sink)
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
                log.info("alert %d had reached %s before the restart; not sending it again", alert.outbox_id, alert.sink)
                self.outbox.mark_delivered(alert.outbox_id, ref)
            else:
                self.outbox.release(alert.outbox_id)

    def _deliver_one(self, alert: Alert) -> bool:
        sink = self.sinks.get(alert.sink)
        if sink is None:
            self._failed(alert, DeliveryError(f"sink {alert.sink!r} is not configured or disabled"))
            return False
        try:
            burst = self.grouper.burst_for(alert, sink)
            if burst:
                alert.thread_ref = burst["message_ref"]
            ref = sink.send(alert)
        except DeliveryError as exc:
            self._failed(alert, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a sink bug must not stop delivery of the rest
            self._failed(alert, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return False
        self.outbox.mark_delivered(alert.outbox_id, ref, burst["id"] if burst else None)
        metrics.ALERTS_SENT.labels(alert.sink, "ok").inc()
        if alert.stored_at:
            metrics.DELIVERY_SECONDS.observe(max(0.0, (utcnow() - alert.stored_at).total_seconds()))
        return True

    def _failed(self, alert: Alert, exc: DeliveryError) -> None:
        if exc.permanent or alert.attempt >= self.config.max_attempts:
            log.error("alert %d to %s dead-lettered after %d attempt(s): %s",
                      alert.outbox_id, alert.route, alert.attempt, exc)
            self.outbox.mark_failed(alert.outbox_id, str(exc), None)
            metrics.ALERTS_SENT.labels(alert.sink, "dead").inc()
            return
        delay = self.backoff(alert.attempt, exc.retry_after)
        log.warning("alert %d to %s failed (attempt %d), retry in %.0fs: %s",
                    alert.outbox_id, alert.route, alert.attempt, delay, exc)
        self.outbox.mark_failed(alert.outbox_id, str(exc), utcnow() + timedelta(seconds=delay))
        metrics.ALERTS_SENT.labels(alert.sink, "retry").inc()

    def backoff(self, attempt: int, retry_after: Optional[float] = None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)  # jitter spreads retries after an outage
