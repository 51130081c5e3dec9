"""Finding an alert that reached Slack before a crash let the service record it: its outbox id rides in the
message's metadata, so the channel (or the burst's thread) is read back from when it was claimed."""
from __future__ import annotations

from alerts._slack_blocks import EVENT_TYPE
from monitor import clock
from monitor.model import Alert


def find_alert(sink, alert: Alert, claimed_at) -> str | None:
    channel = sink._channel(alert.channel)
    oldest = (
        f"{(claimed_at.timestamp() if claimed_at else clock.timestamp() - sink.config.recovery_window) - 5:.6f}"
    )
    kwargs = {"channel": channel, "oldest": oldest, "include_all_metadata": True, "limit": 200}
    if alert.thread_ref:
        thread_ts = alert.thread_ref.rpartition(":")[2]
        response = sink._call(lambda: sink.client.conversations_replies(ts=thread_ts, **kwargs))
    else:
        response = sink._call(lambda: sink.client.conversations_history(**kwargs))
    for message in response.get("messages") or []:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == EVENT_TYPE and \
                (meta.get("event_payload") or {}).get("outbox_id") == alert.outbox_id:
            return f"{channel}:{message.get('ts')}"
    return None
