"""Case and label buttons through slack-bolt, and who may press them.

A click counts only when all of this holds:
- over HTTP, its signature is valid, its timestamp within 5 minutes, and that signature was not seen before
  (a captured request replayed within the window is refused), all checked before anything reads the body;
- it comes from the bot token's own workspace (auth.test's team, asked once and remembered);
- the user id has Slack's shape, and the user is allowed: in ``allowed_users`` or a member of one of
  ``allowed_usergroups`` when either is set (group members are asked of Slack and remembered 5 minutes);
- a case button sits on a message the service posted for that case (the core checks channel and ts against
  the stored alert); a label button sits on a message this bot posted.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict

from alerts._slack_blocks import ACTION_ID, LABEL_ID, case_status, escape
from monitor import clock
from monitor.components import ActionHandler
from monitor.model import CaseAction, LabelAction
from monitor.ops.logs import LogThrottle

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")
REPLAY_WINDOW = 5 * 60     # seconds: Slack's own limit on a request's age
MAX_REMEMBERED = 100_000   # signatures kept for replay checks; the oldest go first
GROUP_TTL = 300.0          # seconds a user group's member list is trusted


class _Clock:
    """monitor.clock for slack_sdk's SignatureVerifier, so tests and shifted clocks see the same time."""

    def now(self) -> float:
        return clock.timestamp()


class ReplayGuard:
    """Signatures seen within the replay window, oldest first."""

    def __init__(self, window: float = REPLAY_WINDOW, limit: int = MAX_REMEMBERED) -> None:
        self.window, self.limit = window, limit
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        now = clock.timestamp()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - self.window
                                  or len(self._seen) >= self.limit):
                self._seen.popitem(last=False)
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True


class Workspace:
    """The bot token's workspace and bot (auth.test, remembered once it answered) and user group members."""

    def __init__(self, client) -> None:
        self.client = client
        self._identity: dict | None = None
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()  # clicks arrive on several threads: one question to Slack at a time

    def identity(self) -> dict:
        with self._lock:
            if self._identity is None:
                answer = self.client.auth_test()
                self._identity = {"team_id": answer.get("team_id"), "bot_id": answer.get("bot_id"),
                                  "enterprise_id": answer.get("enterprise_id")}
            return self._identity

    def members(self, usergroup: str) -> frozenset[str]:
        with self._lock:
            cached = self._groups.get(usergroup)
            if cached and cached[0] > time.monotonic():
                return cached[1]
            users = frozenset(self.client.usergroups_users_list(usergroup=usergroup).get("users") or ())
            self._groups[usergroup] = (time.monotonic() + GROUP_TTL, users)
            return users


def _bolt_logger() -> logging.Logger:
    """slack-bolt's logger, without the warning it gives at every start when SLACK_BOT_TOKEN is set (it reads the
    variable itself, then uses the client it was given, which holds that same token)."""
    bolt = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _ClientGiven) for f in bolt.filters):
        bolt.addFilter(_ClientGiven())
    return bolt


class _ClientGiven(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well, `token` will be unused")


class SlackActions:
    """Each click is acknowledged at once, checked, handed to the core as a CaseAction or LabelAction, and
    answered with an ephemeral message when it changed nothing or was not allowed."""

    def __init__(self, client, handler: ActionHandler, signing_secret: str | None,
                 allowed_users: list[str] = (), allowed_usergroups: list[str] = ()) -> None:
        from slack_bolt import App  # heavy: only with interactivity on
        from slack_sdk.signature import SignatureVerifier

        self.handler = handler
        self.workspace = Workspace(client)
        self.allowed_users, self.allowed_usergroups = frozenset(allowed_users), tuple(allowed_usergroups)
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock()) if signing_secret else None
        self.replays = ReplayGuard()
        self.refusals = LogThrottle(log)  # anyone can send refused requests: a line a minute, with a count
        # Requests reach bolt only once verified here; bolt's own check would log a refused body at INFO.
        self.app = App(client=client, signing_secret=signing_secret, token_verification_enabled=False,
                       request_verification_enabled=False, logger=_bolt_logger())
        self.app.action(ACTION_ID)(self._clicked)
        self.app.action(LABEL_ID)(self._labelled)

    # -- who clicked, where -------------------------------------------------------------

    def _refusal(self, body: dict, label: bool) -> str | None:
        """Why this click may not act, or None when it may."""
        try:
            me = self.workspace.identity()
        except Exception as exc:  # noqa: BLE001 - without knowing our workspace, no click is trusted
            log.warning("Slack interactivity: auth.test failed, click refused: %s: %s", type(exc).__name__, exc)
            return "The monitor could not confirm its Slack workspace just now; try again in a moment."
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        enterprise = (body.get("enterprise") or {}).get("id")
        if team != me["team_id"] and not (me["enterprise_id"] and enterprise == me["enterprise_id"]):
            log.warning("Slack interactivity: refused a click from another workspace (%s)",
                        team if isinstance(team, str) and TEAM_ID.match(team) else "unknown")
            return "This monitor answers clicks from its own workspace only."
        user = (body.get("user") or {}).get("id")
        if not isinstance(user, str) or not USER_ID.match(user):
            log.warning("Slack interactivity: refused a click whose user id is not a Slack user id")
            return "That click did not say who made it."
        if not self._allowed(user):
            log.warning("Slack interactivity: %s may not act on cases (interactivity.allowed_users / "
                        "allowed_usergroups)", user)
            return "Only the support team can act on cases from Slack: ask an admin to add you."
        if label and (body.get("message") or {}).get("bot_id") != me["bot_id"]:
            return "That button is not on a message from this monitor."
        return None

    def _allowed(self, user: str) -> bool:
        if not self.allowed_users and not self.allowed_usergroups:
            return True
        return user in self.allowed_users or any(self.in_group(user, group) for group in self.allowed_usergroups)

    def in_group(self, user: str, group: str) -> bool:
        try:
            return user in self.workspace.members(group)
        except Exception as exc:  # noqa: BLE001 - a group that cannot be read admits nobody
            log.warning("Slack interactivity: cannot read user group %s: %s: %s", group, type(exc).__name__, exc)
            return False

    @staticmethod
    def _message_ref(body: dict) -> str:
        """Where the button was: "channel:ts", as the stored alert names its message."""
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts") or ""
        return f"{channel}:{ts}"

    def _target(self, ack, body, action, respond, noun: str) -> tuple[str, int] | None:
        """Acknowledges the click (within Slack's 3 seconds, before any database work), checks who clicked and
        where, and reads the number the button carries; answers the agent when the click cannot act."""
        ack()
        refusal = self._refusal(body, label=noun == "post")
        if refusal is None:
            try:
                return f"<@{body['user']['id']}>", int(action.get("value") or "")
            except ValueError:
                refusal = f"That button does not belong to a {noun}."
        respond(text=refusal, response_type="ephemeral", replace_original=False)
        return None

    # -- the clicks ---------------------------------------------------------------------

    def _clicked(self, ack, body, action, respond) -> None:
        target = self._target(ack, body, action, respond, "case")
        if target is None:
            return
        actor, case_id = target
        result = self.handler(CaseAction(case_id=case_id, action=ACTION_ID.match(action["action_id"]).group(1),
                                         actor=actor, origin="slack", message_ref=self._message_ref(body)))
        if not result.changed:
            # The case's own status line names people as Slack renders them; other reasons are plain text.
            text = (f"Nothing changed: {case_status(result.case)}" if result.case is not None
                    else escape(result.message))
            respond(text=text, response_type="ephemeral", replace_original=False)

    def _labelled(self, ack, body, action, respond) -> None:
        target = self._target(ack, body, action, respond, "post")
        if target is None:
            return
        actor, mention_id = target
        result = self.handler(LabelAction(mention_id, LABEL_ID.match(action["action_id"]).group(1) == "complaint",
                                          actor, "slack"))
        respond(text=escape(result.message), response_type="ephemeral", replace_original=False)

    # -- transports -----------------------------------------------------------------------

    def connect_socket(self, app_token: str) -> None:
        """Socket Mode: an outbound WebSocket to Slack (apps.connections.open); each envelope is acknowledged."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        self.socket = SocketModeHandler(self.app, app_token=app_token)
        self.socket.connect()
        log.info("Slack interactivity: connected in Socket Mode")

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
            self.socket = None

    def _signed(self, body: bytes, timestamp: str, signature: str) -> bool:
        try:
            return self.verifier is not None and self.verifier.is_valid(body, timestamp, signature)
        except (TypeError, ValueError):  # a timestamp that is not a number
            return False

    def dispatch_http(self, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        """A request to the Interactivity Request URL: verified here (signature, age, replay), then bolt."""
        from slack_bolt.request import BoltRequest

        headers = {k.lower(): v for k, v in headers.items()}
        signature = headers.get("x-slack-signature", "")
        if not self._signed(body, headers.get("x-slack-request-timestamp", ""), signature):
            self.refusals.warning("signature", "Slack interactivity: refused a request with a bad signature or a "
                                  "stale timestamp")
            return 401, b"invalid request", {"content-type": "text/plain"}
        if not self.replays.first_time(signature):
            self.refusals.warning("replay", "Slack interactivity: refused a replayed request (its signature was "
                                  "already used)")
            return 401, b"replayed request", {"content-type": "text/plain"}
        response = self.app.dispatch(BoltRequest(body=body.decode("utf-8", errors="replace"), headers=headers))
        flat = {k: (v[0] if isinstance(v, (list, tuple)) and v else v) for k, v in (response.headers or {}).items()}
        return response.status, (response.body or "").encode("utf-8"), flat
