"""Signed requests from "Slack" to the app under test: slash commands, interactivity and events.

Shapes follow Slack's payload references closely enough for Bolt to route them (PLATFORM.md §5): commands are
form-encoded, interactivity is `payload=` + urlencoded JSON, Events API callbacks are JSON.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER_ID = "T0001", "fake-workspace", "A0APP", "U0BOT"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated field Slack still sends; Bolt ignores it
# Looks like a trigger_id but the fake never issued it: views.open with it fails invalid_trigger_id.
UNISSUED_TRIGGER_ID = "0000000000.0001.00000000000000000000000000000000"
_counter = itertools.count(1)


def signed_headers(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with `body`: v0 HMAC signature over `v0:{ts}:{body}` (§1.6)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    is_json = body.lstrip().startswith("{")
    content_type = "application/json" if is_json else "application/x-www-form-urlencoded"
    return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature}


def signed_request(body: str, secret: str, timestamp: int | None = None) -> BoltRequest:
    """A BoltRequest ready for `app.dispatch()`."""
    return BoltRequest(body=body, headers=signed_headers(body, secret, timestamp))


def slash_command_body(text: str, user_id: str = "U1", team_id: str = TEAM_ID, channel_id: str = "C0PUBLIC",
                       command: str = "/walmart", trigger_id: str = UNISSUED_TRIGGER_ID,
                       response_url: str = "http://127.0.0.1:9/respond/unset", *,
                       channel_name: str = "general", user_name: str = "user") -> str:
    """A slash command invocation, form-encoded as Slack posts it."""
    return urllib.parse.urlencode({
        "token": VERIFICATION_TOKEN, "team_id": team_id, "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    })


def interactivity_body(payload: dict[str, Any]) -> str:
    """Interactivity payloads arrive as a form field `payload` holding JSON."""
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def block_action_body(action_id: str, value: str | None = None, user_id: str = "U1",
                      view: dict[str, Any] | None = None, channel_id: str | None = None,
                      message_ts: str | None = None, *, block_id: str = "actions",
                      action_type: str = "button", trigger_id: str = UNISSUED_TRIGGER_ID,
                      response_url: str | None = None, team_id: str = TEAM_ID,
                      message: dict[str, Any] | None = None, is_ephemeral: bool = False) -> str:
    """A block_actions payload: a button (by default) clicked in a view (modal/Home) or a message."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": action_type,
                              "action_ts": _action_ts()}
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_id}
        if value is not None:
            action["value"] = value
    elif action_type == "static_select":
        action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
    elif value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user(user_id, team_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "trigger_id": trigger_id, "team": _team(team_id),
        "enterprise": None, "is_enterprise_install": False, "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = {**view, "state": view.get("state") or {"values": {}}}
        payload["state"] = payload["view"]["state"]
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    if message_ts is not None:
        payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                                "is_ephemeral": is_ephemeral}
        payload["message"] = message or {"type": "message", "ts": message_ts, "user": BOT_USER_ID}
        payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url  # only message-originated actions carry one
    return interactivity_body(payload)


def view_submission_body(callback_id: str, values: dict[str, dict[str, Any]], user_id: str = "U1",
                         view_id: str = "V0000001", private_metadata: str | None = None,
                         hash: str = "1700000000.0",
                         *, view: dict[str, Any] | None = None, trigger_id: str = UNISSUED_TRIGGER_ID,
                         team_id: str = TEAM_ID) -> str:
    """A view_submission payload. `values` is {block_id: {action_id: value}}; a plain string value means a
    plain_text_input, a dict is taken as the element state as is. `view` (e.g. FakeSlack.view(id).as_api())
    supplies the rest of the view as Slack would send it back (its id, hash and private_metadata unless
    given here)."""
    state = {block_id: {action_id: _input_state(v) for action_id, v in actions.items()}
             for block_id, actions in values.items()}
    submitted = {"type": "modal", "blocks": [], "title": {"type": "plain_text", "text": "Modal"},
                 "close": None, "submit": None, "previous_view_id": None, "external_id": "",
                 "app_id": APP_ID, "bot_id": "B0BOT", "team_id": team_id, "app_installed_team_id": team_id,
                 **(view or {})}
    submitted.update({"id": view_id if view is None else view.get("id", view_id),
                      "callback_id": callback_id,
                      "private_metadata": private_metadata if private_metadata is not None
                      else submitted.get("private_metadata", ""),
                      "hash": hash if view is None else view.get("hash", hash),
                      "state": {"values": state}})
    submitted.setdefault("root_view_id", submitted["id"])
    return interactivity_body({
        "type": "view_submission", "team": _team(team_id), "user": _user(user_id, team_id),
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN, "trigger_id": trigger_id, "view": submitted,
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    })


def view_closed_body(callback_id: str, user_id: str = "U1", view_id: str = "V0000001",
                     private_metadata: str = "", *, team_id: str = TEAM_ID) -> str:
    """The user closed a modal that set notify_on_close."""
    return interactivity_body({
        "type": "view_closed", "team": _team(team_id), "user": _user(user_id, team_id), "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN, "is_cleared": False, "is_enterprise_install": False, "enterprise": None,
        "view": {"id": view_id, "type": "modal", "callback_id": callback_id,
                 "private_metadata": private_metadata, "team_id": team_id, "app_id": APP_ID,
                 "root_view_id": view_id, "state": {"values": {}}},
    })


def event_body(event: dict[str, Any], *, team_id: str = TEAM_ID, event_id: str | None = None,
               event_time: int | None = None) -> str:
    """An Events API callback (JSON) wrapping `event`."""
    now = int(time.time()) if event_time is None else event_time
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": team_id, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": event_id or f"Ev{next(_counter):08d}", "event_time": now,
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    })


def app_home_opened_event(user_id: str = "U1", tab: str = "home", view: dict[str, Any] | None = None,
                          channel: str = "D0000000") -> dict[str, Any]:
    """The app_home_opened event (its `view` is present once a Home tab was published)."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": channel, "tab": tab,
                             "event_ts": _action_ts()}
    if view is not None:
        event["view"] = view
    return event


def _input_state(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _action_ts() -> str:
    return f"{time.time():.6f}"
