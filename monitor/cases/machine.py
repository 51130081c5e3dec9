"""The case state machine: which action takes a case from which states to which, and what a refused
action tells the agent. Pure: the store applies it atomically, the desk and the sinks show it."""
from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("open", "claimed", "resolved", "dismissed", "gone")  # gone: its author deleted the post
ORIGINS = ("slack", "cli", "web", "auto")


@dataclass(frozen=True)
class Transition:
    action: str
    allowed_from: tuple[str, ...]
    to: str
    label: bool | None   # the verdict the action records on the detector, if any


TRANSITIONS = {
    "claim": Transition("claim", ("open",), "claimed", None),
    "resolve": Transition("resolve", ("open", "claimed"), "resolved", True),
    "dismiss": Transition("dismiss", ("open", "claimed"), "dismissed", False),
    "reopen": Transition("reopen", ("resolved", "dismissed"), "open", None),
}
ACTIONS = tuple(TRANSITIONS)


def buttons_for(status: str) -> list[str]:
    """The actions that still apply to a case in ``status``, in the order they are offered."""
    return [name for name, t in TRANSITIONS.items() if status in t.allowed_from]


def refusal(action: str, status: str, by: str | None) -> str:
    """Why ``action`` did not change a case that is ``status`` (already done, or done differently)."""
    who = f" by {by}" if by else ""
    if TRANSITIONS[action].to == status:
        return f"already {status}{who}"
    return f"it is {status}{who}; {action} applies to {' or '.join(TRANSITIONS[action].allowed_from)} cases"
