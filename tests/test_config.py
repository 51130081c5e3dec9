"""Config validation: every problem names its key path, secrets never leak, env refs expand."""
from __future__ import annotations

import logging

import pytest
import yaml

from monitor.config import ConfigError, load_config, parse_config, parse_duration
from monitor.ops.redact import RedactingFilter, redactor
from tests.support import BRANDS, ROOT


def problems(raw, environ=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "t.yaml", environ=environ or {})
    return info.value.problems


def base(**extra):
    raw = {"brands": BRANDS, "sources": {"feed": {"type": "file", "path": "x.jsonl"}}}
    raw.update(extra)
    return raw


def test_shipped_config_is_valid():
    config = load_config(ROOT / "config.yaml", environ={})
    assert [b.name for b in config.brands] == ["Pixelcart", "Northwind Air"]
    assert list(config.enabled_sources()) == ["samples"]
    assert list(config.enabled_sinks()) == ["console"]
    assert config.database_url.startswith("sqlite:///")


@pytest.mark.parametrize("raw, expected", [
    (base(sources={"x": {"type": "file", "path": "a", "interval": "often"}}),
     "sources.x.interval: expected a duration like 2m, got 'often'"),
    (base(sources={"x": {"type": "file", "path": "a", "intervall": "5m"}}),
     "sources.x.intervall: unknown key 'intervall' (did you mean 'interval'?)"),
    (base(sources={"x": {"type": "file"}}), "sources.x.path: required key is missing"),
    (base(sources={"x": {"type": "carrier-pigeon"}}), "sources.x.type: unknown source type 'carrier-pigeon'"),
    (base(scoring={"complaint_threshold": 3}), "scoring.complaint_threshold:"),
    (base(scoring={"extra_terms": {"late again": "very"}}), "scoring.extra_terms.late again:"),
    (base(digest={"time": "8am"}), "digest.time:"),
    (base(digest={"timezone": "Mars/Olympus"}), "digest.timezone:"),
    ({"sources": {}}, "brands: required key is missing"),
    (base(brands=[{"name": "A", "terms": []}]), "brands[0].terms:"),
    (base(alerts={"sinks": {"console": {}}, "routes": [{"name": "r", "sink": "slack"}]}),
     "alerts.routes[0].sink: no sink named 'slack'"),
    (base(alerts={"routes": [{"name": "r", "sink": "console", "brands": ["Nope"]}]}),
     "alerts.routes[0].brands: unknown brand 'Nope'"),
    (base(logging={"level": "LOUD"}), "logging.level:"),
    (base(delivery={"max_attempts": 0}), "delivery.max_attempts:"),
])
def test_problems_name_the_key_path(raw, expected):
    found = problems(raw)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_reported_at_once():
    found = problems(base(digest={"time": "25:00"}, delivery={"interval": "soon"}))
    assert len(found) == 2


def test_render_is_one_readable_message():
    with pytest.raises(ConfigError) as info:
        parse_config(base(digest={"time": "x"}), "cfg.yaml", environ={})
    text = info.value.render()
    assert "cfg.yaml" in text and "digest.time" in text and "Traceback" not in text


def test_env_refs_expand_with_defaults_and_types():
    raw = base(sources={"x": {"type": "file", "path": "${FEED:-posts.jsonl}", "interval": "${POLL:-30}"}})
    config = parse_config(raw, environ={})
    assert config.sources["x"].config.path == "posts.jsonl"
    assert config.sources["x"].config.interval == 30
    config = parse_config(raw, environ={"FEED": "/srv/in.jsonl", "POLL": "2m"})
    assert config.sources["x"].config.path == "/srv/in.jsonl"
    assert config.sources["x"].config.interval == 120


def test_missing_env_var_for_enabled_source_is_an_error():
    raw = base(sources={"x": {"type": "file", "path": "${FEED_PATH}"}})
    assert problems(raw) == ["sources.x.path: environment variable FEED_PATH is not set"]


def test_missing_env_var_under_disabled_source_is_ignored():
    raw = base(sources={"x": {"type": "file", "path": "${FEED_PATH}", "enabled": False},
                        "y": {"type": "file", "path": "y.jsonl"}})
    config = parse_config(raw, environ={})
    assert list(config.enabled_sources()) == ["y"]


def test_secrets_never_appear_in_errors_or_logs(caplog):
    secret = "s3cr3t-hunter2-value"
    raw = base(database={"url": "postgresql+psycopg://monitor:${DB_PASSWORD}@db/monitor"},
               digest={"time": "${DIGEST_TOKEN}"})
    with pytest.raises(ConfigError) as info:
        parse_config(raw, environ={"DB_PASSWORD": secret, "DIGEST_TOKEN": secret})
    assert secret not in redactor(info.value.render())
    logger = logging.getLogger("test.secret")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.secret"):
        logger.info("connecting with %s", secret)
    assert secret not in caplog.text and "***" in caplog.text


@pytest.mark.parametrize("text", [
    "xoxb-1234-5678-abcdefABCDEF", "Authorization: Bearer AAAAtokenvalue123456", "postgresql://u:pw123@h/db"])
def test_redactor_masks_token_shapes(text):
    assert "***" in redactor(text)


@pytest.mark.parametrize("value, seconds", [("30s", 30), ("2m", 120), ("1h", 3600), ("1h30m", 5400), (45, 45),
                                            ("1.5m", 90), ("1d", 86400)])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["often", "-5s", "", "5 parsecs", True])
def test_bad_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_broken_yaml_names_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("brands:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "line" in info.value.problems[0] and "invalid YAML" in info.value.problems[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml", environ={})


def test_config_yaml_documents_every_top_level_section():
    text = (ROOT / "config.yaml").read_text()
    doc = yaml.safe_load(text)
    readme = (ROOT / "README.md").read_text()
    for section in doc:
        assert f"`{section}" in readme, f"README's configuration reference lacks {section}"
