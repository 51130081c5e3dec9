"""Public replies from Slack: the Reply button opens a form (views.open), typing updates its length count and
a saved reply fills the draft (views.update), and Send posts through the core's reply desk. Nothing is posted
without the agent's click on Send (or an approver's on Approve). A reply the desk refuses keeps the form open
with the network's or the monitor's reason and the draft; a posted one shows its link.

Who may click is checked exactly as for the case buttons (workspace, user, allowed users and groups)."""
from __future__ import annotations

import json
import logging

from alerts._slack_blocks import escape
from alerts._slack_reply_views import (
    APPROVAL,
    DRAFT,
    REPLY_OPEN,
    SUBMIT,
    TEMPLATE,
    draft_of,
    reply_view,
    result_view,
)
from monitor.components import ReplyHandler
from monitor.model import ReplyForm, ReplyRequest

log = logging.getLogger(__name__)


class SlackReplies:
    def __init__(self, actions, handler: ReplyHandler, sink_name: str) -> None:
        """``actions``: the sink's SlackActions, whose app, client and checks the reply clicks share."""
        self.actions, self.handler, self.sink_name = actions, handler, sink_name
        self.client = actions.workspace.client
        app = actions.app
        app.action(REPLY_OPEN)(self._open)
        app.action(DRAFT)(self._typed)
        app.action(TEMPLATE)(self._template)
        for action_id in APPROVAL:
            app.action(action_id)(self._approval)
        app.view(SUBMIT)(self._submit)

    def _actor(self, ack, body, respond=None) -> str | None:
        ack()
        refusal = self.actions._refusal(body, label=False)
        if refusal is None:
            return f"<@{body['user']['id']}>"
        if respond is not None:
            respond(text=refusal, response_type="ephemeral", replace_original=False)
        return None

    def _form(self, case_id: int, respond) -> ReplyForm | None:
        form = self.handler.form(case_id)
        if isinstance(form, str):
            respond(text=escape(form), response_type="ephemeral", replace_original=False)
            return None
        return form

    def _open(self, ack, body, action, respond) -> None:
        if self._actor(ack, body, respond) is None:
            return
        try:
            case_id = int(action.get("value") or "")
        except ValueError:
            return
        form = self._form(case_id, respond)
        if form is not None:
            meta = {"case": case_id, "mode": "off_platform" if form.off_platform else "send"}
            self.client.views_open(trigger_id=body["trigger_id"],
                                   view=reply_view(form, meta, count=self.handler.count(case_id, "")))

    def _typed(self, ack, body, action) -> None:
        """Each keystroke's count, as the network counts it, against its limit."""
        ack()
        view = body.get("view") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        form = self.handler.form(int(meta.get("case", 0)))
        if isinstance(form, str):
            return
        text = str(action.get("value") or "")
        version = int(draft_of(view)[0].split("_")[1] or 0)
        self._update(view, reply_view(form, meta, text, self.handler.count(form.target.case_id, text),
                                      version=version))

    def _template(self, ack, body, action) -> None:
        ack()
        view = body.get("view") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        form = self.handler.form(int(meta.get("case", 0)))
        name = (action.get("selected_option") or {}).get("value")
        if isinstance(form, str) or name not in form.templates:
            return
        text = form.templates[name]
        version = int(draft_of(view)[0].split("_")[1] or 0) + 1
        self._update(view, reply_view(form, meta, text, self.handler.count(form.target.case_id, text),
                                      version=version))

    def _update(self, view: dict, shown: dict) -> None:
        """views.update guarded by the view's hash: when keystrokes race, Slack refuses the older update
        (hash_conflict) and the newer one shows the count."""
        from slack_sdk.errors import SlackApiError

        try:
            self.client.views_update(view_id=view["id"], hash=view.get("hash"), view=shown)
        except SlackApiError as exc:
            log.debug("Slack: reply form not updated: %s", exc.response.get("error"))

    def _submit(self, ack, body, view) -> None:
        """Checks the draft at once (errors keep the form open); then posts and shows what became of it."""
        refusal = self.actions._refusal(body, label=False)
        meta = json.loads(view.get("private_metadata") or "{}")
        block_id, text = draft_of(view)
        if refusal is not None:
            ack(response_action="errors", errors={block_id: refusal[:150]})
            return
        actor, case_id = f"<@{body['user']['id']}>", int(meta.get("case", 0))
        mode = meta.get("mode", "send")
        if mode == "send":
            preview = self.handler.handle(ReplyRequest(case_id, actor, "slack", "preview", text=text,
                                                       via=self.sink_name))
            if not preview.ok and not preview.off_platform:
                ack(response_action="errors", errors={block_id: preview.message[:150]})
                return
        ack(response_action="update", view=result_view("Sending…" if mode != "off_platform" else "Recording…"))
        kind = {"send": "send", "off_platform": "off_platform", "approve": "approve"}.get(mode, "send")
        result = self.handler.handle(ReplyRequest(case_id, actor, "slack", kind, text=text,
                                                  reply_id=meta.get("reply"), via=self.sink_name))
        if result.ok:
            shown = result_view(result.message)
        else:
            form = self.handler.form(case_id)
            shown = result_view(result.message) if isinstance(form, str) else reply_view(
                form, {**meta, "mode": "off_platform" if result.off_platform else mode}, text,
                self.handler.count(case_id, text), error=result.message,
                version=int(block_id.split("_")[1] or 0) + 1)
        try:
            self.client.views_update(view_id=view["id"], view=shown)
        except Exception as exc:  # noqa: BLE001 - the reply's fate is in the thread and the case either way
            log.warning("Slack: could not show the reply's outcome in its form: %s", exc)

    def _approval(self, ack, body, action, respond) -> None:
        actor = self._actor(ack, body, respond)
        if actor is None:
            return
        try:
            case_id, reply_id = (int(part) for part in str(action.get("value")).split(":"))
        except ValueError:
            return
        kind = action["action_id"].removeprefix("reply_")
        if kind == "edit":
            form = self._form(case_id, respond)
            text = self.handler.draft(case_id, reply_id) if form is not None else None
            if form is not None and text is not None:
                meta = {"case": case_id, "mode": "approve", "reply": reply_id}
                self.client.views_open(trigger_id=body["trigger_id"], view=reply_view(
                    form, meta, text, self.handler.count(case_id, text)))
            return
        result = self.handler.handle(ReplyRequest(case_id, actor, "slack", kind, reply_id=reply_id,
                                                  via=self.sink_name))
        respond(text=escape(result.message), response_type="ephemeral", replace_original=False)
