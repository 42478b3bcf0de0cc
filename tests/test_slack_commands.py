"""`/walmart` replies answered in the ack: help, unknown words, bad input, status and store preferences."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.operations import UserKey
from bot.retail_link.sandbox import SandboxServer
from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackHarness, running_bot

U1 = UserKey("T0001", "U1")


def ephemeral(bot: SlackHarness, text: str, **kwargs: str) -> str:
    """The ack's reply to `/walmart <text>`, checked to be ephemeral; its blocks as text."""
    response = bot.command(text, **kwargs)
    assert response.status_code == 200
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    return str(body["blocks"])


def test_empty_text_is_help(bot: SlackHarness) -> None:
    text = ephemeral(bot, "")
    assert "/walmart login" in text and "/walmart edr 548021 548104" in text


def test_an_unknown_subcommand_gets_help_with_a_note(bot: SlackHarness) -> None:
    text = ephemeral(bot, "frobnicate")
    assert "I don't know `frobnicate`" in text
    assert "/walmart status" in text


@pytest.mark.parametrize(("text", "says"), [
    ("edr 2024-02-30", "2024-02-30"),
    ("edr 2024-10-05 banana", "banana"),
    ("store 0", "A store is a club number"),
    ("edr 2024-10-05 supervisor", "Walmart has no supervisor events"),
])
def test_bad_input_is_one_ephemeral_error_and_nothing_else(bot: SlackHarness, fake: FakeSlack,
                                                          sandbox: SandboxServer, text: str,
                                                          says: str) -> None:
    bot.sign_in()
    sandbox.reset_stats()
    fake.clear_calls()
    reply = ephemeral(bot, text)
    assert reply.count(":warning:") == 1 and says in reply
    assert fake.calls() == []  # nothing posted, no respond(), no modal
    assert sandbox.requests_seen == []  # Walmart never asked
    deps = bot.runtime.deps
    assert deps.recent_batches(U1, 10) == []  # nothing stored
    assert deps.store_for(U1, "C0PUBLIC") == (8135, "the bot's default")


def test_status_when_signed_out_offers_sign_in(bot: SlackHarness) -> None:
    text = ephemeral(bot, "status")
    assert "Not signed in" in text and "walmart_sign_in" in text
    assert "Store *8135* (the bot's default)" in text


def test_status_when_signed_in_shows_time_left_and_account(bot: SlackHarness) -> None:
    bot.sign_in()
    text = ephemeral(bot, "status")
    assert "Signed in to Retail Link — *10 min* left" in text
    assert "sandbox.user@example.com (team account)" in text


def test_a_users_store_is_used_in_status(bot: SlackHarness) -> None:
    assert "Your store is now *4321*" in ephemeral(bot, "store 4321")
    assert "Store *4321* (your preference)" in ephemeral(bot, "status")
    assert "Store *8135* (the bot's default)" in ephemeral(bot, "status", user="U2")


def test_a_channels_store_serves_everyone_in_that_channel(bot: SlackHarness, fake: FakeSlack) -> None:
    fake.add_channel("C0STORE", name="store-4321")
    assert "This channel's store is now *4321*" in ephemeral(bot, "store 4321 channel",
                                                            channel="C0STORE")
    assert "Store *4321* (this channel's)" in ephemeral(bot, "status", user="U2", channel="C0STORE")
    assert "Store *8135* (the bot's default)" in ephemeral(bot, "status", user="U2")
    # A user's own preference wins over the channel's.
    ephemeral(bot, "store 1111", user="U2")
    assert "Store *1111* (your preference)" in ephemeral(bot, "status", user="U2", channel="C0STORE")
    assert "preference is cleared" in ephemeral(bot, "store clear", user="U2")
    assert "Requests use *store 4321* (this channel's)" in ephemeral(bot, "store", user="U2",
                                                                   channel="C0STORE")


def test_edr_without_any_store_asks_for_one(fake: FakeSlack, sandbox: SandboxServer,
                                            tmp_path: Path) -> None:
    with running_bot(fake, sandbox, tmp_path, WALMART_STORE_NUMBER="") as bot:
        bot.sign_in()
        reply = ephemeral(bot, "edr 548021")
        assert "No store is set" in reply and "/walmart store 8135" in reply
        assert fake.calls("chat.postMessage") == []
