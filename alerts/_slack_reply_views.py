"""Block Kit for public replies: the Reply form (a modal quoting the post, a draft box whose length is counted
as the network counts it while the agent types, saved replies, and the account the reply is posted as), what
became of a reply, and the approval request that waits in the alert's thread. Post text and drafts only ever
go into plain_text objects."""
from __future__ import annotations

import json
from typing import Any

from alerts._slack_blocks import plain
from monitor.model import ApprovalRequest, ReplyForm

REPLY_OPEN = "reply_open"
DRAFT = "reply_draft"
TEMPLATE = "reply_template"
SUBMIT = "reply_submit"
APPROVAL = ("reply_approve", "reply_edit", "reply_reject")
MAX_DRAFT = 3000  # Slack's plain_text_input limit; every network's own limit is lower


def _title(text: str) -> dict:
    return {"type": "plain_text", "text": text[:24]}


def reply_view(form: ReplyForm, meta: dict, text: str = "", count: str | None = None, error: str | None = None,
               version: int = 0) -> dict:
    """The Reply form. ``version`` renames the draft block, which makes Slack show ``text`` (a saved reply
    chosen) instead of what was typed."""
    target = form.target
    where = f"{form.platform_name} as {form.account}" if not form.off_platform else form.platform_name
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Reply in public on {_escape(where)}*"}},
        {"type": "context", "elements": [plain(f"@{target.author or 'unknown'} wrote:", 300)]},
        {"type": "section", "text": plain(target.text[:1500] + ("…" if len(target.text) > 1500 else ""))},
    ]
    if form.off_platform:
        blocks.append({"type": "section", "text": plain(f"This reply cannot be posted from here: "
                                                        f"{form.off_platform}. Copy the draft, answer in the "
                                                        "network's own app, then confirm below.")})
        if target.url:
            link = f"<{_url(target.url)}|Open the post>"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
    if form.templates:
        blocks.append({"type": "actions", "block_id": "templates", "elements": [{
            "type": "static_select", "action_id": TEMPLATE, "placeholder": _title("Saved replies"),
            "options": [{"text": plain(name, 75), "value": name} for name in list(form.templates)[:100]]}]})
    draft = {"type": "plain_text_input", "action_id": DRAFT, "multiline": True, "max_length": MAX_DRAFT,
             "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]}}
    if text:
        draft["initial_value"] = text[:MAX_DRAFT]
    blocks.append({"type": "input", "block_id": f"draft_{version}", "dispatch_action": True,
                   "label": plain("Your reply", 2000), "element": draft})
    blocks.append({"type": "context", "block_id": "count", "elements": [plain(count or " ", 300)]})
    if form.needs_approval:
        blocks.append({"type": "context", "elements": [plain("Replies for this brand need an approver: yours waits "
                                                             "in the alert's thread until one approves it.", 300)]})
    if error:
        blocks.append({"type": "section", "text": plain(f"Not sent: {error}")})
    submit = "I answered it there" if form.off_platform else "Send reply"
    return {"type": "modal", "callback_id": SUBMIT, "title": _title("Reply"), "submit": _title(submit),
            "close": _title("Cancel"), "private_metadata": json.dumps(meta)[:3000], "blocks": blocks}


def result_view(text: str) -> dict:
    return {"type": "modal", "title": _title("Reply"), "close": _title("Done"),
            "blocks": [{"type": "section", "text": plain(text)}]}


def approval_blocks(request: ApprovalRequest, buttons: bool) -> list[dict]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": plain(f"Draft reply by {request.author}, to be posted as {request.account} on "
                                          f"{request.platform_name}; it waits for an approver:")},
        {"type": "section", "text": plain(request.text)},
    ]
    if buttons:
        value = f"{request.case_id}:{request.reply_id}"
        labels = {"reply_approve": ("Approve and send", "primary"), "reply_edit": ("Edit", None),
                  "reply_reject": ("Reject", "danger")}
        elements = []
        for action_id in APPROVAL:
            label, style = labels[action_id]
            element = {"type": "button", "text": plain(label, 75), "action_id": action_id, "value": value}
            if style:
                element["style"] = style
            elements.append(element)
        blocks.append({"type": "actions", "block_id": f"approval_{request.reply_id}", "elements": elements})
    return blocks


def settled_blocks(request: ApprovalRequest, outcome: str) -> list[dict]:
    return approval_blocks(request, buttons=False)[:2] + [{"type": "context", "elements": [plain(outcome, 2000)]}]


def draft_of(view: dict) -> tuple[str, str]:
    """(block id, text) of the draft box in a submitted or updated view's state."""
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        if block_id.startswith("draft_") and isinstance(actions, dict):
            return block_id, str((actions.get(DRAFT) or {}).get("value") or "")
    return "draft_0", ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(url: str) -> str:
    return _escape(url).replace("|", "%7C")
