"""Posting a reply once: the row is stored 'sending' before the network is called, the network's answer
settles it (sent and recorded as the case's response, or failed with the network's reason), and a reply
left 'sending' by a crash or a timeout is looked for on the network before anyone may send it again."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from monitor.cases.desk import CaseDesk
from monitor.cases.drafting import new_key
from monitor.clock import utcnow
from monitor.components import Replier, ReplyError
from monitor.model import ReplyForm, ReplyRequest, ReplyResult
from monitor.ops import metrics
from monitor.store.replies import Reply, ReplyRepository

log = logging.getLogger(__name__)

STALE = timedelta(minutes=2)  # a reply 'sending' this long is looked for before another attempt


class ReplyPoster:
    def __init__(self, replies: ReplyRepository, desk: CaseDesk,
                 resolve: Callable[[int], tuple[ReplyForm, Replier] | None]) -> None:
        """``resolve``: a case's reply form and its account's replier, None when it has none."""
        self.replies, self.desk, self.resolve = replies, desk, resolve

    def start_and_send(self, request: ReplyRequest, form: ReplyForm, replier: Replier, text: str,
                        author: str) -> ReplyResult:
        flying = self.replies.in_flight(form.target.case_id)
        if flying is not None and flying.status == "sending":
            if flying.updated_at <= utcnow() - STALE:
                self.reconcile([flying])
            if (flying := self.replies.in_flight(form.target.case_id)) is not None and flying.status == "sending":
                return ReplyResult(False, f"a reply to case {flying.case_id} by {flying.author} is being posted; "
                                          "wait for it before sending another", reply_id=flying.id)
        try:
            replier.check(form.target)
        except ReplyError as exc:
            return self.refused(form, exc, text)
        reply, owned = self.replies.start(form.target.case_id, form.target.platform, text, new_key(), author,
                                          request.origin, "sending")
        if not owned:
            return self.already(reply)
        return self.send(reply, form, replier, author)

    def send(self, reply: Reply, form: ReplyForm, replier: Replier, author: str) -> ReplyResult:
        try:
            sent = replier.send(form.target, reply.text, reply.key)
        except ReplyError as exc:
            if exc.unknown:  # it may be public: found again before anyone may send it again
                self.replies.note_error(reply.id, str(exc))
                log.warning("case %d: reply %d may or may not be posted: %s", reply.case_id, reply.id, exc)
                return ReplyResult(False, f"{form.platform_name} did not confirm the reply ({exc}); the monitor "
                                          "checks the account's replies before it can be sent again",
                                   reply_id=reply.id)
            self.replies.move(reply.id, ("sending",), "failed", error=str(exc)[:1000])
            return self.refused(form, exc, reply.text, reply.id)
        return self._recorded(reply, sent, form, author)

    def _recorded(self, reply: Reply, sent, form: ReplyForm, author: str) -> ReplyResult:
        outcome = self.replies.record_sent(reply, sent, author)
        case = outcome[0] if outcome else None
        log.info("case %d: replied publicly as %s: %s", reply.case_id, form.account, sent.url,
                 extra={"event": "case", "case": reply.case_id, "action": "reply", "actor": author,
                        "origin": reply.origin})
        if outcome is not None:
            if outcome[1]:
                metrics.FIRST_RESPONSE_SECONDS.observe(
                    max(0.0, (case.first_response_at - case.opened_at).total_seconds()))
            self.desk.show(case)
            self.desk.tell(reply.case_id, f"Replied in public as {form.account} by {author}: "
                                          f"{sent.url or 'posted'}\n> {reply.text}")
        return ReplyResult(True, f"Posted on {form.platform_name} as {form.account}: {sent.url or sent.external_id}",
                           case=case, url=sent.url, reply_id=reply.id)

    def refused(self, form: ReplyForm, exc: ReplyError, text: str, reply_id: int | None = None) -> ReplyResult:
        if exc.off_platform:
            return ReplyResult(False, f"{exc}. Answer in {form.platform_name}'s app, then mark the case answered "
                                      "off-platform.", off_platform=str(exc), link=form.target.url, draft=text,
                               reply_id=reply_id)
        return ReplyResult(False, f"{form.platform_name} did not take the reply: {exc}", draft=text, reply_id=reply_id)

    @staticmethod
    def already(reply: Reply | None) -> ReplyResult:
        if reply is None:
            return ReplyResult(False, "that reply is gone")
        said = {"sent": f"already posted: {reply.url or reply.external_id}",
                "sending": f"already being posted by {reply.author}",
                "awaiting_approval": f"already waiting for approval (draft {reply.id})",
                "off_platform": "already recorded as answered off-platform",
                "rejected": "it was rejected", "failed": "it failed; send it again"}.get(reply.status, reply.status)
        return ReplyResult(False, f"Nothing sent: this reply was {said}" if reply.status != "sending" else
                           f"Nothing sent: this reply is {said}", url=reply.url, reply_id=reply.id)

    def reconcile(self, rows: list[Reply] | None = None, older_than: timedelta = timedelta(0)) -> int:
        """Replies left 'sending': recorded when the network has them, else failed (sendable again). Never
        posts. Returns how many were settled."""
        settled = 0
        for reply in self.replies.unsettled(older_than) if rows is None else rows:
            found_account = self.resolve(reply.case_id)
            if found_account is None:
                continue
            form, replier = found_account
            try:
                found = replier.find_sent(form.target, reply.text, reply.key)
            except ReplyError as exc:
                log.warning("case %d: cannot tell yet whether reply %d was posted: %s", reply.case_id, reply.id, exc)
                continue
            if found is not None:
                self._recorded(reply, found, form, reply.author)
            else:
                self.replies.move(reply.id, ("sending",), "failed", error="not found on the network after an "
                                                                           "interrupted send; send it again")
                log.warning("case %d: reply %d was not posted (interrupted); it can be sent again", reply.case_id,
                            reply.id)
            settled += 1
        return settled

