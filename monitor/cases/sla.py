"""First-response SLAs: an open case nobody answered in time gets one reminder in its alert's thread and,
if the route says so, one alert on the escalation route. Each reminder is claimed in the database first,
so sweeps, restarts and several instances never repeat it."""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.clock import utcnow
from monitor.components import DeliveryError, Sink
from monitor.config import RouteConfig
from monitor.config.sections import WEEKDAYS, BusinessHoursConfig, minutes
from monitor.store.cases import CaseRepository
from monitor.store.outbox import OutboxRepository

log = logging.getLogger(__name__)


def due_at(opened: datetime, allowed: float, hours: BusinessHoursConfig | None) -> datetime:
    """When ``allowed`` seconds of response time have passed since ``opened``, counting only business hours."""
    if hours is None:
        return opened + timedelta(seconds=allowed)
    zone, left = ZoneInfo(hours.timezone), allowed
    start, end = minutes(hours.start), minutes(hours.end)
    cursor = opened.astimezone(zone)
    for _ in range(3700):  # ten years of days: an SLA always falls due long before
        day = cursor.date()
        if WEEKDAYS[day.weekday()] in hours.days:
            opens, closes = _local(day, start, zone), _local(day, end, zone)
            begin = max(cursor, opens)
            if begin < closes:
                span = (closes - begin).total_seconds()
                if left <= span:
                    return (begin + timedelta(seconds=left)).astimezone(UTC)
                left -= span
        cursor = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return cursor.astimezone(UTC)


def _local(day: date, minute_of_day: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)


class SlaWatch:
    def __init__(self, routes: list[RouteConfig], cases: CaseRepository, outbox: OutboxRepository,
                 sinks: dict[str, Sink]) -> None:
        self.routes = {r.name: r for r in routes if r.sla}
        self.all_routes = {r.name: r for r in routes}
        self.cases, self.outbox, self.sinks = cases, outbox, sinks

    def sweep(self, now: datetime | None = None) -> int:
        """Reminds (and escalates) every overdue case once; returns how many reminders went out."""
        if not self.routes:
            return 0
        now = now or utcnow()
        sent = 0
        for outbox_id, route_name, opened_at in self.outbox.awaiting_reminder(list(self.routes)):
            sla = self.routes[route_name].sla
            due = due_at(opened_at, sla.first_response, sla.business_hours)
            # A reply exactly at the due time is on time, so the case is overdue only after it.
            if now > due and self._remind(outbox_id, self.routes[route_name], now - opened_at):
                sent += 1
        return sent

    def _remind(self, outbox_id: int, route: RouteConfig, waited: timedelta) -> bool:
        if not self.outbox.claim_reminder(outbox_id):
            return False  # another sweep or instance has it
        alert = self.outbox.alert(outbox_id)
        sink = self.sinks.get(alert.sink) if alert else None
        escalate = route.sla.escalate_to
        text = (f"No response yet: this complaint has waited {_span(waited)}, past the {route.name} SLA of "
                f"{_span(timedelta(seconds=route.sla.first_response))}"
                + (f"; escalated to {escalate}." if escalate else ". Claim it or answer it."))
        try:
            if sink is None:
                raise DeliveryError(f"sink {alert.sink if alert else '?'!r} is not enabled")
            sink.remind(alert, text)
        except DeliveryError as exc:
            log.warning("case of alert %d: SLA reminder failed, retried at the next sweep: %s", outbox_id, exc)
            self.outbox.release_reminder(outbox_id)
            return False
        self.cases.note(alert.case.id, "sla_reminder", "monitor", "auto")
        if escalate and escalate in self.all_routes:
            target = self.all_routes[escalate]
            self.outbox.enqueue(alert.mention_id, target.name, target.sink, target.channel)
        log.warning("case %d missed the %s SLA (%s): reminded%s", alert.case.id, route.name, _span(waited),
                    f", escalated to {escalate}" if escalate else "")
        return True


def _span(delta: timedelta) -> str:
    mins = int(delta.total_seconds() // 60)
    return f"{mins} min" if mins < 120 else f"{mins // 60} h {mins % 60:02d} min"
