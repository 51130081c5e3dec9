"""The console sink prints a readable, sanitized block per alert."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from alerts.console import ConsoleSink, ConsoleSinkConfig
from monitor.model import Alert


def alert(**over) -> Alert:
    base = dict(outbox_id=7, route="support", channel=None, attempt=1, mention_id=1, source="x", brand="Pixelcart",
                external_id="1", author="ann", author_reach=12345, url="https://x.com/ann/status/1",
                text="still no refund " * 40, created_at=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
                compound=-0.42, confidence=0.8, topic="billing", priority=64.2,
                reasons=[{"rule": "waiting", "label": "waiting", "match": "still no"},
                         {"rule": "vader", "label": "VADER compound", "score": -0.42}])
    base.update(over)
    return Alert(**base)


def test_render_shows_what_an_agent_needs():
    text = ConsoleSink("console", ConsoleSinkConfig(width=80)).render(alert())
    assert "Pixelcart" in text and "priority 64" in text and "topic billing" in text
    assert "@ann (12,345 followers)" in text and "2026-11-20 09:30 UTC" in text
    assert 'waiting ("still no")' in text and "VADER -0.42" in text
    assert "https://x.com/ann/status/1" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_send_writes_to_the_chosen_stream(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr("sys.stderr", buf)
    ref = ConsoleSink("console", ConsoleSinkConfig(stream="stderr")).send(alert())
    assert ref == "console:7" and "COMPLAINT" in buf.getvalue()


@pytest.mark.parametrize("hostile", ["\x1b[2J\x1b[Hcleared", "a\u202eevil", "x" * 5000])
def test_hostile_text_cannot_garble_the_terminal(hostile):
    from monitor.pipeline.normalize import clean_text

    text = ConsoleSink("console", ConsoleSinkConfig()).render(alert(text=clean_text(hostile)))
    assert "\x1b" not in text and "\u202e" not in text and len(text.splitlines()) < 25
