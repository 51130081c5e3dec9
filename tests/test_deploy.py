"""What ships for deployment: the Slack app manifest holds every scope the Slack sink uses, and the systemd unit
is hardened, verifies, and is rendered by the install script for its prefix and user."""
from __future__ import annotations

from pathlib import Path

import yaml

from tests.support import ROOT

MANIFEST = ROOT / "deploy" / "slack-app-manifest.yaml"

# The Web API methods the Slack sink calls, and the bot scope each needs (Slack's method reference).
SCOPES_NEEDED = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "conversations.history": "channels:history", "conversations.replies": "channels:history",
    "files.getUploadURLExternal": "files:write", "files.completeUploadExternal": "files:write",
    "usergroups.users.list": "usergroups:read",
}


def test_the_manifest_asks_for_every_scope_the_sink_uses():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(SCOPES_NEEDED.values()) <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")  # the default path
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_the_readme_points_to_the_manifest():
    assert "deploy/slack-app-manifest.yaml" in (ROOT / "README.md").read_text(encoding="utf-8")


UNIT = ROOT / "deploy" / "complaint-monitor.service"
INSTALL = ROOT / "deploy" / "install-systemd.sh"


def rendered_unit(tmp_path, **env) -> Path:
    """The unit as the install script writes it, for a prefix whose monitor command exists."""
    import os
    import subprocess
    import sys

    prefix = tmp_path / "prefix"
    (prefix / ".venv" / "bin").mkdir(parents=True)
    (prefix / ".venv" / "bin" / "monitor").symlink_to(Path(sys.executable).parent / "monitor")
    done = subprocess.run(["bash", str(INSTALL), "--print-unit"], capture_output=True, text=True, check=True,
                          env={**os.environ, "PREFIX": str(prefix), **env}, timeout=30)
    path = tmp_path / "complaint-monitor.service"
    path.write_text(done.stdout)
    return path


def settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_the_install_script_renders_the_unit_for_its_prefix_and_user(tmp_path):
    unit = settings(rendered_unit(tmp_path, SERVICE_USER="monitor-svc").read_text())
    prefix = tmp_path / "prefix"
    assert unit["ExecStart"] == [f"{prefix}/.venv/bin/monitor run"]
    assert unit["ExecStartPre"] == [f"{prefix}/.venv/bin/monitor db upgrade"]
    assert unit["User"] == unit["Group"] == ["monitor-svc"]


def test_the_unit_is_hardened_and_owns_its_state_and_secrets():
    from monitor.config.sections import ServiceConfig
    from monitor.config.values import parse_duration

    unit = settings(UNIT.read_text())
    assert unit["StateDirectory"] == ["complaint-monitor"] and unit["ReadWritePaths"] == ["/var/lib/complaint-monitor"]
    assert unit["EnvironmentFile"] == ["/etc/complaint-monitor/env"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": ""}.items():
        assert unit[key] == [value], key
    # systemd's stop timeout leaves room for the service's own grace on SIGTERM.
    assert parse_duration(unit["TimeoutStopSec"][0] + "s") > ServiceConfig().stop_grace + 5


def test_the_rendered_unit_passes_systemd_analyze_verify(tmp_path):
    import shutil
    import subprocess

    import pytest

    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (Debian: apt-get install systemd)")
    path = rendered_unit(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True,
                          timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if path.name in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr


def test_the_install_script_is_valid_bash():
    import subprocess

    assert subprocess.run(["bash", "-n", str(INSTALL)], capture_output=True, timeout=30).returncode == 0


def test_every_variable_the_shipped_config_reads_is_in_the_readme():
    import re

    used = set()
    for line in (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines():
        code = line.split("#", 1)[0]
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", code))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme.split("- **Environment variables**", 1)[1].split("\n\n", 1)[0]
    assert used and {name for name in used if f"`{name}`" not in listed} == set()
