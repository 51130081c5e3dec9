"""Public replies written in the monitor, from Slack or the CLI: checked before anything is posted (words,
length as the network counts it, the post still there, approval), stored before the network is called,
posted once, and recorded as the case's response with its link in the alert's thread.

Nothing is posted without an agent's explicit request; a reply whose fate is unknown (a crash or a timeout
between the call and the record) is looked for on the network before anyone may send it again.
"""
from __future__ import annotations

import logging
import re

from sqlalchemy.exc import DBAPIError

from monitor.cases.desk import CaseDesk
from monitor.cases.drafting import NO_WRITE_API, PLATFORM_NAMES, fill, new_key, problem, source_platforms
from monitor.cases.posting import ReplyPoster
from monitor.components import Replier, ReplyError, Sink
from monitor.config.replies import RepliesConfig
from monitor.model import ApprovalRequest, ReplyForm, ReplyRequest, ReplyResult, ReplyTarget
from monitor.ops import metrics
from monitor.store.replies import Reply, ReplyRepository

log = logging.getLogger(__name__)

SLACK_ACTOR = re.compile(r"^<@([UW][A-Z0-9]{2,20})>$")


class ReplyDesk:
    def __init__(self, settings: RepliesConfig, accounts: list, sources: dict, replies: ReplyRepository,
                 desk: CaseDesk, sinks: dict[str, Sink]) -> None:
        """``sources``: the configured sources by name (Component), whose posts the replies answer."""
        self.settings, self.accounts = settings, accounts
        self.source_types = {name: comp.type_name for name, comp in sources.items()}
        self.platforms = source_platforms(sources)
        self.replies, self.desk, self.sinks = replies, desk, sinks
        self._repliers: dict[tuple[str, str], Replier] = {}
        self.poster = ReplyPoster(replies, desk, self._resolve)

    def _resolve(self, case_id: int) -> tuple[ReplyForm, Replier] | None:
        form = self.form(case_id)
        replier = None if isinstance(form, str) or form.off_platform else self._replier(form.target)
        return (form, replier) if isinstance(replier, Replier) else None

    def reconcile(self) -> int:
        """At start: the replies a crash left 'sending', settled from what the networks have."""
        return self.poster.reconcile()

    # -- what the agent sees ------------------------------------------------------------

    def _target(self, case_id: int) -> ReplyTarget | None:
        return self.replies.target(case_id, lambda source: self.platforms.get(source, ""))

    def _replier(self, target: ReplyTarget) -> Replier | str:
        """The brand account's replier for the post's network, or why there is none."""
        if not target.platform:
            kind = self.source_types.get(target.source, target.source)
            return NO_WRITE_API.get(kind, f"posts of {kind} sources cannot be answered from here")
        account = next((a for a in self.accounts if a.brand == target.brand and a.platform == target.platform),
                       None)
        if account is None:
            return (f"no {PLATFORM_NAMES[target.platform]} account of {target.brand} is set up to reply: add one "
                    f"under replies.accounts (platform: {target.platform})")
        key = (account.brand, account.platform)
        if key not in self._repliers:
            self._repliers[key] = account.cls(account.config)
        return self._repliers[key]

    def form(self, case_id: int) -> ReplyForm | str:
        target = self._target(case_id)
        if target is None:
            return f"case {case_id} has no single post to answer (no such case, or a spike's case)"
        replier = self._replier(target)
        name = PLATFORM_NAMES.get(target.platform, self.source_types.get(target.source, target.source))
        templates = {n: fill(t, target) for n, t in self.settings.templates.items()}
        approval = self.settings.needs_approval(target.brand)
        if isinstance(replier, str):
            return ReplyForm(target, name, "", 0, "characters", templates, replier, approval)
        try:
            return ReplyForm(target, name, replier.account(), replier.limit(), replier.counts, templates, None,
                             approval)
        except ReplyError as exc:
            return ReplyForm(target, name, "", 0, "characters", templates, str(exc), approval)

    def count(self, case_id: int, text: str) -> str:
        form = self.form(case_id)
        if isinstance(form, str):
            return form
        replier = None if form.off_platform else self._replier(form.target)
        return form.count_line(text, replier.length(text) if isinstance(replier, Replier) else None)

    def draft(self, case_id: int, reply_id: int) -> str | None:
        waiting = [r for r in self.replies.awaiting(case_id) if r.id == reply_id]
        return waiting[0].text if waiting else None

    # -- what the agent does ------------------------------------------------------------

    def handle(self, request: ReplyRequest) -> ReplyResult:
        try:
            result = self._handle(request)
        except Exception as exc:  # noqa: BLE001 - the database may be away: the agent must hear it
            database = isinstance(exc, DBAPIError)
            log.error("case %s: reply (%s) by %s failed: %s", request.case_id, request.action, request.actor, exc,
                      exc_info=not database)
            why = "its database did not answer" if database else f"unexpected {type(exc).__name__}, logged"
            result = ReplyResult(False, f"the monitor could not complete that ({why}); nothing was posted by this "
                                        "request unless the case's thread says so")
        metrics.REPLIES.labels(request.action, request.origin, "ok" if result.ok else "refused").inc()
        return result

    def _handle(self, request: ReplyRequest) -> ReplyResult:
        if request.action in ("approve", "reject"):
            return self._decide(request)
        form = self.form(request.case_id)
        if isinstance(form, str):
            return ReplyResult(False, form)
        text = self._words(request, form)
        if isinstance(text, ReplyResult):
            return text
        if request.action == "off_platform":
            return self._answered_elsewhere(request, form, text)
        if form.off_platform:
            return self.poster.refused(form, ReplyError(form.off_platform, off_platform=True), text)
        replier = self._replier(form.target)
        length = replier.length(text)
        why = problem(text, length, form.limit, form.counts, form.platform_name)
        if why:
            return ReplyResult(False, why, draft=text)
        if request.action == "preview":
            return ReplyResult(True, f"would post as {form.account} on {form.platform_name}, in reply to "
                                     f"{form.target.url or form.target.external_id} "
                                     f"({form.count_line(text, length)}):\n{text}", draft=text)
        if form.needs_approval and not self._approver(request.actor, request.via):
            return self._wait_for_approval(request, form, text)
        return self.poster.start_and_send(request, form, replier, text, request.actor)

    def _words(self, request: ReplyRequest, form: ReplyForm) -> str | ReplyResult:
        if request.template:
            if request.template not in form.templates:
                known = ", ".join(sorted(form.templates)) or "none are configured (replies.templates)"
                return ReplyResult(False, f"there is no saved reply {request.template!r} (known: {known})")
            return form.templates[request.template]
        return (request.text or "").strip()

    def _approver(self, actor: str, via: str | None) -> bool:
        names = self.settings.approvers
        user = SLACK_ACTOR.match(actor)
        if actor in names or (user and user.group(1) in names):
            return True
        sink = self.sinks.get(via or "")
        groups = self.settings.slack_approvers()[1]
        return bool(user and sink and any(sink.member_of(user.group(1), group) for group in groups))

    def _wait_for_approval(self, request: ReplyRequest, form: ReplyForm, text: str) -> ReplyResult:
        reply, owned = self.replies.start(form.target.case_id, form.target.platform, text, new_key(), request.actor,
                                          request.origin, "awaiting_approval")
        if not owned:
            return self.poster.already(reply)
        asked = ApprovalRequest(reply.id, reply.case_id, request.actor, text, form.account, form.platform_name)
        refs = self.desk.ask_approval(reply.case_id, asked)
        if refs:
            self.replies.set_message(reply.id, refs[0])
        log.info("case %d: reply %d by %s waits for approval", reply.case_id, reply.id, request.actor)
        return ReplyResult(True, f"Your reply waits for an approver (draft {reply.id}); it is posted when one "
                                 "approves it.", reply_id=reply.id, draft=text)

    def _decide(self, request: ReplyRequest) -> ReplyResult:
        reply = self._draft(request)
        if isinstance(reply, ReplyResult):
            return reply
        if not self._approver(request.actor, request.via):
            return ReplyResult(False, "only an approver (replies.approvers) can approve or reject a draft reply")
        form = self.form(reply.case_id)
        if isinstance(form, str):
            return ReplyResult(False, form)
        asked = ApprovalRequest(reply.id, reply.case_id, reply.author, reply.text, form.account, form.platform_name)
        if request.action == "reject":
            if self.replies.move(reply.id, ("awaiting_approval",), "rejected", approved_by=request.actor) is None:
                return self.poster.already(self.replies.get(reply.id))
            self._settle(reply, asked, f"Rejected by {request.actor}; nothing was posted.")
            return ReplyResult(True, f"draft {reply.id} rejected; nothing was posted", reply_id=reply.id)
        text = (request.text or "").strip() or reply.text  # an approver may edit before sending
        replier = self._replier(form.target)
        if isinstance(replier, str):
            return ReplyResult(False, replier, off_platform=replier, link=form.target.url, draft=text)
        why = problem(text, replier.length(text), form.limit, form.counts, form.platform_name)
        if why:
            return ReplyResult(False, why, draft=text)
        try:
            replier.check(form.target)
        except ReplyError as exc:
            return self.poster.refused(form, exc, text, reply.id)
        moved = self.replies.move(reply.id, ("awaiting_approval",), "sending", approved_by=request.actor,
                                  text=text, key=new_key())
        if moved is None:
            return self.poster.already(self.replies.get(reply.id))
        result = self.poster.send(moved, form, replier, reply.author)
        self._settle(reply, asked, f"Approved by {request.actor}: " + result.message)
        return result

    def _draft(self, request: ReplyRequest) -> Reply | ReplyResult:
        waiting = self.replies.awaiting(request.case_id)
        if request.reply_id is not None:
            waiting = [r for r in waiting if r.id == request.reply_id]
        if not waiting:
            return ReplyResult(False, f"case {request.case_id} has no draft reply waiting for approval")
        return waiting[0]

    def _settle(self, reply: Reply, asked: ApprovalRequest, outcome: str) -> None:
        if reply.message_ref:
            self.desk.settle_approval(reply.case_id, reply.message_ref, asked, outcome)

    def _answered_elsewhere(self, request: ReplyRequest, form: ReplyForm, text: str) -> ReplyResult:
        reply, owned = self.replies.start(form.target.case_id, form.target.platform or "none",
                                          text or f"(answered off-platform by {request.actor})", new_key(),
                                          request.actor, request.origin, "off_platform")
        if not owned:
            return self.poster.already(reply)
        case, _first = self.replies.record_off_platform(reply, request.actor)
        self.desk.show(case)
        self.desk.tell(case.id, f"{request.actor} answered this in {form.platform_name}'s own app (off-platform).")
        return ReplyResult(True, f"case {case.id} is recorded as answered off-platform by {request.actor}", case=case,
                           reply_id=reply.id)

    def close(self) -> None:
        for replier in self._repliers.values():
            replier.close()
