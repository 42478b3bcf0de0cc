"""Who may do what: users and teams kept apart, allow-lists, request signatures, and the HTTP server under a
burst, with its health check."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bot.operations import UserKey
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer
from bot.slack import blocks
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackHarness, assert_no_call, running_bot
from tests.slack_requests import signed_headers, slash_command_body

U1, U2 = UserKey("T0001", "U1"), UserKey("T0001", "U2")


def reply(response: requests.Response) -> str:
    assert response.status_code == 200
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    return json.dumps(body)


# --- users and teams ----------------------------------------------------------------------------


def test_users_are_kept_apart(bot: SlackHarness, fake: FakeSlack) -> None:
    bot.sign_in("U1")
    assert blocks.SIGN_IN in reply(bot.command("edr 548021", user="U2"))
    assert fake.calls("chat.postMessage") == []
    assert "You were not signed in" in reply(bot.command("logout", user="U2"))
    assert bot.runtime.deps.ops.status(U1).time_left is not None
    assert bot.runtime.deps.ops.status(U2).time_left is None
    # The same user id in another workspace is another person.
    assert "Not signed in" in reply(bot.command("status", user="U1", team="T0002"))
    assert "Signed in to Retail Link" in reply(bot.command("status", user="U1"))


def test_a_batch_cannot_be_shared_from_another_team(bot: SlackHarness, fake: FakeSlack) -> None:
    bot.sign_in("U1")
    final = bot.edr("548021")
    [batch] = bot.runtime.deps.recent_batches(U1, 5)
    assert f"'value': '{batch.id}'" in str(final["blocks"])
    response = bot.action(blocks.SHARE_BATCH, str(batch.id), user="U2", team_id="T0002",
                          channel_id="C0PUBLIC", message_ts=final["ts"])
    assert response.status_code == 200
    assert bot.runtime.deps.get_batch(UserKey("T0002", "U2"), batch.id) is None
    assert_no_call(fake, "views.open",
                   lambda c: c.params["view"]["callback_id"] == blocks.SHARE_VIEW)


def test_allowed_slack_users_refuses_everyone_else(fake: FakeSlack, sandbox: SandboxServer,
                                                   tmp_path: Path) -> None:
    with running_bot(fake, sandbox, tmp_path, ALLOWED_SLACK_USERS="U1, U3") as bot:
        refused = reply(bot.command("login", user="U2"))
        assert "not enabled for you here" in refused and "allow-list" in refused
        assert "/walmart login" in reply(bot.command("help", user="U3"))
        assert fake.calls("views.open") == []
        assert bot.home_opened("U2").status_code == 200
        assert_no_call(fake, "views.publish")


def test_allowed_slack_channels_refuses_other_channels(fake: FakeSlack, sandbox: SandboxServer,
                                                       tmp_path: Path) -> None:
    fake.add_channel("C0EDR", name="edr")
    with running_bot(fake, sandbox, tmp_path, ALLOWED_SLACK_CHANNELS="C0EDR") as bot:
        assert "not enabled for you here" in reply(bot.command("status"))
        assert "Not signed in" in reply(bot.command("status", channel="C0EDR"))


# --- request verification -------------------------------------------------------------------------


def test_a_bad_signature_is_refused_with_401(bot: SlackHarness, fake: FakeSlack) -> None:
    body = slash_command_body("login", trigger_id=fake.new_trigger_id("U1"))
    forged = signed_headers(body, "not-the-signing-secret")
    response = requests.post(bot.url + "/slack/events", data=body.encode(), headers=forged, timeout=10)
    assert response.status_code == 401
    unsigned = {"content-type": "application/x-www-form-urlencoded"}
    response = requests.post(bot.url + "/slack/events", data=body.encode(), headers=unsigned, timeout=10)
    assert response.status_code == 401
    assert fake.calls("views.open") == []


def test_a_request_older_than_five_minutes_is_refused_with_401(bot: SlackHarness,
                                                               fake: FakeSlack) -> None:
    body = slash_command_body("login", trigger_id=fake.new_trigger_id("U1"))
    assert bot.post(body, timestamp=int(time.time()) - 301).status_code == 401
    assert bot.post(body, timestamp=int(time.time()) + 301).status_code == 401
    assert fake.calls("views.open") == []
    assert bot.post(body, timestamp=int(time.time()) - 60).status_code == 200


def test_slack_never_sees_the_retail_link_password(bot: SlackHarness, fake: FakeSlack) -> None:
    bot.sign_in()
    bot.edr("548021")
    bot.command("status")
    bot.command("account")
    for call in fake.calls():
        assert DEFAULT_ACCOUNT.password not in json.dumps(call.params, default=str), call.summary()
    assert DEFAULT_ACCOUNT.password not in json.dumps([r.body for r in fake.responses()])


# --- the HTTP server ------------------------------------------------------------------------------


def test_healthz_reports_the_database_and_the_scheduler(bot: SlackHarness) -> None:
    response = bot.healthz()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "running"}
    bot.runtime.scheduler.stop()
    response = bot.healthz()
    assert response.status_code == 503 and response.json()["scheduler"] == "stopped"


def test_thirty_simultaneous_slash_commands_are_all_answered_within_three_seconds(
        bot: SlackHarness) -> None:
    bot.command("help")  # Bolt's first request checks the token once (auth.test)
    start = threading.Barrier(30)

    def one(i: int) -> tuple[int, float, str]:
        user = f"U{i:03d}"
        text = "status" if i % 2 else "help"
        start.wait()
        began = time.perf_counter()
        response = bot.command(text, user=user)
        return response.status_code, time.perf_counter() - began, response.text

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(one, range(30)))
    assert [status for status, _, _ in results] == [200] * 30
    slowest = max(seconds for _, seconds, _ in results)
    assert slowest < 3.0, f"slowest ack took {slowest:.2f} s"
    assert all('"blocks"' in text for _, _, text in results)
