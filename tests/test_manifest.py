"""manifest.yml: valid against Slack's v1 manifest schema, declaring what the app uses and exactly the
scopes of the Web API methods the code calls."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"

# Each Web API method the bot may call → the bot scope it needs (None: no scope), from Slack's method
# reference (PLATFORM.md §3). A method missing here fails the test: look its scope up and add it.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "chat.getPermalink": None,
    "conversations.open": "im:write",
    "conversations.join": "channels:join",
    "conversations.info": "channels:read",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
    "users.info": "users:read",
}
# slack_sdk helpers that are several Web API methods (PLATFORM.md §2.1).
SDK_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}

FAMILIES = ("admin", "api", "apps", "auth", "bookmarks", "bots", "calls", "canvases", "channels", "chat",
            "conversations", "dialog", "dnd", "emoji", "files", "functions", "groups", "im", "migration",
            "mpim", "oauth", "openid", "pins", "reactions", "reminders", "rtm", "search", "stars", "team",
            "tooling", "usergroups", "users", "views", "workflows", "assistant")
SDK_CALL = re.compile(rf"\.((?:{'|'.join(FAMILIES)})_\w+)\(")  # client.chat_postMessage(
API_CALL = re.compile(r"api_call\(\s*[\"']([\w.]+)[\"']")  # client.api_call("chat.postMessage")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def methods_called() -> set[str]:
    """Web API methods named in bot/, as `chat.postMessage` (the SDK's chat_postMessage)."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text()
        for name in SDK_CALL.findall(source):
            # chat_postMessage → chat.postMessage, admin_users_list → admin.users.list
            found.update(SDK_HELPERS.get(name, (name.replace("_", "."),)))
        found.update(API_CALL.findall(source))
    return found


def test_manifest_validates_against_slacks_schema(manifest: dict[str, Any]) -> None:
    if not SCHEMA.parent.is_dir():
        pytest.skip(f"{SCHEMA.parent} is not here (the shared Slack research folder)")
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_manifest_declares_the_command_interactivity_and_app_home(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == "/walmart"
    assert "edr 2024-10-05 core" in command["usage_hint"]
    assert settings["interactivity"]["is_enabled"] is True
    assert features["app_home"] == {"home_tab_enabled": True, "messages_tab_enabled": True,
                                    "messages_tab_read_only_enabled": True}


def test_manifest_subscribes_to_exactly_the_events_the_app_handles(manifest: dict[str, Any]) -> None:
    handled = set()
    for path in (ROOT / "bot").rglob("*.py"):
        handled.update(re.findall(r"\.event\(\s*[\"'](\w+)[\"']", path.read_text()))
    assert handled == {"app_home_opened"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == handled


def test_the_scan_finds_the_calls_it_should() -> None:
    called = methods_called()
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish",
            "files.completeUploadExternal"} <= called


def test_bot_scopes_are_exactly_those_of_the_methods_called(manifest: dict[str, Any]) -> None:
    called = methods_called()
    unmapped = sorted(called - METHOD_SCOPES.keys())
    assert not unmapped, f"add these methods and their scopes to METHOD_SCOPES: {unmapped}"
    needed = {METHOD_SCOPES[m] for m in called} - {None}
    needed.add("commands")  # the slash command
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
