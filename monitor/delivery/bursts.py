"""During an incident, complaints about one brand on one route become one spike message with the most
important of them threaded under it, instead of a flood of separate alerts.

State is kept per sweep: each (route, brand) is looked up once per sweep, not once per alert. A burst's
thread carries its ``burst_replies`` highest-priority complaints; the rest are folded into the burst (counted
on the spike, listed by `monitor cases` and the digest). The spike message is edited in place as the burst
grows, at most once a minute, to show the live count, top topics and top posts.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from monitor.clock import utcnow
from monitor.components import DeliveryError, Sink
from monitor.config import DeliveryConfig
from monitor.model import Alert, Spike
from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository

log = logging.getLogger(__name__)

REFRESH_EVERY = 60.0  # seconds between edits of one spike message (Slack's chat.update is rate limited)


class BurstGrouper:
    def __init__(self, bursts: BurstRepository, config: DeliveryConfig,
                 cases: CaseRepository | None = None) -> None:
        self.bursts = bursts
        self.config = config
        self.cases = cases  # when given, each spike is a case of its own
        self._sweep: dict[tuple[str, str], dict | None] = {}
        self._refreshed: dict[int, float] = {}  # burst id -> when its spike message was last posted or edited
        self._grown: dict[int, str] = {}  # bursts that took complaints since their last edit -> sink name

    def new_sweep(self) -> None:
        self._sweep = {}

    def burst_for(self, alert: Alert, sink: Sink) -> dict | None:
        """The burst this alert belongs to, opening it (and posting its spike) when the threshold is passed."""
        if not self.config.burst_threshold:
            return None
        since = utcnow() - timedelta(seconds=self.config.burst_window)
        if alert.created_at < since:
            return None  # posted before the window: never part of an incident happening now
        key = (alert.route, alert.brand)
        if key not in self._sweep:
            self._sweep[key] = self._load(alert, since)
        burst = self._sweep[key]
        if burst is not None and not burst["message_ref"]:
            self._post_spike(burst, alert, sink, since)
        return burst

    def _load(self, alert: Alert, since: datetime) -> dict | None:
        burst = self.bursts.open_burst(alert.route, alert.brand, since)
        if burst is not None:
            burst["replies"] = self.bursts.replies(burst["id"])
        else:
            complaints = self.bursts.recent_complaints(alert.route, alert.brand, since)
            if complaints <= self.config.burst_threshold:
                return None
            log.warning("burst: more than %d complaints about %s on route %s within %.0f min",
                        self.config.burst_threshold, alert.brand, alert.route, self.config.burst_window / 60)
            burst = {**self.bursts.start_burst(alert.route, alert.brand), "replies": 0, "complaints": complaints}
        # The highest priorities among all that wait now, not only this batch's, get the thread's room.
        room = max(0, self.config.burst_replies - burst["replies"])
        burst["top"] = set(self.bursts.top_waiting(alert.route, alert.brand, since, room)) if room else set()
        return burst

    def _post_spike(self, burst: dict, alert: Alert, sink: Sink, since: datetime) -> None:
        case = self.cases.open_for_burst(burst["id"], alert.brand) if self.cases is not None else None
        complaints = burst.get("complaints") or self.bursts.recent_complaints(alert.route, alert.brand, since)
        spike = Spike(route=alert.route, channel=alert.channel, brand=alert.brand, complaints=complaints,
                      window_minutes=round(self.config.burst_window / 60), case=case,
                      **self.bursts.summary(alert.route, alert.brand, since))
        burst["message_ref"] = sink.send_spike(spike) or f"spike:{burst['id']}"
        self.bursts.update_burst(burst["id"], burst["message_ref"])
        self._refreshed[burst["id"]] = time.monotonic()

    def split(self, burst: dict, alerts: list[Alert]) -> tuple[list[Alert], list[Alert]]:
        """(threaded, folded): the thread takes the highest-priority complaints until it holds burst_replies."""
        room = max(0, self.config.burst_replies - burst["replies"])
        ranked = sorted(alerts, key=lambda a: (-a.priority, a.outbox_id))
        chosen = [a.outbox_id for a in ranked if a.outbox_id in burst["top"]][:room]
        burst["top"].difference_update(chosen)
        # Room not kept for top complaints still to come goes to the next highest (ones stored mid-sweep).
        spare = max(0, room - len(chosen) - len(burst["top"]))
        chosen += [a.outbox_id for a in ranked if a.outbox_id not in chosen][:spare]
        picked = set(chosen)
        burst["replies"] += len(picked)
        return [a for a in alerts if a.outbox_id in picked], [a for a in alerts if a.outbox_id not in picked]

    def grew(self, burst: dict, sink: str) -> None:
        self._grown[burst["id"]] = sink
        self.bursts.update_burst(burst["id"])  # the burst stays open while complaints keep coming

    def refresh_spikes(self, sinks: dict[str, Sink]) -> None:
        """Edit the spike message of each burst that grew, at most once a minute per burst."""
        now = time.monotonic()
        for burst_id, sink_name in list(self._grown.items()):
            if now - self._refreshed.get(burst_id, 0.0) < REFRESH_EVERY:
                continue
            del self._grown[burst_id]
            self._refreshed[burst_id] = now
            view, sink = self.bursts.spike(burst_id), sinks.get(sink_name)
            if view is None or sink is None or not view["message_ref"]:
                continue
            case = self.cases.open_for_burst(burst_id, view["brand"]) if self.cases is not None else None
            try:
                sink.show_spike(Spike.from_view(view, case))
            except DeliveryError as exc:
                log.warning("burst %d: could not update its spike message on %s: %s", burst_id, sink_name, exc)
