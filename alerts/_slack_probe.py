"""What check-config --probe asks Slack: requests that post nothing and prove a sink's credentials."""
from __future__ import annotations

from monitor.components import DeliveryError

#: what a live incoming webhook answers (400) to an empty payload
EMPTY_PAYLOAD_REFUSED = ("no_text", "invalid_payload", "missing_text_or_fallback_or_attachments")


def probe_bot(sink) -> str:
    """auth.test with the bot token (a bot's answer carries bot_id), and with Socket Mode the app token."""
    answer = sink._call(sink.client.auth_test)
    if not answer.get("bot_id"):
        raise DeliveryError("auth.test says this token is not a bot's (no bot_id): use the Bot User OAuth "
                            "Token (xoxb-) from OAuth & Permissions", permanent=True)
    proved = (f"bot token of {answer.get('user') or '?'} in workspace {answer.get('team') or '?'} "
              f"({answer.get('team_id') or '?'})")
    if sink.config.interactivity.mode == "socket":
        app_token = sink.config.interactivity.app_token.get_secret_value()
        try:  # answers a one-time URL; the probe does not connect to it
            sink._call(lambda: sink.client.apps_connections_open(app_token=app_token))
        except DeliveryError as exc:
            raise DeliveryError(f"the app-level token (interactivity.app_token) fails: {exc}",
                                permanent=True) from None
        proved += "; app-level token opens Socket Mode connections"
    return proved


def probe_webhook(sink) -> str:
    """An empty payload posts nothing: a live webhook refuses it as empty (400), a dead one says why (403/404)."""
    response = sink._call(lambda: sink.webhook.send_dict({}), webhook_refusal=False)
    body = (response.body or "").strip()
    if response.status_code == 400 and body in EMPTY_PAYLOAD_REFUSED:
        return "incoming webhook URL is live (an empty test payload was refused as empty, nothing posted)"
    from alerts.slack import slack_error

    raise slack_error(response.status_code, response.headers or {}, body or None)
