"""During an incident, complaints about one brand on one route become one spike message with the rest
threaded under it, instead of a flood of separate alerts."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Optional

from monitor.clock import utcnow
from monitor.components import Sink
from monitor.config import DeliveryConfig
from monitor.model import Alert, Spike
from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository

log = logging.getLogger(__name__)


class BurstGrouper:
    def __init__(self, bursts: BurstRepository, config: DeliveryConfig,
                 cases: Optional[CaseRepository] = None) -> None:
        self.bursts = bursts
        self.config = config
        self.cases = cases  # when given, each spike is a case of its own

    def burst_for(self, alert: Alert, sink: Sink) -> Optional[dict]:
        """The burst this alert belongs to, opening it (and posting its spike) when the threshold is passed."""
        if not self.config.burst_threshold:
            return None
        since = utcnow() - timedelta(seconds=self.config.burst_window)
        if alert.created_at < since:
            return None  # posted before the window: never part of an incident happening now
        burst = self.bursts.open_burst(alert.route, alert.brand, since)
        complaints = None
        if burst is None:
            complaints = self.bursts.recent_complaints(alert.route, alert.brand, since)
            if complaints <= self.config.burst_threshold:
                return None
            burst = self.bursts.start_burst(alert.route, alert.brand)
            log.warning("burst: more than %d complaints about %s on route %s within %.0f min",
                        self.config.burst_threshold, alert.brand, alert.route, self.config.burst_window / 60)
        if not burst["message_ref"]:
            summary = self.bursts.summary(alert.route, alert.brand, since)
            case = self.cases.open_for_burst(burst["id"], alert.brand) if self.cases is not None else None
            spike = Spike(route=alert.route, channel=alert.channel, brand=alert.brand,
                          complaints=complaints or self.bursts.recent_complaints(alert.route, alert.brand, since),
                          window_minutes=round(self.config.burst_window / 60), case=case, **summary)
            burst["message_ref"] = sink.send_spike(spike) or f"spike:{burst['id']}"
        self.bursts.update_burst(burst["id"], burst["message_ref"])
        return burst
