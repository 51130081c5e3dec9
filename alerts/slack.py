"""Slack alerts through slack_sdk: Block Kit messages with a bot token (chat.postMessage), or an
incoming webhook for the simple setup.

Post text is untrusted. It goes into plain_text objects (no mrkdwn, no mentions, no links) with
&, < and > escaped as Slack asks, so no post can ping @channel, mention anyone, hide a link or
imitate the alert's own fields. Each message carries its outbox id as message metadata, so after a
crash mid-send the alert can be found in the channel instead of being posted twice.

With interactivity on (bot token only), each alert carries its case's buttons: Claim, Resolve, Not a
complaint, and Reopen once closed. Clicks reach the sink through slack-bolt over HTTP (Slack posts to the
ops server; every request's signature is checked); the core applies them and the sink edits the message
in place (chat.update) to show who did what, with only the buttons that still apply.
"""
from __future__ import annotations

import logging
import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from alerts._pacing import ChannelPacer
from alerts._slack_actions import USER_ID, USERGROUP_ID, SlackActions
from alerts._slack_blocks import (
    alert_message,
    escape,
    fallback_text,
    label_blocks,
    plain,
    spike_message,
)
from alerts._slack_reply_views import approval_blocks, settled_blocks
from monitor import clock
from monitor.components import ActionHandler, DeliveryError, HttpRoute, ReplyHandler, Sink
from monitor.config import Duration, SinkConfig, StrictModel
from monitor.model import Alert, ApprovalRequest, Report, Spike
from monitor.registry import sinks

log = logging.getLogger(__name__)

FIX = {
    "invalid_auth": "the bot token is invalid or revoked: set SLACK_BOT_TOKEN to the app's xoxb- token",
    "not_authed": "no token was sent: set SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the bot token belongs to a deactivated app or user: reinstall the app",
    "channel_not_found": "the channel does not exist or the bot cannot see it: check the route's channel "
                         "(prefer channel IDs like C0123456789)",
    "not_in_channel": "the bot is not a member of the channel: /invite the app to it",
    "is_archived": "the channel is archived: choose another channel for the route",
    "missing_scope": "the app lacks a scope: add chat:write (and channels:history to find messages after a "
                     "restart) and reinstall",
    "no_service": "the webhook URL is disabled or wrong: create a new incoming webhook",
    "action_prohibited": "an admin blocked this webhook",
    "invalid_token": "the webhook URL's token is invalid: create a new incoming webhook",
    "no_team": "the webhook's workspace no longer exists: create a new incoming webhook",
    "team_disabled": "the webhook's workspace is disabled",
    "invalid_blocks": "Slack rejected the message layout",
}
PERMANENT = set(FIX) - {"invalid_blocks"}


class SlackInteractivityConfig(StrictModel):
    mode: Literal["off", "http", "socket"] = Field("off", description="off: alerts carry no buttons; http: Slack "
                                                   "posts clicks to the ops server (service.http) at path; "
                                                   "socket: the monitor connects out to Slack (no public URL)")
    signing_secret: SecretStr | None = Field(None, description="http mode: the app's signing secret, write "
                                                "${SLACK_SIGNING_SECRET}")
    app_token: SecretStr | None = Field(None, description="socket mode: an app-level token (xapp-) with "
                                           "connections:write, write ${SLACK_APP_TOKEN}")
    path: str = Field("/slack/events", pattern=r"^/[\w\-/]*$", description="http mode: the path Slack posts to "
                      "(the app's Interactivity Request URL is https://<your host><path>)")
    allowed_users: list[str] = Field(default_factory=list, description="Slack user ids (U…) who may press case "
                                     "and label buttons; with allowed_usergroups empty too, anyone in the workspace")
    allowed_usergroups: list[str] = Field(default_factory=list, description="Slack user group ids (S…) whose "
                                          "members may press the buttons (needs the usergroups:read scope)")

    @field_validator("signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value else ""
        if secret.startswith(("xox", "xapp-")):
            raise ValueError("this is a token, not the signing secret: copy Basic Information > App Credentials > "
                             "Signing Secret")
        if secret and not re.fullmatch(r"[A-Za-z0-9]{20,64}", secret):
            raise ValueError("not shaped like a Slack signing secret (32 letters and digits, from Basic "
                             "Information > App Credentials > Signing Secret)")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _token_kind(value, "xapp-", "an app-level token (xapp-) with connections:write, from Basic "
                                           "Information > App-Level Tokens")

    @field_validator("allowed_users", "allowed_usergroups")
    @classmethod
    def _slack_ids(cls, values: list[str], info) -> list[str]:
        shape, what = ((USER_ID, "Slack user ids (U… or W…, as in a profile's 'Copy member ID')")
                       if info.field_name == "allowed_users" else (USERGROUP_ID, "Slack user group ids (S…)"))
        bad = [v for v in values if not shape.match(v)]
        if bad:
            raise ValueError(f"not {what}: {', '.join(bad)}")
        return values


TOKEN_KINDS = {"xoxb-": "a bot token", "xoxp-": "a user token", "xapp-": "an app-level token",
               "xoxe": "a token-rotation token", "xoxa-": "a workspace token"}


def _token_kind(value: SecretStr | None, prefix: str, wanted: str) -> SecretStr | None:
    """Refuses a token of the wrong kind at load, naming what it is and what belongs there."""
    token = value.get_secret_value() if value else ""
    if token and not token.startswith(prefix):
        kind = next((name for start, name in TOKEN_KINDS.items() if token.startswith(start)), "not a Slack token")
        raise ValueError(f"this is {kind}; this key takes {wanted}")
    return value


class SlackSinkConfig(SinkConfig):
    token: SecretStr | None = Field(None, description="bot token (xoxb-): write ${SLACK_BOT_TOKEN}")
    webhook_url: SecretStr | None = Field(None, description="incoming webhook URL: write ${SLACK_WEBHOOK_URL}; "
                                             "no threads, no channel choice")
    default_channel: str | None = Field(None, description="channel for routes that name none (ID or #name)")
    api_base_url: str | None = Field(None, description="Web API base URL (proxies, tests); "
                                        "default https://slack.com/api/")
    timeout: Duration = Field(10.0, description="HTTP timeout per request")
    min_interval: Duration = Field(1.0, description="at least this long between two messages to one channel")
    recovery_window: Duration = Field(3600.0, description="after a crash, look this far back in the channel "
                                      "for an alert that was being sent")
    interactivity: SlackInteractivityConfig = Field(default_factory=SlackInteractivityConfig,
                                                    description="buttons on alerts to claim, resolve or dismiss "
                                                    "their case: mode, signing_secret, path")

    @field_validator("token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        return _token_kind(value, "xoxb-", "the bot token (xoxb-): OAuth & Permissions > Bot User OAuth Token")

    @model_validator(mode="after")
    def _one_mode(self) -> SlackSinkConfig:
        if bool(self.token) == bool(self.webhook_url):
            raise ValueError("set exactly one of token (bot) or webhook_url (incoming webhook)")
        if self.interactivity.mode != "off" and not self.token:
            raise ValueError("interactivity needs the bot token: an incoming webhook cannot carry buttons")
        if self.interactivity.mode == "http" and not self.interactivity.signing_secret:
            raise ValueError("interactivity mode http needs signing_secret: write ${SLACK_SIGNING_SECRET}")
        if self.interactivity.mode == "socket" and not self.interactivity.app_token:
            raise ValueError("interactivity mode socket needs app_token: write ${SLACK_APP_TOKEN} (xapp-, "
                             "connections:write)")
        return self


@sinks.register("slack")
class SlackSink(Sink):
    config_model = SlackSinkConfig

    def __init__(self, name: str, config: SlackSinkConfig) -> None:
        super().__init__(name, config)
        self.pacer = ChannelPacer(config.min_interval)  # about one message a second per channel: Slack's limit
        self._bolt = None
        self._replies = None
        if config.token:
            from slack_sdk import WebClient  # heavy: only when a Slack sink is enabled

            base = (config.api_base_url or WebClient.BASE_URL).rstrip("/") + "/"
            self.client = WebClient(token=config.token.get_secret_value(), base_url=base, timeout=int(config.timeout))
            self.webhook = None
        else:
            from slack_sdk.webhook import WebhookClient

            self.client = None
            self.webhook = WebhookClient(url=config.webhook_url.get_secret_value(), timeout=int(config.timeout))

    def probe(self) -> str:
        from alerts import _slack_probe

        return (_slack_probe.probe_webhook if self.webhook is not None else _slack_probe.probe_bot)(self)

    def describe(self, channel: str | None) -> str:
        return "slack webhook" if self.webhook else f"slack -> {channel or self.config.default_channel}"

    # -- Sink -------------------------------------------------------------------------

    def send(self, alert: Alert) -> str | None:
        return self._post(alert.channel, self._message(alert), alert.thread_ref, editable=True)

    def _message(self, alert: Alert) -> dict:
        return alert_message(alert, self._buttons, self._replies is not None, self.case_link)

    @property
    def _buttons(self) -> bool:
        return self.webhook is None and self.config.interactivity.mode != "off"

    def show_case(self, alert: Alert) -> None:
        """Edits the delivered alert in place: its case's state, and only the buttons that still apply."""
        if self.webhook is not None or not alert.message_ref or alert.case is None:
            return  # a webhook message cannot be edited
        self._edit(alert.message_ref, alert.channel, self._message(alert))

    def remind(self, alert: Alert, text: str) -> str | None:
        """A reply in the alert's thread, so the reminder sits under the complaint it is about."""
        if self.webhook is not None or not alert.message_ref:
            return self.notify(text, alert.channel)
        channel, _, ts = alert.message_ref.rpartition(":")
        return self._post(channel or alert.channel, {"text": escape(text), "blocks": [
            {"type": "section", "text": plain(text)}]}, ts)

    def take_actions(self, handler: ActionHandler) -> None:
        if self._buttons and self._bolt is None:
            options = self.config.interactivity
            secret = options.signing_secret
            self._bolt = SlackActions(self.client, handler, secret.get_secret_value() if secret else None,
                                      options.allowed_users, options.allowed_usergroups)

    def close(self) -> None:
        if self._bolt is not None:
            self._bolt.close()

    def listen(self) -> None:
        if self._bolt is not None and self.config.interactivity.mode == "socket":
            self._bolt.connect_socket(self.config.interactivity.app_token.get_secret_value())

    def http_routes(self) -> dict[str, HttpRoute]:
        if self._bolt is None or self.config.interactivity.mode != "http":
            return {}
        return {self.config.interactivity.path: self._bolt.dispatch_http}

    @classmethod
    def summary(cls, config: SlackSinkConfig) -> str:
        if config.webhook_url:
            return "webhook: one channel, no threads, no case buttons"
        mode = config.interactivity.mode
        if mode == "socket":
            return "bot token; case buttons over Socket Mode"
        return "bot token; case buttons off" if mode == "off" else \
            f"bot token; case buttons over http at {config.interactivity.path}"

    @classmethod
    def needs_http(cls, config: SlackSinkConfig) -> bool:
        return config.interactivity.mode == "http"

    def send_spike(self, spike: Spike) -> str | None:
        return self._post(spike.channel, spike_message(spike, self._buttons, self.case_link), None, editable=True)

    def show_spike(self, spike: Spike) -> None:
        if self.webhook is not None or not spike.message_ref or spike.case is None:
            return
        self._edit(spike.message_ref, spike.channel, spike_message(spike, self._buttons, self.case_link))

    def notify(self, text: str, channel: str | None) -> str | None:
        return self._post(channel, {"text": escape(text), "blocks": [
            {"type": "section", "text": plain(text)}]}, None)

    def send_report(self, report: Report) -> str | None:
        """A Block Kit summary, then the charts uploaded into its thread (files_upload_v2)."""
        blocks = [{"type": "header", "text": plain(report.title, 150)},
                  {"type": "section", "text": plain("\n".join(report.lines))}]
        if self._buttons and report.to_label:
            blocks += label_blocks(report.to_label)
        message = {"text": fallback_text(report.title), "blocks": blocks}
        if self.webhook is not None:
            return self._post(report.channel, message, None)  # webhooks cannot upload files
        target = self._channel(report.channel)
        self.pacer.wait_turn(target)
        posted = self._call(lambda: self.client.chat_postMessage(channel=target, **message))
        if report.images:
            uploads = [{"content": content, "filename": name, "title": title} for name, content, title in report.images]
            self._call(lambda: self.client.files_upload_v2(channel=posted["channel"], thread_ts=posted["ts"],
                                                           file_uploads=uploads))
        return posted.get("ts")

    def find_delivered(self, alert: Alert, claimed_at) -> str | None:
        """Looks for the alert's metadata in the channel (or the burst's thread) since it was claimed."""
        from alerts._slack_history import find_alert

        return find_alert(self, alert, claimed_at) if self.client is not None else None

    # -- public replies -------------------------------------------------------------------

    def take_replies(self, handler: ReplyHandler) -> None:
        if self._bolt is not None and self._replies is None:
            from alerts._slack_replies import SlackReplies

            self._replies = SlackReplies(self._bolt, handler, self.name)

    def ask_approval(self, alert: Alert, request: ApprovalRequest) -> str | None:
        if self.webhook is not None or not alert.message_ref:
            return super().ask_approval(alert, request)
        blocks = approval_blocks(request, self._buttons)
        message = {"text": fallback_text(f"Draft reply by {request.author} waits for an approver"), "blocks": blocks}
        channel, _, ts = alert.message_ref.rpartition(":")
        return self._post(channel or alert.channel, message, ts, editable=True)

    def settle_approval(self, message_ref: str, request: ApprovalRequest, outcome: str) -> None:
        if self.webhook is None:
            self._edit(message_ref, None, {"text": fallback_text(outcome), "blocks": settled_blocks(request, outcome)})

    def member_of(self, user: str, group: str) -> bool:
        return self._bolt is not None and self._bolt.in_group(user, group)

    # -- transport ----------------------------------------------------------------------

    def _channel(self, channel: str | None) -> str:
        chosen = channel or self.config.default_channel
        if not chosen:
            raise DeliveryError("no Slack channel: set the route's channel or the sink's default_channel",
                                permanent=True)
        return chosen

    def _post(self, channel: str | None, message: dict, thread_ts: str | None,
              editable: bool = False) -> str | None:
        """Posts a message; an ``editable`` one's reference names its channel too ("C…:ts") for chat.update."""
        if self.webhook is not None:
            self.pacer.wait_turn("webhook")
            message = {k: v for k, v in message.items() if k != "metadata"}
            self._call(lambda: self.webhook.send(**message))
            return f"webhook:{int(clock.timestamp() * 1000)}"  # webhooks return no message id
        target = self._channel(channel)
        self.pacer.wait_turn(target)
        thread_ts = thread_ts.rpartition(":")[2] if thread_ts else None  # a reference may carry its channel
        response = self._call(lambda: self.client.chat_postMessage(
            channel=target, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message))
        if editable:
            return f"{response.get('channel') or target}:{response.get('ts')}"
        return response.get("ts")

    def _edit(self, ref: str, channel: str | None, message: dict) -> None:
        """chat.update of a message posted as editable (its reference names the channel)."""
        ref_channel, _, ts = ref.rpartition(":")
        self._call(lambda: self.client.chat_update(channel=ref_channel or self._channel(channel), ts=ts,
                                                   text=message["text"], blocks=message["blocks"]))

    def _call(self, request, webhook_refusal: bool = True):
        """The answer, or DeliveryError; ``webhook_refusal=False`` hands back a webhook's non-200 answer."""
        from slack_sdk.errors import SlackApiError, SlackRequestError

        try:
            response = request()
        except SlackApiError as exc:
            raise slack_error(exc.response.status_code, exc.response.headers, exc.response.get("error")) from None
        except SlackRequestError as exc:
            raise DeliveryError(f"Slack request failed: {exc}") from None
        except OSError as exc:  # timeouts, refused connections, DNS
            raise DeliveryError(f"cannot reach Slack: {type(exc).__name__}: {exc}"[:300]) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # slack_sdk reading an answer that lacks what it expects (e.g. an upload URL): retry later
            raise DeliveryError(f"Slack answered in an unexpected form: {type(exc).__name__}: {exc}"[:300]) from None
        if webhook_refusal and self.webhook is not None and getattr(response, "status_code", 200) != 200:
            raise slack_error(response.status_code, response.headers or {}, (response.body or "").strip())
        return response


def slack_error(status: int, headers, code: str | None) -> DeliveryError:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if status == 429 or code == "ratelimited":
        wait = float(headers.get("retry-after") or 30)
        return DeliveryError(f"Slack rate limit (429); retry after {wait:.0f}s", retry_after=wait)
    if code in FIX:
        return DeliveryError(f"Slack refused the message ({code}): {FIX[code]}", permanent=code in PERMANENT)
    if status >= 500:
        return DeliveryError(f"Slack server error {status}")
    return DeliveryError(f"Slack answered {status}: {code or 'error'}")
