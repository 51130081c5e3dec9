"""Slack Block Kit messages for alerts, spikes and cases. Untrusted text (posts, authors, reasons, names typed
on the command line) only ever goes into plain_text objects or escaped mrkdwn, so no post can ping @channel,
mention anyone, hide a link or imitate the alert's own fields."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from monitor.model import Alert, CaseState, Spike

TEXT_LIMIT = 3000           # Slack's limit for one text object
POST_LIMIT = 2800           # room left for the truncation note
EVENT_TYPE = "complaint_alert"

def escape(text: str) -> str:
    """Slack's control characters as entities: nothing in the text can become a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = TEXT_LIMIT) -> dict:
    return {"type": "plain_text", "text": escape(text)[:limit] or " ", "emoji": True}


def _post_text(text: str) -> str:
    if len(text) <= POST_LIMIT:
        return text
    return f"{text[:POST_LIMIT]}… [truncated: {len(text) - POST_LIMIT:,} more characters, see the post]"


def _link(url: str | None) -> str:
    # The normalizer only keeps http(s) URLs without spaces or angle brackets; '|' would end the link target.
    return f"<{escape(url).replace('|', '%7C')}|open post>" if url else "no link"


def fallback_text(text: str) -> str:
    """The notification text: escaped, without mrkdwn formatting characters."""
    return escape(text.translate(str.maketrans("", "", "*_~`")))


BUTTONS = {  # action -> (label, style)
    "claim": ("Claim", None), "resolve": ("Resolve", "primary"), "dismiss": ("Not a complaint", "danger"),
    "reopen": ("Reopen", None)}
OFFERED = {"open": ["claim", "resolve", "dismiss"], "claimed": ["resolve", "dismiss"],
           "resolved": ["reopen"], "dismissed": ["reopen"], "gone": []}
ACTION_ID = re.compile(r"^case_(claim|resolve|dismiss|reopen)$")
LABEL_ID = re.compile(r"^label_(complaint|not)$")


def label_blocks(items: list[dict]) -> list[dict]:
    """Posts worth a verdict, each with its two buttons: the answers teach the detector."""
    blocks: list[dict[str, Any]] = []
    for item in items:
        why = "Possible miss" if item["why"] == "possible miss" else "Uncertain alert"
        blocks.append({"type": "section", "text": plain(f"{why}: {item['text'][:400]}", 600)})
        blocks.append({"type": "actions", "block_id": f"label_{item['mention_id']}", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "This is a complaint"},
             "action_id": "label_complaint", "value": str(item["mention_id"]), "style": "primary"},
            {"type": "button", "text": {"type": "plain_text", "text": "Not a complaint"},
             "action_id": "label_not", "value": str(item["mention_id"])}]})
    return blocks
SLACK_USER = re.compile(r"^<@[UW][A-Z0-9]{2,}>$")


def _who(actor: str | None) -> str:
    """A Slack user as a mention (<@U…>), anyone else (a CLI name) as escaped text."""
    return actor if actor and SLACK_USER.match(actor) else escape(actor or "someone")


def _at(when: datetime | None) -> str:
    return when.strftime("%H:%M UTC on %d %b") if isinstance(when, datetime) else ""


def case_status(case: CaseState) -> str:
    return _state_line(case) + _public_answer(case)


def _public_answer(case: CaseState) -> str:
    if not case.public_reply_url or not case.first_response_at:
        return ""
    minutes = max(0, int((case.first_response_at - case.opened_at).total_seconds() // 60))
    return (f" · answered publicly by {escape(case.first_response_by or 'the brand')} after {minutes} min "
            f"({_link(case.public_reply_url).replace('open post', 'reply')})")


def _state_line(case: CaseState) -> str:
    if case.status == "open":
        return f":large_yellow_circle: Case {case.id} · *open* · nobody has claimed it yet"
    if case.status == "claimed":
        return f":large_blue_circle: Case {case.id} · *claimed* by {_who(case.claimed_by)} at {_at(case.claimed_at)}"
    if case.status == "gone":
        return f":wastebasket: Case {case.id} · *gone*: its author deleted the post at {_at(case.closed_at)}"
    if case.status == "resolved":
        return f":white_check_mark: Case {case.id} · *resolved* by {_who(case.closed_by)} at {_at(case.closed_at)}"
    return (f":no_entry_sign: Case {case.id} · *not a complaint* (dismissed by {_who(case.closed_by)} at "
            f"{_at(case.closed_at)})")


def case_blocks(case: CaseState, buttons: bool, reply: bool = False, link=None) -> list[dict]:
    """The case's state line and the buttons that apply; ``reply`` adds Reply (answer the post in public);
    ``link(case_id)`` is the case's page in the web inbox, when there is one."""
    url = link(case.id) if link else None
    inbox = f" · <{escape(url)}|open in the inbox>" if url else ""
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [{"type": "mrkdwn",
                                                                      "text": case_status(case) + inbox}]}]
    if buttons and OFFERED.get(case.status):
        elements = []
        for action in OFFERED[case.status]:
            label, style = BUTTONS[action]
            button = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": f"case_{action}",
                      "value": str(case.id)}
            if style:
                button["style"] = style
            elements.append(button)
        if reply and case.status in ("open", "claimed"):
            elements.append({"type": "button", "text": {"type": "plain_text", "text": "Reply"},
                             "action_id": "reply_open", "value": str(case.id)})
        blocks.append({"type": "actions", "block_id": f"case_{case.id}", "elements": elements})
    return blocks


def alert_message(alert: Alert, buttons: bool = False, reply: bool = False, link=None) -> dict:
    when = alert.created_at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(alert.created_at, datetime) else ""
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text":
            f":rotating_light: *Complaint* · *{escape(alert.brand)}* · priority *{alert.priority:.0f}* · "
            f"topic *{escape(alert.topic)}*"}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"{escape(alert.source)} · {_link(alert.url)} · {when}"},
            plain(f"@{alert.author or 'unknown'} · {alert.author_reach:,} followers", 300)]},
        {"type": "section", "text": plain(_post_text(alert.text))},
        {"type": "context", "elements": [plain("Why: " + alert.reasons_text(), 1000)]},
    ]
    if alert.case is not None:
        blocks += case_blocks(alert.case, buttons, reply, link)
    text = f"Complaint about {alert.brand} (priority {alert.priority:.0f}, {alert.topic}): {alert.text[:200]}"
    return {"text": fallback_text(text), "blocks": blocks,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"outbox_id": alert.outbox_id}}}


def spike_message(spike: Spike, buttons: bool = False, link=None) -> dict:
    topics = ", ".join(f"{escape(t)} ({n})" for t, n in spike.top_topics) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text":
            f":fire: *Spike: {spike.complaints} complaints about {escape(spike.brand)}* in the last "
            f"{spike.window_minutes} min\nTop topics: {topics}\nFurther complaints follow in this thread."}},
    ]
    for post in spike.top_posts[:3]:
        snippet = post["text"] if len(post["text"]) <= 300 else post["text"][:300] + "…"
        blocks.append({"type": "context", "elements": [
            plain(f"@{post['author'] or 'unknown'} · {post['author_reach']:,} followers: {snippet}", 700),
            {"type": "mrkdwn", "text": _link(post.get("url"))}]})
    if spike.case is not None:
        blocks += case_blocks(spike.case, buttons, link=link)
    return {"text": fallback_text(spike.text()), "blocks": blocks}
