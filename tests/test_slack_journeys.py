"""Journeys through the real Bolt app over HTTP, the fake Slack API and the Retail Link sandbox."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.fake_slack import FakeSlack
from tests.slack_harness import SlackHarness


def test_help_is_ephemeral_and_lists_the_commands(bot: SlackHarness) -> None:
    response = bot.command("help")
    assert response.status_code == 200
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    text = str(body["blocks"])
    for usage in ("/walmart login", "/walmart edr 2024-10-05 core", "/walmart status",
                  "/walmart logout"):
        assert usage in text


def test_edr_before_login_offers_a_sign_in_button(bot: SlackHarness) -> None:
    body = bot.command("edr 2024-10-05 core").json()
    assert "Sign in" in str(body["blocks"])
    assert bot.fake.calls("chat.postMessage") == []


def test_login_then_edr_by_date_puts_the_pdfs_in_the_thread(bot: SlackHarness,
                                                             fake: FakeSlack) -> None:
    bot.sign_in()
    assert bot.command("edr 2024-10-05 core").status_code == 200
    final = fake.wait_for("chat.update", timeout=20,
                          predicate=lambda c: "PDFs in the thread" in str(c.params.get("text")))
    parent = final[-1].params
    files = fake.files_in_thread(parent["channel"], parent["ts"])
    assert len(files) == 7  # six core events + the combined PDF
    first = next(f for f in files if "547812" in f.filename)
    text = " ".join(PdfReader(io.BytesIO(first.content)).pages[0].extract_text().split())
    assert "547812" in text and "MUST BE SIGNED AND DATED" in text
    assert "EDRs · Sat Oct 5 · Core · store 8135" in parent["text"]
