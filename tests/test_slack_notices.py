"""The sweep's DMs (the one-minute warning with "Stay signed in", the idle expiry) and the App Home tab.

Time moves on the session store's clock (SessionClock), never by sleeping; the sweep runs when the test
calls `scheduler.run_once()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.operations import UserKey
from bot.retail_link.sandbox import SandboxServer
from bot.sessions.service import SweepResult
from bot.slack import blocks
from tests.fake_slack import Call, FakeSlack
from tests.slack_harness import SessionClock, SlackHarness, running_bot
from tests.slack_requests import block_action_body

U1 = UserKey("T0001", "U1")
IDLE = 600


@pytest.fixture
def clock() -> SessionClock:
    return SessionClock()


@pytest.fixture
def bot(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path,
        clock: SessionClock) -> Iterator[SlackHarness]:
    with running_bot(fake, sandbox, tmp_path, clock=clock) as harness:
        yield harness
    fake.assert_no_block_kit_errors()


def dms(fake: FakeSlack, user: str = "U1") -> list[Call]:
    dm = fake.dm_channel(user)
    return [c for c in fake.calls("chat.postMessage") if dm and c.params["channel"] == dm]


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def sweep(bot: SlackHarness) -> SweepResult:
    """One run of the instance's expiry sweep, as its scheduler would do it."""
    result = bot.runtime.scheduler.run_once()
    assert result is not None, "the sweep failed (see the log)"
    return result


def home_text(fake: FakeSlack, user: str = "U1") -> str:
    home = fake.home(user)
    assert home is not None, "no Home tab published"
    return str(home.blocks)


def time_left(bot: SlackHarness) -> timedelta:
    left = bot.runtime.deps.ops.status(U1).time_left
    assert left is not None, "not signed in"
    return left


def test_a_minute_before_the_idle_timeout_a_dm_offers_to_stay_signed_in(
        bot: SlackHarness, fake: FakeSlack, clock: SessionClock) -> None:
    bot.sign_in()
    clock.advance(IDLE - 50)
    result = sweep(bot)
    assert len(result.expiring) == 1 and result.expired == []
    [warning] = dms(fake)
    assert "ends in about 1 minute if it stays idle" in warning.params["text"]
    assert buttons(warning.params) == [blocks.STAY_SIGNED_IN]
    assert time_left(bot) < timedelta(seconds=60)

    homes = len(fake.calls("views.publish"))
    bot.action(blocks.STAY_SIGNED_IN, channel_id=warning.response["channel"],
               message_ts=warning.response["ts"],
               response_url=fake.response_url("U1", warning.response["channel"]))
    reply = fake.wait_for("respond")[-1].params
    assert reply["replace_original"] and "Still signed in — 10 min left" in reply["text"]
    assert timedelta(seconds=IDLE - 5) <= time_left(bot) <= timedelta(seconds=IDLE)
    fake.wait_for("views.publish", homes + 1)  # the Home tab follows

    assert sweep(bot).expiring == []
    clock.advance(IDLE - 50)  # …and the slide re-armed the warning
    assert len(sweep(bot).expiring) == 1
    assert len(dms(fake)) == 2


def test_an_idle_session_ends_with_a_dm_saying_why(bot: SlackHarness, fake: FakeSlack,
                                                   clock: SessionClock) -> None:
    bot.sign_in()
    clock.advance(IDLE + 1)
    result = sweep(bot)
    assert len(result.expired) == 1 and result.expiring == []
    [ended] = dms(fake)
    assert ended.params["text"] == ("Your Retail Link session has ended: it was idle for "
                                    "10 minutes.")
    assert buttons(ended.params) == [blocks.SIGN_IN]
    assert "Not signed in (it was idle for 10 minutes)" in str(bot.command("status").json()["blocks"])
    assert blocks.SIGN_IN in str(bot.command("edr 548021").json()["blocks"])


def test_two_instances_on_one_database_send_one_notice(bot: SlackHarness, fake: FakeSlack,
                                                       sandbox: SandboxServer, tmp_path: Path,
                                                       clock: SessionClock) -> None:
    bot.sign_in()
    with running_bot(fake, sandbox, tmp_path, clock=clock) as other:
        clock.advance(IDLE - 50)
        assert len(sweep(other).expiring) + len(sweep(bot).expiring) == 1
        clock.advance(60)
        assert len(sweep(bot).expired) + len(sweep(other).expired) == 1
    assert [("about 1 minute" in c.params["text"], "has ended" in c.params["text"])
            for c in dms(fake)] == [(True, False), (False, True)]


def test_app_home_shows_the_state_the_store_and_recent_batches(bot: SlackHarness,
                                                               fake: FakeSlack) -> None:
    bot.home_opened()
    fake.wait_for("views.publish")
    home = home_text(fake)
    assert "Not signed in" in home and blocks.SIGN_IN in home and "None yet" in home

    bot.sign_in()
    bot.command("store 4321")
    final = bot.edr("548021")
    published = len(fake.calls("views.publish"))
    bot.home_opened()
    fake.wait_for("views.publish", published + 1)
    home = home_text(fake)
    assert "*Signed in* — 10 min left" in home
    assert blocks.STAY_SIGNED_IN in home and blocks.SIGN_OUT in home
    assert "Store *4321* (your preference)" in home
    assert "sandbox.user@example.com (team account)" in home
    thread = f"{final['channel']}/p{final['ts'].replace('.', '')}"
    assert f"{thread}|1 event (548021) · store 4321>" in home and "done: 1 PDFs" in home


def test_sign_out_from_app_home_ends_the_session_and_refreshes_it(bot: SlackHarness,
                                                                  fake: FakeSlack) -> None:
    bot.sign_in()
    home = fake.home("U1")
    assert home is not None
    published = len(fake.calls("views.publish"))
    body = block_action_body(blocks.SIGN_OUT, user_id="U1", view=home.as_api(),
                             trigger_id=fake.new_trigger_id("U1"))
    assert bot.post(body).status_code == 200
    fake.wait_for("views.publish", published + 1)
    assert "Not signed in" in home_text(fake)
    assert bot.runtime.deps.ops.status(U1).time_left is None
