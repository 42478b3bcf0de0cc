"""Signing in from Slack: the Sign-in button, the SMS-code modal, wrong and locked codes, other instances,
restarts, saved accounts and signing out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.operations import UserKey
from bot.retail_link.sandbox import SandboxServer
from bot.slack import blocks
from tests.fake_slack import Call, FakeSlack
from tests.slack_harness import SlackHarness, running_bot

VALIDATE = "/api/mfa/validateCode"


def wrong_code(sandbox: SandboxServer) -> str:
    return "111111" if sandbox.last_code() != "111111" else "222222"


def modal_update(fake: FakeSlack, view_id: str, text: str, count: int = 1) -> list[Call]:
    """Wait for the background views.update of that modal that says `text`."""
    return fake.wait_for("views.update", count, predicate=lambda c: c.params["view_id"] == view_id
                         and text in json.dumps(c.params["view"], ensure_ascii=False))


def validate_calls(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.requests_seen if r.path == VALIDATE)


def test_edr_before_login_offers_a_button_that_opens_the_login_modal(bot: SlackHarness,
                                                                     fake: FakeSlack) -> None:
    body = bot.command("edr 2024-10-05 core").json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [blocks.SIGN_IN]
    assert fake.calls("chat.postMessage") == []

    assert bot.action(blocks.SIGN_IN).status_code == 200
    opened = fake.wait_for("views.open")[0]
    assert opened.ok and opened.params["view"]["callback_id"] == blocks.LOGIN_VIEW
    view_id = opened.response["view"]["id"]
    modal_update(fake, view_id, "Code sent")
    assert [b.get("block_id") for b in fake.view(view_id).blocks][-1] == blocks.CODE_BLOCK


def test_login_opens_the_modal_before_talking_to_walmart(sandbox: SandboxServer,
                                                         tmp_path: Path) -> None:
    # Walmart takes longer over the password than the trigger_id lives: only a modal opened first works.
    with FakeSlack(trigger_ttl=0.5) as fake, running_bot(fake, sandbox, tmp_path) as bot:
        bot.command("help")  # Bolt's first request checks the token (auth.test)
        sandbox.delay_next(1, 1.0, path_prefix="/api/login")
        bot.command("login")
        opened = fake.wait_for("views.open")[0]
        assert opened.ok, opened.summary()
        modal_update(fake, opened.response["view"]["id"], "Code sent")


def test_wrong_code_keeps_the_modal_open_then_the_right_code_signs_in(bot: SlackHarness,
                                                                      fake: FakeSlack,
                                                                      sandbox: SandboxServer) -> None:
    view_id = bot.login_view()
    ack = bot.submit(view_id, {"code": {"code_input": wrong_code(sandbox)}}).json()
    assert ack["response_action"] == "update" and "Checking the code" in json.dumps(ack["view"])
    modal_update(fake, view_id, "not accepted. 2 attempt(s) left")
    modal = fake.view(view_id)
    assert not modal.closed and blocks.CODE_BLOCK in {b.get("block_id") for b in modal.blocks}

    bot.submit(view_id, {"code": {"code_input": sandbox.last_code()}})
    modal_update(fake, view_id, "Signed in to Retail Link")
    assert "until 10 minutes without use" in json.dumps(fake.view(view_id).payload)
    assert "Signed in to Retail Link" in str(bot.command("status").json()["blocks"])


@pytest.mark.parametrize("typed", ["12345", "abcdef", "1234567"])
def test_a_code_that_is_not_six_digits_is_refused_in_the_ack(bot: SlackHarness, fake: FakeSlack,
                                                             sandbox: SandboxServer, typed: str) -> None:
    view_id = bot.login_view()
    ack = bot.submit(view_id, {"code": {"code_input": typed}}).json()
    assert ack["response_action"] == "errors" and "6 digits" in ack["errors"][blocks.CODE_BLOCK]
    assert "6 digits" in fake.view(view_id).errors[blocks.CODE_BLOCK]
    assert validate_calls(sandbox) == 0  # never reached Walmart, no attempt spent
    assert fake.calls("views.update")[-1].params["view"]["blocks"][-1]["block_id"] == blocks.CODE_BLOCK


def test_three_wrong_codes_lock_the_account_and_say_so_by_dm(bot: SlackHarness, fake: FakeSlack,
                                                             sandbox: SandboxServer) -> None:
    view_id = bot.login_view()
    for left in (2, 1):
        bot.submit(view_id, {"code": {"code_input": wrong_code(sandbox)}})
        modal_update(fake, view_id, f"{left} attempt(s) left")
    bot.submit(view_id, {"code": {"code_input": wrong_code(sandbox)}})
    modal_update(fake, view_id, "locked after too many attempts")
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"].startswith("D"))[0]
    assert dm.params["channel"] == fake.dm_channel("U1")
    assert "locked the account after too many wrong codes" in dm.params["text"]
    assert validate_calls(sandbox) == 3
    assert "Not signed in" in str(bot.command("status").json()["blocks"])


def test_the_code_may_be_submitted_to_another_instance(fake: FakeSlack, sandbox: SandboxServer,
                                                       tmp_path: Path) -> None:
    with running_bot(fake, sandbox, tmp_path) as first, running_bot(fake, sandbox, tmp_path) as second:
        view_id = first.login_view()  # the first instance sent the code
        second.submit(view_id, {"code": {"code_input": sandbox.last_code()}})
        modal_update(fake, view_id, "Signed in to Retail Link")
        for instance in (first, second):
            assert "Signed in to Retail Link" in str(instance.command("status").json()["blocks"])
    fake.assert_no_block_kit_errors()


def test_a_restart_keeps_the_session(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path) -> None:
    with running_bot(fake, sandbox, tmp_path) as before:
        before.sign_in()
    with running_bot(fake, sandbox, tmp_path) as after:
        final = after.edr("548021")
    assert "1 PDF in the thread" in final["text"]
    assert sum(1 for r in sandbox.requests_seen if r.path == "/api/mfa/sendCode") == 1
    fake.assert_no_block_kit_errors()


def test_login_when_signed_in_says_so_without_a_new_code(bot: SlackHarness, fake: FakeSlack,
                                                         sandbox: SandboxServer) -> None:
    bot.sign_in()
    bot.command("login")
    view_id = fake.wait_for("views.open", 2)[-1].response["view"]["id"]
    modal_update(fake, view_id, "Already signed in")
    assert sum(1 for r in sandbox.requests_seen if r.path == "/api/mfa/sendCode") == 1


def test_logout_ends_the_session(bot: SlackHarness) -> None:
    bot.sign_in()
    assert "the saved session is wiped" in str(bot.command("logout").json()["blocks"])
    assert "Not signed in (you signed out)" in str(bot.command("status").json()["blocks"])
    assert blocks.SIGN_IN in str(bot.command("edr 548021").json()["blocks"])
    assert "You were not signed in" in str(bot.command("logout").json()["blocks"])


def test_a_saved_account_is_checked_in_the_ack_and_used_to_sign_in(bot: SlackHarness,
                                                                   fake: FakeSlack) -> None:
    bot.command("account")
    view_id = fake.wait_for("views.open")[0].response["view"]["id"]
    ack = bot.submit(view_id, {"username": {"username": "me@example.com"},
                               "password": {"password": ""}, "credid": {"credid": "12ab"}}).json()
    assert ack["response_action"] == "errors" and set(ack["errors"]) == {"password", "credid"}

    ack = bot.submit(view_id, {"username": {"username": "me@example.com"},
                               "password": {"password": "not-the-password"},
                               "credid": {"credid": "5550001234"}}).json()
    assert ack["response_action"] == "update" and "me@example.com" in json.dumps(ack["view"])
    assert "not-the-password" not in json.dumps(ack["view"])
    assert bot.runtime.deps.ops.account(UserKey("T0001", "U1")).username == "me@example.com"

    bot.command("login")  # Retail Link does not know that login: the modal explains
    login_id = fake.wait_for("views.open", 2)[-1].response["view"]["id"]
    modal_update(fake, login_id, "rejected the username or password")
    assert "me@example.com" in str(bot.command("status").json()["blocks"])
    assert "team's Retail Link account" in str(bot.command("account default").json()["blocks"])


def test_an_expired_trigger_is_explained_and_sends_no_code(sandbox: SandboxServer,
                                                          tmp_path: Path) -> None:
    with FakeSlack(trigger_ttl=0.0) as fake, running_bot(fake, sandbox, tmp_path) as bot:
        assert bot.command("login").status_code == 200
        reply = fake.wait_for("respond")[-1].params
        assert "took too long" in str(reply.get("blocks"))
        assert fake.views == {}
    assert not [r for r in sandbox.requests_seen if r.path == "/api/mfa/sendCode"]
