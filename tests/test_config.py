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


@pytest.mark.parametrize("key, value, expected", [
    ("interval", float("inf"), "sources.feed.interval: expected a duration of at most 366d, got 'inf'"),
    ("interval", ".inf", "sources.feed.interval: expected a duration like 2m, got '.inf'"),
    ("interval", "999999999999d", "sources.feed.interval: expected a duration of at most 366d, got '999999999999d'"),
    ("interval", float("nan"), "sources.feed.interval: expected a duration like 2m, got 'nan'"),
    ("interval", 0, "sources.feed.interval: Input should be greater than or equal to 0.01"),
    ("interval", "0s", "sources.feed.interval: Input should be greater than or equal to 0.01"),
    ("jitter", float("inf"), "sources.feed.jitter: expected a duration of at most 366d, got 'inf'"),
])
def test_durations_that_would_kill_the_scheduler_are_refused(key, value, expected):
    assert problems(base(sources={"feed": {"type": "file", "path": "x.jsonl", key: value}})) == [expected]


def test_yaml_infinity_in_a_file_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(base()).replace("path: x.jsonl", "path: x.jsonl\n    jitter: .inf"))
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == ["sources.feed.jitter: expected a duration of at most 366d, got 'inf'"]


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ",".join([f"*{names[i - 1]}"] * 9) + "]")
    lines += ["brands: [{name: x, terms: [x]}]", f"unknown_key: *{names[levels - 1]}"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_without_expanding_it(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())  # 9**9 = 387 million strings if expanded, in under 400 bytes
    assert path.stat().st_size < 700
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == ["the YAML expands to more than 100,000 values through its aliases "
                                   "(&anchor / *alias); write the values out or nest fewer aliases"]


def test_ordinary_anchors_still_work(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("common: &common {type: file, path: x.jsonl, interval: 30s}\n"
                    "brands: [{name: x, terms: [x]}]\n"
                    "sources: {feed: *common, other: {<<: *common, path: y.jsonl}}\n".replace("common: &", "x-c: &"))
    with pytest.raises(ConfigError) as info:  # the anchor's own key is unknown; the aliases themselves load
        load_config(path, environ={})
    assert info.value.problems == ["x-c: unknown key 'x-c'; allowed: alerts, brands, database, delivery, digest, "
                                   "logging, replies, retention, scoring, service, sources, topics, web"]
    path.write_text("brands: [{name: x, terms: [x]}]\n"
                    "sources: {feed: &common {type: file, path: x.jsonl, interval: 30s}, "
                    "other: {<<: *common, path: y.jsonl}}\n")
    config = load_config(path, environ={})
    assert config.sources["other"].config.interval == 30 and config.sources["other"].config.path == "y.jsonl"


def test_alias_inside_itself_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("brands: [{name: x, terms: [x]}]\nloop: &loop [1, *loop]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == ["line 2: an alias refers to the value that contains it"]


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (1 << 20) + "\nbrands: [{name: x, terms: [x]}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == [f"{path} is {path.stat().st_size:,} bytes; a configuration file may have at most "
                                   "1,048,576"]


def test_brands_sharing_a_digest_folder_are_refused_naming_both():
    brands = [{"name": "Pixel Cart", "terms": ["a"]}, {"name": "Pixel-Cart", "terms": ["b"]}]
    assert problems({"brands": brands}) == [
        "brands: brands 'Pixel Cart' and 'Pixel-Cart' would share the digest folder 'pixel-cart': rename one"]


@pytest.mark.parametrize("url, expected", [
    ("notaurl", "database.url: not a database URL; expected sqlite:///path/to/file.db or "
                "postgresql://user@host/database"),
    ("mysql://u:pw@db.example/x", "database.url: unsupported database 'mysql'; use sqlite or postgresql"),
    ("postgresql://u:pa@ss@127.0.0.1/x", "database.url: the password holds a raw '@': write it as %40 "
                                          "(percent-encoded)"),
    ("postgresql+asyncpg://db.example/x", "database.url: the postgresql+asyncpg driver is not installed: use "
                                          "postgresql:// (psycopg 3: pip install 'complaint-monitor[postgres]')"),
])
def test_database_url_is_checked_once_at_load(url, expected):
    assert problems(base(database={"url": url})) == [expected]


def test_percent_encoded_password_is_accepted_and_masked():
    config = parse_config(base(database={"url": "postgresql://u:pa%40ssw0rd@127.0.0.1/x"}), "t", environ={})
    assert config.database_url.endswith("@127.0.0.1/x")
    assert "pa%40ssw0rd" not in redactor(f"could not connect to {config.database_url}")


SLACK_ROUTED = {"sinks": {"slack": {"type": "slack", "token": "${SLACK_BOT_TOKEN}"}},
                "routes": [{"name": "support", "sink": "slack", "channel": "C1"}]}


def test_a_command_that_sends_nothing_does_not_need_the_sinks_secrets():
    raw = base(alerts=SLACK_ROUTED)
    assert problems(raw) == ["alerts.sinks.slack.token: environment variable SLACK_BOT_TOKEN is not set"]
    config = parse_config(raw, "t", environ={}, needs=("sources",))
    assert list(config.sinks) == [] and list(config.sources) == ["feed"]
    config = parse_config(raw, "t", environ={}, needs=())
    assert config.database_url.startswith("sqlite")


# -- secrets: where they are written, and which kind of token goes where ------------------------------------------

def slack_sink(**over):
    return {"type": "slack", "default_channel": "C0SUPPORT", **over}


def test_a_secret_written_in_the_file_is_accepted_with_a_warning_naming_the_env_form(tmp_path):
    from tests.support import build_config

    config = build_config(tmp_path, database={"url": f"sqlite:///{tmp_path / 'm.db'}"},
                          alerts={"sinks": {"slack": slack_sink(token="xoxb-written-in-the-file-42"),
                                            "off": slack_sink(type="slack", enabled=False,
                                                              token="xoxb-disabled-entry-42")}})
    assert config.warnings == [
        "alerts.sinks.slack.token: a secret is written in the file; write ${SLACK_BOT_TOKEN} there and set "
        "SLACK_BOT_TOKEN in the environment (config files end up in backups and repositories)"]
    from monitor.ops.redact import redactor

    assert "xoxb-written" not in redactor("sent with xoxb-written-in-the-file-42")


def test_secrets_from_the_environment_and_passwordless_urls_warn_nothing(tmp_path):
    from tests.support import build_config

    config = build_config(tmp_path, environ={"SLACK_BOT_TOKEN": "xoxb-from-env-1", "DATABASE_URL": "x"},
                          alerts={"sinks": {"slack": slack_sink(token="${SLACK_BOT_TOKEN}")}})
    assert config.warnings == []


def test_a_database_password_in_the_file_is_warned_about(tmp_path):
    from monitor.config import parse_config
    from tests.support import BRANDS

    config = parse_config({"database": {"url": "postgresql://app:pw-in-file-99@127.0.0.1/x"}, "brands": BRANDS,
                           "alerts": {"sinks": {"console": {}}}}, "t", environ={})
    assert [w.split(":")[0] for w in config.warnings] == ["database.url"]
    assert "${DATABASE_URL}" in config.warnings[0]


@pytest.mark.parametrize("key, value, said", [
    ("token", "xoxp-1-user", "alerts.sinks.slack.token: this is a user token; this key takes the bot token (xoxb-)"),
    ("token", "xapp-1-A0-1", "alerts.sinks.slack.token: this is an app-level token; this key takes the bot token"),
    ("token", "hunter2hunter2", "alerts.sinks.slack.token: this is not a Slack token; this key takes the bot token"),
    ("app_token", "xoxb-1-bot", "interactivity.app_token: this is a bot token; this key takes an app-level token"),
    ("signing_secret", "xoxb-1-bot", "interactivity.signing_secret: this is a token, not the signing secret"),
    ("signing_secret", "has spaces and !", "interactivity.signing_secret: not shaped like a Slack signing secret"),
])
def test_a_token_of_the_wrong_kind_is_refused_at_load_saying_what_it_is(tmp_path, key, value, said):
    from monitor.config import ConfigError
    from tests.support import build_config

    mode = {"app_token": "socket", "signing_secret": "http"}.get(key)
    sink = slack_sink(token="${SLACK_BOT_TOKEN}")
    if mode:
        sink["interactivity"] = {"mode": mode, key: "${VALUE}"}
    else:
        sink["token"] = "${VALUE}"
    with pytest.raises(ConfigError) as error:
        build_config(tmp_path, environ={"SLACK_BOT_TOKEN": "xoxb-ok-1", "VALUE": value},
                     alerts={"sinks": {"slack": sink}}, service={"http": {"enabled": True}})
    assert any(said in problem for problem in error.value.problems), error.value.problems


def test_check_config_prints_the_warning_in_its_report(tmp_path):
    import yaml
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.support import BRANDS

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": f"sqlite:///{tmp_path / 'm.db'}"}, "brands": BRANDS,
                                    "sources": {}, "alerts": {"sinks": {"slack": slack_sink(
                                        token="xoxb-literal-77", enabled=True)}}}))
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 0
    assert "warning: alerts.sinks.slack.token: a secret is written in the file; write ${SLACK_BOT_TOKEN}" \
        in result.output


# -- every problem at once, with its line ---------------------------------------------------------------------

def readme_example() -> tuple[str, list[str]]:
    """The README's bad.yaml and the output it says check-config prints for it."""
    from tests.support import ROOT

    section = (ROOT / "README.md").read_text(encoding="utf-8").split("**Validation** happens at load time.")[1]
    blocks, current = [], []
    for line in section.splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif current and line.strip():
            blocks.append(current)
            current = []
        if len(blocks) == 2:
            break
    return "\n".join(blocks[0]) + "\n", blocks[1]


def test_the_readme_example_of_config_errors_reproduces(tmp_path):
    import os
    import subprocess
    import sys

    text, printed = readme_example()
    (tmp_path / "bad.yaml").write_text(text)
    done = subprocess.run([sys.executable, "-m", "monitor.cli", "--config", "bad.yaml", "check-config"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "X_BEARER_TOKEN": "AAAA1234567"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == printed


def test_five_different_problems_come_in_one_run_each_with_its_line(tmp_path):
    from monitor.config import ConfigError, load_config

    text = "\n".join([
        "database:",
        '  url: "notaurl"',                  # 2: not a database URL
        "brands:",
        "  - name: Pixelcart",
        "    terms: [pixelcart]",
        "sources:",
        "  feed:",
        "    type: file",
        "    path: a.jsonl",
        "    interval: soon",                # 10: not a duration
        "  x:",
        "    bearer_token: ${X_TOKEN}",
        "    max_results: 5000",             # 13: over the API's limit
        "    batch_sise: 10",                # 14: a typo
        "alerts:",
        "  sinks:",
        "    console: {colour: true}",       # 17: an unknown key of a sink
        "digest:",
        '  time: "25:00"',                   # 19: not a time
    ]) + "\n"
    path = tmp_path / "five.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"X_TOKEN": "AAAA1234567"})
    rendered = error.value.render().splitlines()
    assert rendered[0] == f"configuration error in {path} (6 problems):"
    assert sorted(line.split(":")[0].strip() for line in rendered[1:]) == sorted([
        "database.url (line 2)", "sources.feed.interval (line 10)", "sources.x.max_results (line 13)",
        "sources.x.batch_sise (line 14)", "alerts.sinks.console.colour (line 17)", "digest.time (line 19)"])
    assert "  sources.x.batch_sise (line 14): unknown key 'batch_sise' (did you mean 'batch_size'?)" in rendered


@pytest.mark.parametrize("text, hint", [
    ("alerts:\n  sinks: {slack: {token: ${SLACK_BOT_TOKEN}}}\n", "a ${VAR} reference must be quoted"),
    ("brands: [{name: x, terms: [${TERM}]}]\n", "a ${VAR} reference must be quoted"),
    ("brands:\n\t- name: x\n", "YAML indents with spaces, never tabs"),
    ("digest:\n  note: sent at: 08:30\n", "needs quotes"),
])
def test_known_yaml_pitfalls_come_with_a_hint(tmp_path, text, hint):
    from monitor.config import ConfigError, load_config

    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    [problem] = error.value.problems
    assert "invalid YAML" in problem and hint in problem


def test_a_yaml_error_without_a_known_cause_gets_no_hint(tmp_path):
    from monitor.config import ConfigError, load_config

    path = tmp_path / "c.yaml"
    path.write_text("brands: [1, 2\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.problems[0].endswith("invalid YAML: expected ',' or ']', but got '<stream end>'")


@pytest.mark.parametrize("seconds, said", [(0.5, "0.5 s"), (45, "45 s"), (60, "1 min"), (90, "1 min 30 s"),
                                           (300, "5 min"), (5400, "1 h 30 min"), (86400, "1 day"),
                                           (2 * 86400 + 3600, "2 days 1 h")])
def test_durations_read_as_people_say_them(seconds, said):
    from monitor.config.values import duration_text

    assert duration_text(seconds) == said
