"""The pure parts of the Slack app: the `/walmart` parser and the Block Kit builders, within Slack's
limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.edr.command import EdrTarget
from bot.edr.kinds import Kind
from bot.edr.service import Batch, EdrOutcome, EdrRequest
from bot.slack import blocks, commands
from tests import fake_slack_blockkit as blockkit
from tests.fake_slack import FakeSlack

TODAY = date(2024, 10, 3)


def big_day(total: int = 200, failed: int = 150) -> Batch:
    """A 200-event day where most events failed, with long Walmart names."""
    request = EdrRequest(8135, date(2024, 10, 5), Kind.ALL)
    outcomes = tuple(
        EdrOutcome(600000 + i, f"Demo <{i}> & " + "very long vendor name " * 8,
                   reason="Retail Link is not answering (server errors or timeouts after retries).")
        if i < failed else
        EdrOutcome(600000 + i, f"Demo {i}", Kind.CORE, f"EDR_{600000 + i}.pdf", b"%PDF-1.4")
        for i in range(total))
    return Batch(request, outcomes, b"%PDF-1.4", "EDRs_2024-10-05_all_store8135.pdf")


def all_text(message: blocks.Message) -> str:
    return str(message["blocks"])


# --- the parser ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", commands.Help()),
    ("   ", commands.Help()),
    ("help", commands.Help()),
    ("HELP", commands.Help()),
    ("login", commands.Login()),
    ("sign-in", commands.Login()),
    ("logout", commands.Logout()),
    ("status", commands.Status()),
    ("store", commands.ShowStore()),
    ("store 4321", commands.SetStore(4321, "user")),
    ("store 4321 channel", commands.SetStore(4321, "channel")),
    ("store clear", commands.SetStore(None, "user")),
    ("store clear channel", commands.SetStore(None, "channel")),
    ("account", commands.Account()),
    ("account default", commands.Account(use_default=True)),
    ("edr 2024-10-05 core", commands.Edr(EdrTarget(date(2024, 10, 5), Kind.CORE, ()))),
    ("edr 2024-10-05", commands.Edr(EdrTarget(date(2024, 10, 5), Kind.ALL, ()))),
    ("edr 548021 548104", commands.Edr(EdrTarget(None, Kind.ALL, (548021, 548104)))),
    ("edr 548021, 548021", commands.Edr(EdrTarget(None, Kind.ALL, (548021,)))),
])
def test_parse_command_turns_text_into_a_typed_command(text: str, expected: commands.Command) -> None:
    assert commands.parse_command(text, TODAY) == expected


def test_an_unknown_subcommand_is_help_naming_the_word() -> None:
    assert commands.parse_command("frobnicate now", TODAY) == commands.Help(unknown="frobnicate")


@pytest.mark.parametrize(("text", "says"), [
    ("edr 2024-02-30", "2024-02-30"),
    ("edr 2024-10-05 banana", "banana"),
    ("edr banana", "banana"),
    ("edr", "Usage"),
    ("store 0", "club number"),
    ("store 100000", "club number"),
    ("store abc", "club number"),
    ("login now", "takes no arguments"),
    ("account bob", "/walmart account"),
])
def test_bad_input_is_one_clear_message(text: str, says: str) -> None:
    command = commands.parse_command(text, TODAY)
    assert isinstance(command, commands.BadInput)
    assert says in command.message


# --- replies ------------------------------------------------------------------------------------


def test_help_with_an_unknown_word_escapes_it() -> None:
    message = blocks.help_message(10, "<!channel>&")
    assert "&lt;!channel&gt;&amp;" in all_text(message)
    assert "<!channel>" not in all_text(message)
    assert blockkit.check_message(message) == []


def test_error_message_escapes_text_and_names_the_error_id() -> None:
    message = blocks.error_message("bad <@U1> & co", "abc123")
    text = all_text(message)
    assert "bad &lt;@U1&gt; &amp; co" in text and "abc123" in text


def test_sign_in_needed_has_the_sign_in_button() -> None:
    message = blocks.sign_in_needed("Sign in first.")
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [blocks.SIGN_IN]


@pytest.mark.parametrize(("seconds", "says"), [(55, "about 1 minute"), (30, "about 1 minute"),
                                               (600, "about 10 minutes")])
def test_session_expiring_states_the_time_left(seconds: int, says: str) -> None:
    assert f"ends in {says} if" in blocks.session_expiring(seconds)["text"]


def test_session_ended_states_the_reason() -> None:
    assert "it was idle for 10 minutes" in blocks.session_ended("expired", 10)["text"]
    assert "Retail Link ended it" in blocks.session_ended("walmart_expired", 10)["text"]


# --- EDR parent -------------------------------------------------------------------------------


def test_a_200_event_day_with_150_failures_fits_one_message(fake: FakeSlack) -> None:
    message = blocks.edr_parent("Sat Oct 5 · All kinds · store 8135", "done", batch=big_day(),
                                batch_id=7, user_id="U1", note="x" * 5000)
    assert blockkit.check_message(message) == []
    assert len(message["blocks"]) <= blocks.MESSAGE_BLOCKS_MAX
    text = all_text(message)
    assert "150 failed" in text and "…and 135 more." in text
    assert "Demo &lt;0&gt; &amp;" in text  # Walmart's names are escaped too
    assert blocks.SHARE_BATCH in text
    # …and real Slack (the fake's checks) takes it.
    fake.client().chat_postMessage(channel="C0PUBLIC", **message)
    fake.assert_no_block_kit_errors()


def test_every_phase_of_the_parent_is_valid_block_kit() -> None:
    label = blocks.batch_label(EdrRequest(8135, event_ids=tuple(range(100000, 100200))))
    assert label.startswith("200 events (100000, 100001, 100002 …)")
    for message in (blocks.edr_parent(label, "listing", user_id="U1"),
                    blocks.edr_parent(label, "fetching", done=3, total=200, user_id="U1"),
                    blocks.edr_parent(label, "uploading", total=201),
                    blocks.edr_parent(label, "failed", note="<Walmart> said no" * 500),
                    blocks.edr_parent(label, "done", batch=Batch(EdrRequest(8135, event_ids=(1,)),
                                                                   ()))):
        assert blockkit.check_message(message) == [], message


def test_a_batch_label_names_the_day_kind_and_store() -> None:
    request = EdrRequest(8135, date(2024, 10, 5), Kind.CORE)
    assert blocks.batch_label(request) == "Sat Oct 5 · Core · store 8135"


# --- views ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["sending", "code", "verifying", "signed_in", "failed"])
def test_every_login_modal_phase_is_a_valid_view(phase: blocks.LoginPhase) -> None:
    view = blocks.login_view(phase, note="n" * 4000, username="someone@example.com")
    assert blockkit.check_view(view) == []
    assert view["callback_id"] == blocks.LOGIN_VIEW


def test_the_code_phase_keeps_its_input_block_id() -> None:
    view = blocks.login_view("code", note="That SMS code was not accepted. 2 attempt(s) left.")
    assert blockkit.input_block_ids(view) == {blocks.CODE_BLOCK}
    assert "2 attempt(s) left" in str(view["blocks"])


def test_share_and_account_modals_are_valid_views() -> None:
    assert blockkit.check_view(blocks.share_view(3, "L" * 5000)) == []
    assert blockkit.check_view(blocks.account_view("someone")) == []


def test_app_home_with_many_long_batches_is_a_valid_home_tab(fake: FakeSlack) -> None:
    recent = [blocks.RecentBatch(f"<batch {i}> " + "long label " * 400, "done", 200, 150,
                                 f"https://fake-workspace.slack.com/archives/C1/p{i}")
              for i in range(300)]
    view = blocks.home_view(True, timedelta(minutes=9), 8135, "your preference",
                            "someone@example.com", recent, 10)
    assert blockkit.check_view(view) == []
    assert len(view["blocks"]) <= 100
    fake.client().views_publish(user_id="U1", view=view)
    fake.assert_no_block_kit_errors()


def test_shared_batch_lists_file_links_within_limits() -> None:
    files = [blocks.SharedFile(f"EDR_{i}.pdf", f"https://files/{i}") for i in range(120)]
    message = blocks.shared_batch("Sat Oct 5 · Core · store 8135", "U1", "https://thread", files)
    assert blockkit.check_message(message) == []
    assert "<https://files/0|EDR_0.pdf>" in all_text(message)
    assert "…and 80 more" in all_text(message)


@pytest.mark.parametrize(("left", "says"), [(timedelta(seconds=599.9), "*10 min* left"),
                                            (timedelta(seconds=330), "*6 min* left"),
                                            (timedelta(seconds=125), "*2 min 05 s* left")])
def test_status_states_the_time_left(left: timedelta, says: str) -> None:
    message = blocks.status_message(True, left, 8135, "your preference", None, None)
    assert says in message["text"]
