"""Applies an agent's action to a case and shows the outcome on every message of the case, whatever sink
carried it. A click that cannot be applied gets an answer saying why, never silence."""
from __future__ import annotations

import logging

from monitor.cases.machine import ACTIONS, ORIGINS
from monitor.components import DeliveryError, Sink
from monitor.model import (
    MAX_ROW_ID,
    ActionResult,
    Alert,
    ApprovalRequest,
    CaseAction,
    CaseState,
    LabelAction,
    PublicReply,
    Spike,
)
from monitor.ops import metrics
from monitor.store.bursts import BurstRepository
from monitor.store.cases import CaseRepository
from monitor.store.labels import LabelRepository
from monitor.store.outbox import OutboxRepository

log = logging.getLogger(__name__)


class CaseDesk:
    def __init__(self, cases: CaseRepository, outbox: OutboxRepository, sinks: dict[str, Sink],
                 bursts: BurstRepository | None = None, labels: LabelRepository | None = None) -> None:
        self.cases, self.outbox, self.sinks, self.bursts, self.labels = cases, outbox, sinks, bursts, labels

    def act(self, request: CaseAction | LabelAction) -> ActionResult:
        if isinstance(request, LabelAction):
            return self._label(request)
        if request.action not in ACTIONS or request.origin not in ORIGINS:
            return self._counted(request, ActionResult(False, f"unknown action {request.action!r}"))
        if not 0 < request.case_id <= MAX_ROW_ID:
            return self._counted(request, ActionResult(False, "there is no case with that number"))
        try:
            if request.message_ref is not None and not self._shown_on(request.case_id, request.message_ref):
                log.warning("case %s: refused a %s by %s from a message not posted for it (%s)", request.case_id,
                            request.action, request.actor, request.message_ref[:80])
                return self._counted(request, ActionResult(False, "That button is not on this case's alert."))
            outcome = self.cases.apply(request.case_id, request.action, request.actor, request.origin)
        except Exception as exc:  # noqa: BLE001 - the database may be away: the agent must hear it
            log.error("case %s: %s by %s failed: %s", request.case_id, request.action, request.actor, exc)
            return self._counted(request, ActionResult(False, "the monitor could not record that (its database "
                                                              "did not answer); try again in a moment"), "error")
        if outcome.case is None:
            return self._counted(request, ActionResult(False, outcome.reason))
        # Shown whether or not this action changed it: the message must end showing the final state.
        self.show(outcome.case)
        if outcome.first_response:
            metrics.FIRST_RESPONSE_SECONDS.observe(
                max(0.0, (outcome.case.first_response_at - outcome.case.opened_at).total_seconds()))
        if outcome.changed and outcome.case.burst_id and request.action in ("resolve", "dismiss"):
            self._close_thread(outcome.case.burst_id, request)
        if outcome.changed:
            log.info("case %d %s by %s (%s)", outcome.case.id, outcome.case.status, request.actor, request.origin,
                     extra={"event": "case", "case": outcome.case.id, "action": request.action,
                            "actor": request.actor, "origin": request.origin})
            return self._counted(request, ActionResult(True, f"case {outcome.case.id} is {outcome.case.status}",
                                                       outcome.case))
        return self._counted(request, ActionResult(False, f"case {outcome.case.id} was not changed: "
                                                          f"{outcome.reason}", outcome.case))

    def _shown_on(self, case_id: int, message_ref: str) -> bool:
        """Whether the service posted ``message_ref`` ("channel:ts") for this case: one of its alerts, or the
        spike message of its burst. An unknown case passes, so that apply() says there is no such case."""
        case = self.cases.get(case_id)
        if case is None:
            return True
        if case.burst_id is not None and self.bursts is not None:
            view = self.bursts.spike(case.burst_id)
            if view and view["message_ref"] == message_ref:
                return True
        return any((alert := self.outbox.alert(i)) is not None and alert.message_ref == message_ref
                   for i in self.cases.messages(case_id))

    def answered_publicly(self, replies: list[PublicReply]) -> None:
        """The brand's public replies: each answered case records its first response and shows it."""
        for reply in replies:
            try:
                outcome = self.cases.answer_publicly(reply)
            except Exception as exc:  # noqa: BLE001 - a reply that cannot be recorded must not stop the poll
                log.error("public reply to %s by %s not recorded: %s", reply.in_reply_to, reply.account, exc)
                continue
            if outcome is None or not outcome.changed:
                continue
            case = outcome.case
            metrics.FIRST_RESPONSE_SECONDS.observe(max(0.0, (case.first_response_at - case.opened_at).total_seconds()))
            log.info("case %d answered publicly by %s", case.id, reply.account,
                     extra={"event": "case", "case": case.id, "action": "answer", "actor": reply.account,
                            "origin": "auto"})
            self.show(case)

    def _label(self, request: LabelAction) -> ActionResult:
        verdict = "a complaint" if request.is_complaint else "not a complaint"
        action = "label_complaint" if request.is_complaint else "label_not"
        if not 0 < request.mention_id <= MAX_ROW_ID:
            metrics.CASE_ACTIONS.labels(action, request.origin, "refused").inc()
            return ActionResult(False, "there is no stored post with that number")
        try:
            known = self.labels.label_mention(request.mention_id, request.is_complaint, request.actor, request.origin)
        except Exception as exc:  # noqa: BLE001 - the agent must hear that it did not count
            log.error("label of post %s by %s failed: %s", request.mention_id, request.actor, exc)
            result = ActionResult(False, "the monitor could not record that (its database did not answer); try again")
            metrics.CASE_ACTIONS.labels(action, request.origin, "error").inc()
            return result
        if not known:
            metrics.CASE_ACTIONS.labels(action, request.origin, "refused").inc()
            return ActionResult(False, f"there is no stored post {request.mention_id}")
        metrics.CASE_ACTIONS.labels(action, request.origin, "changed").inc()
        return ActionResult(True, f"Thanks: post {request.mention_id} is labelled {verdict}; the detector learns "
                                  "from it at its next training")

    def _close_thread(self, burst_id: int, request: CaseAction) -> None:
        """Resolving or dismissing a spike does the same to the thread's complaints nobody claimed separately."""
        for case_id in self.cases.open_in_thread(burst_id):
            outcome = self.cases.apply(case_id, request.action, request.actor, request.origin)
            if outcome.case is not None:
                self.show(outcome.case)

    def show_cases(self, case_ids: list[int]) -> None:
        """Shows each case's state on its messages (cases changed outside an agent's action)."""
        for case_id in case_ids:
            case = self.cases.get(case_id)
            if case is not None:
                self.show(case)

    def show(self, case: CaseState) -> None:
        """Edits every delivered message of the case to show its state (and only the actions that apply)."""
        if case.burst_id is not None:
            self._show_spike(case)
            return
        for outbox_id in self.cases.messages(case.id):
            alert = self.outbox.alert(outbox_id)
            sink = self.sinks.get(alert.sink) if alert else None
            if sink is None:
                continue
            try:
                sink.show_case(alert)
            except DeliveryError as exc:
                log.warning("case %d: could not update its message on %s: %s", case.id, alert.sink, exc)

    def _alerts(self, case_id: int) -> list[tuple[Sink, Alert]]:
        found = []
        for outbox_id in self.cases.messages(case_id):
            alert = self.outbox.alert(outbox_id)
            sink = self.sinks.get(alert.sink) if alert else None
            if sink is not None:
                found.append((sink, alert))
        return found

    def tell(self, case_id: int, text: str) -> None:
        """A note under each delivered alert of the case (in its thread where the sink has threads)."""
        for sink, alert in self._alerts(case_id):
            try:
                sink.remind(alert, text)
            except DeliveryError as exc:
                log.warning("case %d: could not post a note on %s: %s", case_id, alert.sink, exc)

    def ask_approval(self, case_id: int, request: ApprovalRequest) -> list[str]:
        """Shows a draft reply for approval under each alert of the case; the messages' references."""
        refs = []
        for sink, alert in self._alerts(case_id):
            try:
                ref = sink.ask_approval(alert, request)
            except DeliveryError as exc:
                log.warning("case %d: could not ask for approval on %s: %s", case_id, alert.sink, exc)
                continue
            if ref:
                refs.append(f"{alert.sink}|{ref}")
        return refs

    def settle_approval(self, case_id: int, message_ref: str, request: ApprovalRequest, outcome: str) -> None:
        name, _, ref = message_ref.partition("|")
        sink = self.sinks.get(name)
        if sink is None:
            return
        try:
            sink.settle_approval(ref, request, outcome)
        except DeliveryError as exc:
            log.warning("case %d: could not update the approval request on %s: %s", case_id, name, exc)

    def _show_spike(self, case: CaseState) -> None:
        view = self.bursts.spike(case.burst_id) if self.bursts is not None else None
        sink = self.sinks.get(view["sink"]) if view else None
        if sink is None or not view["message_ref"]:
            return
        try:
            sink.show_spike(Spike.from_view(view, case))
        except DeliveryError as exc:
            log.warning("case %d: could not update its spike message on %s: %s", case.id, view["sink"], exc)

    @staticmethod
    def _counted(request: CaseAction, result: ActionResult, outcome: str = "") -> ActionResult:
        metrics.CASE_ACTIONS.labels(request.action if request.action in ACTIONS else "unknown", request.origin,
                                    outcome or ("changed" if result.changed else "refused")).inc()
        return result
