"""Test helpers: configs built from dicts and a recording sink whose failures a test can script."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field

from monitor.components import DeliveryError, Sink
from monitor.config import SinkConfig, parse_config
from monitor.registry import sinks

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL")
PG_SKIP = "set MONITOR_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run"

BRANDS = [
    {"name": "Pixelcart", "terms": ["pixelcart", "@pixelcart"], "exclude": ["giveaway"],
     "own_accounts": ["pixelcart"]},
    {"name": "Northwind Air", "terms": ["northwind"], "own_accounts": ["northwindair"], "languages": ["en"]},
]


class RecordingSinkConfig(SinkConfig):
    failures: list[str] = Field(
        default_factory=list,
        description="scripted outcomes per send: 'ok', 'retry', 'retry-after', 'permanent', 'crash'",
    )


@sinks.register("test-recording")
class RecordingSink(Sink):
    """Keeps what it was sent; fails on cue so delivery can be tested without a network."""

    config_model = RecordingSinkConfig
    sent: dict[str, list] = {}
    notices: dict[str, list] = {}
    spikes_shown: dict[str, list] = {}  # Spike objects the sink was asked to show in place

    def __init__(self, name: str, config: RecordingSinkConfig) -> None:
        super().__init__(name, config)
        self.script = list(config.failures)
        RecordingSink.sent[name] = []
        RecordingSink.notices[name] = []
        RecordingSink.spikes_shown[name] = []

    def send(self, alert):
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "retry":
            raise DeliveryError("503 from the sink")
        if outcome == "retry-after":
            raise DeliveryError("rate limited", retry_after=0)
        if outcome == "permanent":
            raise DeliveryError("channel_not_found", permanent=True)
        if outcome == "crash":
            raise RuntimeError("bug in the sink")
        RecordingSink.sent[self.name].append(alert)
        return f"ref-{alert.outbox_id}"

    def notify(self, text, channel):
        RecordingSink.notices[self.name].append((channel, text))
        return "notice"

    def show_spike(self, spike):
        RecordingSink.spikes_shown[self.name].append(spike)


def write_jsonl(path: Path, posts: list[Any]) -> Path:
    with path.open("a", encoding="utf-8") as f:
        for post in posts:
            f.write(post if isinstance(post, str) else json.dumps(post, ensure_ascii=False))
            f.write("\n")
    return path


def build_config(tmp_path: Path, db_url: str | None = None, environ: dict | None = None, **sections: Any):
    raw = {
        "database": {"url": db_url or f"sqlite:///{tmp_path / 'monitor.db'}"},
        "brands": BRANDS,
        "sources": {"feed": {"type": "file", "path": str(tmp_path / "feed.jsonl")}},
        "alerts": {"sinks": {"rec": {"type": "test-recording"}}},
        "delivery": {"backoff_base": "1s", "max_attempts": 3},
    }
    raw.update(sections)
    return parse_config(raw, "test", environ=environ or {})




def start_service(tmp_path: Path, db_url: str | None, sources: dict, environ: dict | None = None):
    """A prepared MonitorService reading only ``sources`` (name -> entry) into the test database."""
    from monitor.service import MonitorService

    svc = MonitorService(build_config(tmp_path, db_url, environ=environ, sources=sources))
    svc.prepare()
    return svc


def stored_mentions(svc) -> dict:
    """Stored mention rows by external id."""
    import sqlalchemy as sa

    from monitor.store.schema import mentions

    with svc.store.db.engine.connect() as conn:
        return {r.external_id: r for r in conn.execute(sa.select(mentions))}


def until(condition, seconds: float = 10.0) -> bool:
    """Polls ``condition`` every 20 ms (short sleeps, no timed waits) until it holds or ``seconds`` pass."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
