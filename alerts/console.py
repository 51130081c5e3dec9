"""Prints alerts readably to the terminal: the default sink when nothing else is configured."""
from __future__ import annotations

import sys
import textwrap
import threading
from typing import Literal, Optional

from pydantic import Field

from monitor.components import Sink
from monitor.config import SinkConfig
from monitor.model import Alert
from monitor.registry import sinks

_print_lock = threading.Lock()


class ConsoleSinkConfig(SinkConfig):
    stream: Literal["stdout", "stderr"] = Field("stdout", description="where alerts are printed")
    width: int = Field(100, ge=40, le=400, description="wrap post text at this many characters")


@sinks.register("console")
class ConsoleSink(Sink):
    config_model = ConsoleSinkConfig

    def send(self, alert: Alert) -> Optional[str]:
        stream = sys.stdout if self.config.stream == "stdout" else sys.stderr
        with _print_lock:
            stream.write(self.render(alert))
            stream.flush()
        return f"console:{alert.outbox_id}"

    def render(self, alert: Alert) -> str:
        width = self.config.width
        author = f"@{alert.author}" if alert.author else "unknown author"
        body = textwrap.fill(alert.text, width=width - 4, initial_indent="  │ ", subsequent_indent="  │ ",
                             replace_whitespace=True, max_lines=12, placeholder=" …")
        lines = [
            "─" * width,
            f"COMPLAINT  {alert.brand} · {alert.source} · priority {alert.priority:.0f} · topic {alert.topic}"
            + (f" · {alert.channel}" if alert.channel else ""),
            f"  {author} ({alert.author_reach:,} followers) · {alert.created_at:%Y-%m-%d %H:%M} UTC",
            body,
            "  why: " + alert.reasons_text(),
        ]
        if alert.url:
            lines.append(f"  {alert.url}")
        return "\n".join(lines) + "\n"
