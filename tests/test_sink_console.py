"""The console sink prints a readable, sanitized block per alert."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from alerts.console import ConsoleSink, ConsoleSinkConfig
from monitor.model import Alert, Spike


def alert(**over) -> Alert:
    base = dict(outbox_id=7, route="support", channel=None, attempt=1, mention_id=1, source="x", brand="Pixelcart",
                external_id="1", author="ann", author_reach=12345, url="https://x.com/ann/status/1",
                text="still no refund " * 40, created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
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


@pytest.mark.parametrize("hostile", ["\x1b[2J\x1b[Hcleared", "a\u202eevil", "x" * 5000, "\x1b]0;title\x07ok\x00\x07"])
def test_hostile_text_cannot_garble_the_terminal(hostile):
    # Raw, as it may sit in the outbox: the sink must not rely on the normalizer having run.
    reasons = [{"rule": "waiting", "label": "waiting", "match": hostile}]
    sink = ConsoleSink("console", ConsoleSinkConfig())
    text = sink.render(alert(text=hostile, author=hostile + "\nFAKE LINE", reasons=reasons))
    for control in ("\x1b", "\u202e", "\x00", "\x07"):
        assert control not in text
    lines = text.splitlines()
    assert len(lines) < 25 and not any(line.startswith("FAKE LINE") for line in lines)
    assert "@" in lines[2] and "FAKE LINE" in lines[2]  # the author stays on its own line


def test_spike_and_notice_cannot_garble_the_terminal(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr("sys.stdout", buf)
    sink = ConsoleSink("console", ConsoleSinkConfig())
    spike = Spike(
        route="support",
        brand="Pixelcart",
        channel=None,
        complaints=12,
        window_minutes=10,
        top_topics=[("billing", 12)],
        top_posts=[{"author": "\x1b[31mred", "author_reach": 5, "text": "\x1b[2Jwiped\u202e\nnext"}],
    )
    sink.send_spike(spike)
    sink.notify("source down \x1b[2J\u202e", None)
    out = buf.getvalue()
    assert "\x1b" not in out and "\u202e" not in out
    assert "@red (5): wiped next" in out  # whole escape sequences are gone, the words stay readable
