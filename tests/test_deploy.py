"""What ships for deployment: the Slack app manifest holds every scope the Slack sink's calls need."""
from __future__ import annotations

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
