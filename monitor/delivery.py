"""Delivers the alert outbox: oldest first, retried with backoff, dead-lettered after max attempts."""
from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta
from typing import Optional

from monitor.components import DeliveryError, Sink
from monitor.config import DeliveryConfig
from monitor.schema import utcnow
from monitor.storage import MentionStore

log = logging.getLogger(__name__)


class OutboxDelivery:
    def __init__(self, store: MentionStore, sinks: dict[str, Sink], config: DeliveryConfig,
                 stop: Optional[threading.Event] = None) -> None:
        self.store = store
        self.sinks = sinks
        self.config = config
        self.stop = stop or threading.Event()
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
                    self.deliver_due()
            finally:
                self._running.release()

    def deliver_due(self) -> tuple[int, int]:
        """One sweep over due alerts; returns (delivered, failed)."""
        delivered = failed = 0
        blocked: set[str] = set()  # sinks that asked us to back off during this sweep
        while not self.stop.is_set():
            alerts = [a for a in self.store.due_alerts(self.config.batch_size) if a.sink not in blocked]
            if not alerts:
                break
            for alert in alerts:
                if self.stop.is_set() or alert.sink in blocked:
                    break
                if self._deliver_one(alert):
                    delivered += 1
                else:
                    failed += 1
                    blocked.add(alert.sink)
            if len(alerts) < self.config.batch_size:
                break
        if delivered or failed:
            log.info("delivery delivered=%d failed=%d", delivered, failed)
        return delivered, failed

    def _deliver_one(self, alert) -> bool:
        sink = self.sinks.get(alert.sink)
        if sink is None:
            self._failed(alert, DeliveryError(f"sink {alert.sink!r} is not configured or disabled"))
            return False
        try:
            ref = sink.send(alert)
        except DeliveryError as exc:
            self._failed(alert, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a sink bug must not stop delivery of the rest
            self._failed(alert, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return False
        self.store.mark_delivered(alert.outbox_id, ref)
        return True

    def _failed(self, alert, exc: DeliveryError) -> None:
        if exc.permanent or alert.attempt >= self.config.max_attempts:
            log.error("alert %d to %s dead-lettered after %d attempt(s): %s",
                      alert.outbox_id, alert.route, alert.attempt, exc)
            self.store.mark_failed(alert.outbox_id, str(exc), None)
            return
        delay = self.backoff(alert.attempt, exc.retry_after)
        log.warning("alert %d to %s failed (attempt %d), retry in %.0fs: %s",
                    alert.outbox_id, alert.route, alert.attempt, delay, exc)
        self.store.mark_failed(alert.outbox_id, str(exc), utcnow() + timedelta(seconds=delay))

    def backoff(self, attempt: int, retry_after: Optional[float] = None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)  # jitter spreads retries after an outage
