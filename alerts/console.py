"""Prints alerts readably to the terminal: the default sink when nothing else is configured."""
from __future__ import annotations

import sys
import textwrap
import threading
from typing import Literal

from pydantic import Field

from monitor.components import Sink
from monitor.config import SinkConfig
from monitor.markup import strip_controls
from monitor.model import Alert, Spike
from monitor.registry import sinks

_print_lock = threading.Lock()


def _line(text: str) -> str:
    """An untrusted field on one line: the outbox may hold text from before a normalizer change, or a sink's
    caller may not have normalized it, so the terminal is protected here too."""
    return " ".join(strip_controls(text).split())


class ConsoleSinkConfig(SinkConfig):
    stream: Literal["stdout", "stderr"] = Field("stdout", description="where alerts are printed")
    width: int = Field(100, ge=40, le=400, description="wrap post text at this many characters")


@sinks.register("console")
class ConsoleSink(Sink):
    config_model = ConsoleSinkConfig

    def send(self, alert: Alert) -> str | None:
        self._write(self.render(alert))
        return f"console:{alert.outbox_id}"

    def notify(self, text: str, channel: str | None) -> str | None:
        body = textwrap.fill(strip_controls(text), width=self.config.width)
        self._write("═" * self.config.width + "\n" + body + "\n")
        return "console:notice"

    def send_spike(self, spike: Spike) -> str | None:
        lines = [_line(spike.text()), "Top posts by reach:"]
        lines += [f"  @{_line(p['author'])} ({p['author_reach']:,}): {_line(p['text'])[:120]}" for p in spike.top_posts]
        self._write("═" * self.config.width + "\nSPIKE  " + "\n".join(lines) + "\n")
        return f"console:spike:{spike.brand}"

    def _write(self, text: str) -> None:
        stream = sys.stdout if self.config.stream == "stdout" else sys.stderr
        with _print_lock:
            stream.write(text)
            stream.flush()

    def render(self, alert: Alert) -> str:
        width = self.config.width
        author = f"@{_line(alert.author)}" if alert.author else "unknown author"
        body = textwrap.fill(strip_controls(alert.text), width=width - 4, initial_indent="  │ ",
                             subsequent_indent="  │ ", replace_whitespace=True, max_lines=12, placeholder=" …")
        lines = [
            "─" * width,
            ("  ↳ BURST " if alert.thread_ref else "COMPLAINT  ")
            + _line(f"{alert.brand} · {alert.source} · priority {alert.priority:.0f} · topic {alert.topic}"
                    + (f" · {alert.channel}" if alert.channel else "")),
            f"  {author} ({alert.author_reach:,} followers) · {alert.created_at:%Y-%m-%d %H:%M} UTC",
            body,
            "  why: " + _line(alert.reasons_text()),
        ]
        if alert.url:
            lines.append(f"  {_line(alert.url)}")
        return "\n".join(lines) + "\n"
