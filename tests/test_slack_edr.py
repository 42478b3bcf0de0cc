"""`/walmart edr …` end to end: the parent message, its progress, the PDFs in its thread, Walmart's
failures, channels the bot is not in, Slack's retries and sharing a batch onward."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.db import session_scope
from bot.operations import UserKey
from bot.retail_link.sandbox import SandboxServer
from bot.sessions.models import OperationRecord
from bot.slack import blocks
from tests.fake_slack import FakeSlack, UploadedFile
from tests.slack_harness import SlackHarness, running_bot
from tests.slack_requests import slash_command_body

EDR_PATH = "/EventManagement/api/edrReport"
U1 = UserKey("T0001", "U1")
CORE_IDS = {547812, 547955, 548021, 548104, 548466, 548512}  # the fixture day's six core events


@pytest.fixture
def bot(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path) -> Iterator[SlackHarness]:
    with running_bot(fake, sandbox, tmp_path) as harness:
        harness.sign_in()
        yield harness
    fake.assert_no_block_kit_errors()


@pytest.fixture
def one_at_a_time(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path) -> Iterator[SlackHarness]:
    """EDRs fetched one by one, so injected Walmart faults hit a known event."""
    with running_bot(fake, sandbox, tmp_path, EDR_CONCURRENCY=1) as harness:
        harness.sign_in()
        yield harness
    fake.assert_no_block_kit_errors()


def event_id(file: UploadedFile) -> int:
    return int(file.filename.split("_")[2])  # EDR_2024-10-05_548021_….pdf


def pages(file: UploadedFile) -> int:
    assert file.content is not None, f"{file.filename} was never uploaded"
    return len(PdfReader(io.BytesIO(file.content)).pages)


def blocks_text(params: dict[str, Any]) -> str:
    return str(params.get("blocks"))


def dm_messages(fake: FakeSlack, user: str = "U1") -> list[str]:
    return [m.text or "" for m in fake.messages(user) if m.thread_ts is None]


def test_a_day_of_one_kind_lands_in_the_thread_with_progress_first(bot: SlackHarness,
                                                                   fake: FakeSlack) -> None:
    final = bot.edr("2024-10-05 core")
    channel, ts = final["channel"], final["ts"]
    assert channel == "C0PUBLIC"
    assert final["text"] == ("EDRs · Sat Oct 5 · Core · store 8135 — 6 PDFs in the thread "
                             "+ 1 combined for printing")
    history = [text or "" for text, _ in fake.message(channel, ts).versions]
    assert "finding events" in history[0]
    assert any("fetching 6 events" in text for text in history)
    assert any("uploading 7 PDFs" in text for text in history)
    assert history[-1] == final["text"]

    files = fake.files_in_thread(channel, ts)
    singles = [f for f in files if not f.filename.startswith("EDRs_")]
    combined = [f for f in files if f.filename.startswith("EDRs_")]
    assert {event_id(f) for f in singles} == CORE_IDS
    assert [f.filename for f in combined] == ["EDRs_2024-10-05_core_store8135.pdf"]
    assert pages(combined[0]) == sum(pages(f) for f in singles)
    # Every fetch is audited.
    with session_scope(bot.runtime.deps.ops.factory) as db:
        audit = db.scalars(select(OperationRecord).where(OperationRecord.operation == "edr")).all()
        assert [(set(a.event_ids), a.outcome) for a in audit] == [(CORE_IDS, "ok")]


def test_more_than_ten_pdfs_go_up_ten_at_a_time(bot: SlackHarness, fake: FakeSlack,
                                                sandbox: SandboxServer) -> None:
    sandbox.add_generated_day(8135, "2025-01-10", 23)
    final = bot.edr("2025-01-10")
    files = fake.files_in_thread(final["channel"], final["ts"])
    shares = [len(c.params["files"]) for c in fake.calls("files.completeUploadExternal")]
    assert len(shares) >= 3 and max(shares) <= 10 and sum(shares) == len(files)
    assert all(c.params["thread_ts"] == final["ts"] for c in fake.calls("files.completeUploadExternal"))
    singles = [f for f in files if not f.filename.startswith("EDRs_")]
    combined = next(f for f in files if f.filename.startswith("EDRs_"))
    assert f"{len(singles)} PDFs in the thread + 1 combined" in final["text"]
    assert pages(combined) == sum(pages(f) for f in singles)


def test_edr_by_ids_names_the_unknown_id_and_why(bot: SlackHarness, fake: FakeSlack) -> None:
    final = bot.edr("548021 548104 999999")
    assert "2 PDFs in the thread" in final["text"] and "1 failed" in final["text"]
    assert "`999999`" in blocks_text(final) and "no event with this id" in blocks_text(final)
    files = fake.files_in_thread(final["channel"], final["ts"])
    assert sorted(event_id(f) for f in files if f.filename.startswith("EDR_")) == [548021, 548104]
    assert len(files) == 3  # + the combined PDF


def test_walmart_5xx_and_429_cost_only_their_events(one_at_a_time: SlackHarness,
                                                    sandbox: SandboxServer) -> None:
    # One more than the client's retries, for the first event and then the second.
    sandbox.fail_next(4, 503, path_prefix=EDR_PATH)
    sandbox.rate_limit_next(4, retry_after=0, path_prefix=EDR_PATH)
    final = one_at_a_time.edr("548021 548104 548230")
    text = blocks_text(final)
    assert "1 PDF in the thread" in final["text"] and "2 failed" in final["text"]
    assert "`548021`" in text and "HTTP 503 after retries" in text
    assert "`548104`" in text and "rate limiting" in text
    assert "`548230`" not in text


def test_walmart_ending_the_session_before_a_batch_fails_it_and_asks_to_sign_in(
        bot: SlackHarness, fake: FakeSlack, sandbox: SandboxServer) -> None:
    sandbox.expire_tokens()
    final = bot.edr("2024-10-05 core")
    assert "— failed: The Retail Link session has expired" in final["text"]
    reply = fake.wait_for("respond")[-1].params
    assert blocks.SIGN_IN in str(reply["blocks"])
    fake.wait_for("chat.postMessage", predicate=lambda c: "Retail Link ended it" in c.params["text"])
    assert any("Retail Link ended it" in text for text in dm_messages(fake))
    assert "Not signed in (Retail Link ended it)" in str(bot.command("status").json()["blocks"])


def test_walmart_ending_the_session_mid_batch_keeps_what_was_fetched(one_at_a_time: SlackHarness,
                                                                     fake: FakeSlack,
                                                                     sandbox: SandboxServer) -> None:
    sandbox.expire_tokens_after(3)  # the listing and two EDRs get through
    final = one_at_a_time.edr("2024-10-05 core")
    assert "2 PDFs in the thread" in final["text"] and "4 failed" in final["text"]
    assert "Retail Link ended the session during this batch" in blocks_text(final)
    assert len(fake.files_in_thread(final["channel"], final["ts"])) == 3
    fake.wait_for("chat.postMessage", predicate=lambda c: "Retail Link ended it" in c.params["text"])
    assert "Not signed in" in str(one_at_a_time.command("status").json()["blocks"])


def test_a_slack_retry_never_starts_a_second_batch(bot: SlackHarness, fake: FakeSlack) -> None:
    body = slash_command_body("edr 548021", trigger_id=fake.new_trigger_id("U1"),
                              response_url=fake.response_url("U1", "C0PUBLIC"))
    assert bot.post(body).status_code == 200
    retry = bot.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    parent = fake.wait_for("chat.postMessage")[0].response
    bot.wait_final(parent["channel"], parent["ts"])
    assert len(fake.calls("chat.postMessage")) == 1
    assert len(bot.runtime.deps.recent_batches(U1, 10)) == 1


def test_the_bot_joins_a_public_channel_it_is_not_in(bot: SlackHarness, fake: FakeSlack) -> None:
    fake.add_channel("C0OTHER", name="other", bot_member=False)
    final = bot.edr("548021", channel="C0OTHER")
    assert final["channel"] == "C0OTHER" and "1 PDF in the thread" in final["text"]
    assert [c.params["channel"] for c in fake.calls("conversations.join")] == ["C0OTHER"]
    assert len(fake.files_in_thread("C0OTHER", final["ts"])) == 2


def test_a_private_channel_it_is_not_in_gets_the_pdfs_by_dm_and_an_invite_hint(
        bot: SlackHarness, fake: FakeSlack) -> None:
    fake.add_channel("G0PRIV", name="private", private=True, bot_member=False)
    final = bot.edr("548021", channel="G0PRIV")
    assert final["channel"] == fake.dm_channel("U1") and "1 PDF in the thread" in final["text"]
    assert len(fake.files_in_thread(final["channel"], final["ts"])) == 2
    hint = fake.wait_for("respond")[-1].params
    assert hint.get("response_type", "ephemeral") == "ephemeral"
    assert "/invite" in hint["text"] and "<#G0PRIV>" in hint["text"]
    assert fake.messages("G0PRIV") == []


def test_share_to_channel_posts_the_file_links_there(bot: SlackHarness, fake: FakeSlack) -> None:
    fake.add_channel("C0MANAGERS", name="managers", bot_member=False)
    final = bot.edr("548021 548104")
    button = next(e for b in final["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == blocks.SHARE_BATCH)
    bot.action(blocks.SHARE_BATCH, button["value"], channel_id=final["channel"],
               message_ts=final["ts"])
    view_id = fake.wait_for("views.open")[-1].response["view"]["id"]
    assert fake.view(view_id).callback_id == blocks.SHARE_VIEW

    ack = bot.submit(view_id, {"channel": {"channel_input": {}}})
    assert ack.json()["response_action"] == "errors"
    ack = bot.submit(view_id, {"channel": {"channel_input": {
        "type": "conversations_select", "selected_conversation": "C0MANAGERS"}}})
    assert ack.status_code == 200 and not ack.text and fake.view(view_id).closed
    fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == "C0MANAGERS")
    shared = fake.messages("C0MANAGERS")[-1]
    files = fake.files_in_thread(final["channel"], final["ts"])
    text = str(shared.blocks)
    assert "shared by <@U1>" in text and "original thread" in text
    for file in files:
        assert file.title in text
    assert "<|" not in text  # a file without a permalink is named, never an empty link



def test_an_upload_slack_refuses_goes_to_the_users_dm(bot: SlackHarness, fake: FakeSlack) -> None:
    fake.fail_next("files.completeUploadExternal", error="restricted_action")
    final = bot.edr("548021")
    assert final["channel"] == "C0PUBLIC"
    assert "refused the upload here (restricted_action)" in blocks_text(final)
    dm = fake.dm_channel("U1")
    assert dm is not None
    [dm_parent] = [m for m in fake.messages(dm) if m.thread_ts is None]
    assert "1 PDF in the thread" in (dm_parent.text or "")
    assert len(fake.files_in_thread(dm, dm_parent.ts)) == 2
    assert fake.files_in_thread("C0PUBLIC", final["ts"]) == []


def test_a_failure_in_background_work_reaches_the_user(bot: SlackHarness, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", error="fatal_error")
    assert bot.command("edr 548021").status_code == 200
    reply = fake.wait_for("respond")[-1].params
    assert "Something went wrong on our side" in reply["text"]
    assert "Error id `" in str(reply["blocks"])
    [batch] = bot.runtime.deps.recent_batches(U1, 5)
    assert batch.status == "failed"

