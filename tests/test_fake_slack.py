"""The fake Slack Web API's own tests, through the real slack_sdk clients and a real Bolt app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fake_slack import FakeSlack, ManualClock
from tests.slack_requests import (
    app_home_opened_event,
    block_action_body,
    event_body,
    signed_headers,
    signed_request,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
BUTTON = {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as server:
        yield server


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Sign in", **extra: object) -> dict:
    return {"type": "modal", "callback_id": "login", "title": {"type": "plain_text", "text": title},
            "close": {"type": "plain_text", "text": "Cancel"}, "blocks": [section("Sending code…")], **extra}


def code_input() -> dict:
    return {"type": "input", "block_id": "code", "label": {"type": "plain_text", "text": "Code"},
            "element": {"type": "plain_text_input", "action_id": "value"}}


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()  # type: ignore[operator]
    return raised.value.response["error"]


# --- chat ---------------------------------------------------------------------------------------


def test_post_update_and_ephemeral_are_kept_as_current_state(fake: FakeSlack) -> None:
    client = fake.client()
    first = client.chat_postMessage(channel="C0PUBLIC", text="EDR 2024-10-05: fetching…")
    second = client.chat_postMessage(channel="C0PUBLIC", text="reply", thread_ts=first["ts"])
    client.chat_update(channel="C0PUBLIC", ts=first["ts"], text="EDR 2024-10-05 ✅ 3 PDFs in thread")
    client.chat_postEphemeral(channel="C0PUBLIC", user="U1", text="only you")

    assert float(second["ts"]) > float(first["ts"])
    messages = fake.messages("C0PUBLIC")
    assert [m.text for m in messages] == ["EDR 2024-10-05 ✅ 3 PDFs in thread", "reply"]
    assert messages[0].versions[0][0] == "EDR 2024-10-05: fetching…"
    assert fake.thread("C0PUBLIC", first["ts"])[0].text == "reply"
    assert [(e.user, e.text) for e in fake.ephemerals("C0PUBLIC")] == [("U1", "only you")]
    assert error_of(lambda: client.chat_update(channel="C0PUBLIC", ts="1.000000", text="x")) \
        == "message_not_found"


def test_update_keeps_blocks_unless_given_and_delete_removes(fake: FakeSlack) -> None:
    client = fake.client()
    posted = client.chat_postMessage(channel="C0PUBLIC", text="t", blocks=[section("with blocks")])
    client.chat_update(channel="C0PUBLIC", ts=posted["ts"], text="new text")
    assert fake.message("C0PUBLIC", posted["ts"]).blocks == [section("with blocks")]
    link = client.chat_getPermalink(channel="C0PUBLIC", message_ts=posted["ts"])["permalink"]
    assert link.endswith("/C0PUBLIC/p" + posted["ts"].replace(".", ""))
    client.chat_delete(channel="C0PUBLIC", ts=posted["ts"])
    assert fake.messages("C0PUBLIC") == []


def test_message_without_text_or_blocks_is_refused(fake: FakeSlack) -> None:
    empty = {"channel": "C0PUBLIC"}
    assert error_of(lambda: fake.client().api_call("chat.postMessage", json=empty)) == "no_text"


def test_posting_to_a_user_id_lands_in_the_same_dm_as_conversations_open(fake: FakeSlack) -> None:
    client = fake.client()
    posted = client.chat_postMessage(channel="U7", text="You were signed out after 10 minutes idle.")
    opened = client.conversations_open(users="U7")

    assert posted["channel"].startswith("D")
    assert opened["channel"]["id"] == posted["channel"] == fake.dm_channel("U7")
    client.chat_postMessage(channel=opened["channel"]["id"], text="second")
    assert [m.text for m in fake.messages("U7")] == ["You were signed out after 10 minutes idle.", "second"]
    assert fake.dm_channel("U8") is None


def test_form_encoded_calls_have_json_arguments_decoded(fake: FakeSlack) -> None:
    response = fake.client().api_call("chat.postMessage", params={
        "channel": "C0PUBLIC", "text": "t", "blocks": json.dumps([section("form")])})
    assert response["ok"]
    assert fake.calls("chat.postMessage")[0].params["blocks"] == [section("form")]


def test_concurrent_posts_get_unique_increasing_ts(fake: FakeSlack) -> None:
    client = fake.client()
    results: list[str] = []

    def post(n: int) -> None:
        for i in range(5):
            results.append(client.chat_postMessage(channel="C0PUBLIC", text=f"{n}-{i}")["ts"])

    threads = [threading.Thread(target=post, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 50
    assert [m.ts for m in fake.messages("C0PUBLIC")] == sorted(results, key=float)


# --- auth and faults ----------------------------------------------------------------------------


def test_missing_or_foreign_token_is_refused(fake: FakeSlack) -> None:
    assert error_of(lambda: fake.client(token=None).auth_test()) == "not_authed"
    assert error_of(lambda: fake.client(token="xapp-1-nope").auth_test()) == "invalid_auth"
    assert fake.client().auth_test()["user_id"] == "U0BOT"


def test_rate_limited_call_is_retried_by_the_retry_handler(fake: FakeSlack) -> None:
    fake.rate_limit_next("chat.postMessage", 1, retry_after=0)
    client = fake.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    assert client.chat_postMessage(channel="C0PUBLIC", text="hello")["ok"]
    statuses = [c.status for c in fake.calls("chat.postMessage")]
    assert statuses == [429, 200]
    assert len(fake.messages("C0PUBLIC")) == 1


def test_rate_limit_without_retry_handler_surfaces_with_retry_after(fake: FakeSlack) -> None:
    fake.rate_limit_next("views.publish", 1, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        fake.client().views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


def test_fail_next_answers_the_error_then_recovers(fake: FakeSlack) -> None:
    fake.fail_next("chat.update", 2, error="fatal_error")
    client = fake.client()
    ts = client.chat_postMessage(channel="C0PUBLIC", text="t")["ts"]
    assert error_of(lambda: client.chat_update(channel="C0PUBLIC", ts=ts, text="a")) == "fatal_error"
    assert error_of(lambda: client.chat_update(channel="C0PUBLIC", ts=ts, text="a")) == "fatal_error"
    assert client.chat_update(channel="C0PUBLIC", ts=ts, text="a")["ok"]


def test_unknown_methods_answer_ok_and_are_recorded(fake: FakeSlack) -> None:
    assert fake.client().reactions_add(channel="C0PUBLIC", name="white_check_mark", timestamp="1.0")["ok"]
    assert fake.calls("reactions.add")[0].params["name"] == "white_check_mark"
    assert requests.post(f"{fake.url}/elsewhere", timeout=5).status_code == 404
    assert fake.calls("POST /elsewhere")[0].status == 404


# --- files --------------------------------------------------------------------------------------


def test_files_upload_v2_puts_every_file_in_the_thread_with_its_bytes(fake: FakeSlack) -> None:
    client = fake.client()
    parent = client.chat_postMessage(channel="C0PUBLIC", text="EDR 2024-10-05 core — 3 reports")
    pdfs = [(f"edr-{n}.pdf", f"%PDF-1.4 report {n}".encode()) for n in (1, 2, 3)]

    completion = client.files_upload_v2(
        channel="C0PUBLIC", thread_ts=parent["ts"],
        file_uploads=[{"content": data, "filename": name, "title": f"EDR {name}"} for name, data in pdfs])

    files = fake.files_in_thread("C0PUBLIC", parent["ts"])
    assert [(f.filename, f.title, f.content) for f in files] == [
        (name, f"EDR {name}", data) for name, data in pdfs]
    assert completion["files"][0]["shares"] == {}  # the share is asynchronous in real Slack (§2.3)
    info = client.files_info(file=files[0].id)["file"]
    assert info["shares"]["public"]["C0PUBLIC"][0]["thread_ts"] == parent["ts"]
    assert len(fake.calls("upload")) == 3


def test_multipart_uploads_and_multipart_calls_are_decoded(fake: FakeSlack) -> None:
    client = fake.client()
    ticket = client.files_getUploadURLExternal(filename="a.pdf", length=4)
    uploaded = requests.post(ticket["upload_url"], files={"file": ("a.pdf", b"%PDF")}, timeout=5)
    assert uploaded.status_code == 200
    assert fake.file(ticket["file_id"]).content == b"%PDF"
    auth = {"Authorization": f"Bearer {fake.token}"}
    posted = requests.post(f"{fake.api_url}chat.postMessage", headers=auth,
                           files={"channel": (None, "C0PUBLIC"), "text": (None, "multipart")}, timeout=5)
    assert posted.json()["ok"]
    assert fake.messages("C0PUBLIC")[0].text == "multipart"


def test_more_than_ten_files_in_one_completion_fail(fake: FakeSlack) -> None:
    uploads = [{"content": b"x", "filename": f"{n}.pdf"} for n in range(11)]
    assert error_of(lambda: fake.client().files_upload_v2(channel="C0PUBLIC", file_uploads=uploads)) \
        == "internal_error"


def test_uploads_need_membership_which_joining_a_public_channel_gives(fake: FakeSlack) -> None:
    fake.add_channel("C0OTHER", bot_member=False)
    client = fake.client()

    def upload() -> object:
        return client.files_upload_v2(channel="C0OTHER", content=b"pdf", filename="a.pdf")

    assert error_of(upload) == "not_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel="C0OTHER", text="t")) == "not_in_channel"
    assert client.conversations_join(channel="C0OTHER")["channel"]["is_member"]
    assert upload()["ok"]
    assert fake.messages("C0OTHER")[0].files


def test_private_channel_without_the_bot_is_not_found_and_cannot_be_joined(fake: FakeSlack) -> None:
    fake.add_channel("G0PRIVATE", private=True, bot_member=False)
    client = fake.client()
    assert error_of(lambda: client.files_upload_v2(channel="G0PRIVATE", content=b"x", filename="a")) \
        == "channel_not_found"
    assert error_of(lambda: client.conversations_join(channel="G0PRIVATE")) \
        == "method_not_supported_for_channel_type"
    assert error_of(lambda: client.conversations_info(channel="G0PRIVATE")) == "channel_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C0NOSUCH", text="t")) == "channel_not_found"


def test_chat_write_public_reaches_unjoined_public_channels_but_files_still_do_not() -> None:
    with FakeSlack(chat_write_public=True) as fake:
        fake.add_channel("C0OTHER", bot_member=False)
        client = fake.client()
        assert client.chat_postMessage(channel="C0OTHER", text="t")["ok"]
        assert error_of(lambda: client.files_upload_v2(channel="C0OTHER", content=b"x", filename="a")) \
            == "not_in_channel"


def test_uploads_into_an_opened_dm_are_allowed(fake: FakeSlack) -> None:
    client = fake.client()
    dm = client.conversations_open(users="U1")["channel"]["id"]
    assert client.files_upload_v2(channel=dm, content=b"x", filename="a.pdf")["ok"]


# --- trigger_id and views -----------------------------------------------------------------------


def test_trigger_id_is_single_use(fake: FakeSlack) -> None:
    client = fake.client()
    trigger = fake.new_trigger_id("U1")
    opened = client.views_open(trigger_id=trigger, view=modal())
    assert fake.view(opened["view"]["id"]).user_id == "U1"
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"


def test_trigger_id_expires_after_three_seconds(fake: FakeSlack, clock: ManualClock) -> None:
    client = fake.client()
    in_time, late = fake.new_trigger_id(), fake.new_trigger_id()
    clock.advance(2.9)
    assert client.views_open(trigger_id=in_time, view=modal())["ok"]
    clock.advance(0.2)
    assert error_of(lambda: client.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=modal())) == "invalid_trigger_id"


def test_views_update_by_view_id_replaces_the_content(fake: FakeSlack) -> None:
    client = fake.client()
    opened = client.views_open(trigger_id=fake.new_trigger_id(), view=modal())["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"],
                                  view=modal(submit={"type": "plain_text", "text": "Verify"},
                                             blocks=[section("Code sent to ***1234"), code_input()]))

    view = fake.view(opened["id"])
    assert updated["view"]["id"] == opened["id"]
    assert view.blocks[0]["text"]["text"] == "Code sent to ***1234"
    assert len(view.versions) == 2
    assert error_of(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())) \
        == "hash_conflict"
    both = {"view_id": opened["id"], "external_id": "x", "view": modal()}  # the SDK itself sends only one
    assert error_of(lambda: client.api_call("views.update", json=both)) == "invalid_arguments"
    assert error_of(lambda: client.views_update(view_id="V404", view=modal())) == "not_found"


def test_views_update_by_external_id(fake: FakeSlack) -> None:
    client = fake.client()
    opened = client.views_open(trigger_id=fake.new_trigger_id(), view=modal(external_id="login-42"))["view"]
    client.views_update(external_id="login-42", view=modal(title="Verifying…"))
    assert fake.view(opened["id"]).title == "Verifying…"
    dup = fake.new_trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=dup, view=modal(external_id="login-42"))) \
        == "duplicate_external_id"


def test_views_push_stops_at_three_views(fake: FakeSlack) -> None:
    client = fake.client()
    root = client.views_open(trigger_id=fake.new_trigger_id(), view=modal())["view"]
    second = client.views_push(trigger_id=fake.new_trigger_id(view_id=root["id"]), view=modal())["view"]
    client.views_push(trigger_id=fake.new_trigger_id(view_id=second["id"]), view=modal())
    trigger = fake.new_trigger_id(view_id=root["id"])
    assert error_of(lambda: client.views_push(trigger_id=trigger, view=modal())) == "push_limit_reached"


def test_views_publish_keeps_one_home_per_user(fake: FakeSlack) -> None:
    client = fake.client()
    first = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("Signed out")]})
    client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("Signed in, 9 min left")]})

    home = fake.home("U1")
    assert home is not None and home.id == first["view"]["id"]
    assert home.blocks == [section("Signed in, 9 min left")]
    assert fake.home("U2") is None
    assert error_of(lambda: client.views_publish(user_id="U1", view=modal())) == "invalid_arguments"


def test_view_acks_close_update_or_mark_errors_like_slack(fake: FakeSlack) -> None:
    client = fake.client()
    form = modal(submit={"type": "plain_text", "text": "Verify"}, blocks=[code_input()])
    view_id = client.views_open(trigger_id=fake.new_trigger_id(), view=form)["view"]["id"]

    assert fake.apply_view_ack(view_id, json.dumps(
        {"response_action": "errors", "errors": {"code": "Wrong code"}})).errors == {"code": "Wrong code"}
    shown = fake.apply_view_ack(view_id, {"response_action": "update", "view": modal(title="Verifying…")})
    assert shown is not None and shown.title == "Verifying…"
    assert fake.apply_view_ack(view_id, "") is None
    assert fake.open_views() == []
    assert error_of(lambda: client.views_update(view_id=view_id, view=modal())) == "not_found"
    fake.assert_no_block_kit_errors()


def test_view_ack_errors_for_a_non_input_block_are_refused(fake: FakeSlack) -> None:
    view_id = fake.client().views_open(trigger_id=fake.new_trigger_id(), view=modal())["view"]["id"]
    fake.apply_view_ack(view_id, {"response_action": "errors", "errors": {"nope": "x"}})
    assert [e.rule for e in fake.block_kit_errors] == ["errors.keys_are_input_block_ids"]


# --- Block Kit limits ---------------------------------------------------------------------------


def test_a_message_with_51_blocks_is_refused_naming_the_limit(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        fake.client().chat_postMessage(channel="C0PUBLIC", text="t", blocks=[section("x")] * 51)
    assert raised.value.response["error"] == "invalid_blocks"
    assert "no more than 50 blocks" in raised.value.response["errors"][0]
    assert [e.rule for e in fake.block_kit_errors] == ["message.blocks<=50"]
    assert fake.messages("C0PUBLIC") == []


def test_a_3001_character_section_is_refused(fake: FakeSlack) -> None:
    assert error_of(lambda: fake.client().chat_postMessage(
        channel="C0PUBLIC", text="t", blocks=[section("x" * 3001)])) == "invalid_blocks"
    assert fake.block_kit_errors[0].pointer == "/blocks/0/text/text"
    fake.client().chat_postMessage(channel="C0PUBLIC", text="t", blocks=[section("x" * 3000)])


def test_a_25_character_modal_title_is_refused_and_the_trigger_kept(fake: FakeSlack) -> None:
    client = fake.client()
    trigger = fake.new_trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=modal(title="x" * 25))) \
        == "invalid_arguments"
    assert fake.block_kit_errors[0].rule == "modal.title<=24"
    assert client.views_open(trigger_id=trigger, view=modal(title="x" * 24))["ok"]


def test_a_valid_login_modal_is_accepted(fake: FakeSlack) -> None:
    form = modal(submit={"type": "plain_text", "text": "Verify"}, private_metadata="C0PUBLIC|attempt-7",
                 blocks=[{"type": "header", "text": {"type": "plain_text", "text": "Retail Link sign-in"}},
                         section("Code sent to ***1234"), code_input(),
                         {"type": "context", "elements": [{"type": "mrkdwn", "text": "Expires in 5 min"}]},
                         {"type": "actions", "elements": [{**BUTTON, "action_id": "resend"}]}])
    assert fake.client().views_open(trigger_id=fake.new_trigger_id(), view=form)["ok"]
    fake.assert_no_block_kit_errors()


@pytest.mark.parametrize(("blocks", "rule"), [
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "header.text<=150"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}], "header.text.plain_text"),
    ([{"type": "actions", "elements": [{**BUTTON, "text": {"type": "plain_text", "text": "b" * 76}}]}],
     "button.text<=75"),
    ([{"type": "actions", "elements": [{**BUTTON, "action_id": f"a{n}"} for n in range(26)]}],
     "actions.elements<=25"),
    ([{"type": "actions", "elements": [{**BUTTON, "action_id": "a" * 256}]}], "action_id<=255"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "context.elements<=10"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "section.fields<=10"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "section.field<=2000"),
    ([{**section("a"), "block_id": "b" * 256}], "block_id<=255"),
    ([{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}], "block_id.unique"),
    ([section("")], "section.text<=3000"),
    ([code_input()], "input.surface"),
    ([{"type": "table_of_contents"}], "block.type"),
])
def test_message_block_kit_violations_are_refused(fake: FakeSlack, blocks: list, rule: str) -> None:
    assert error_of(lambda: fake.client().chat_postMessage(channel="C0PUBLIC", text="t", blocks=blocks)) \
        == "invalid_blocks"
    assert rule in [e.rule for e in fake.block_kit_errors]


@pytest.mark.parametrize(("view", "rule"), [
    (modal(blocks=[code_input()]), "modal.submit_required_with_input"),
    (modal(private_metadata="m" * 3001), "view.private_metadata<=3000"),
    (modal(callback_id="c" * 256), "view.callback_id<=255"),
    (modal(submit={"type": "plain_text", "text": "s" * 25}), "modal.submit<=24"),
    (modal(title=None), "modal.title<=24"),
    (modal(blocks=[section("x")] * 101), "modal.blocks<=100"),
])
def test_view_block_kit_violations_are_refused(fake: FakeSlack, view: dict, rule: str) -> None:
    assert error_of(lambda: fake.client().views_open(trigger_id=fake.new_trigger_id(), view=view)) \
        == "invalid_arguments"
    assert rule in [e.rule for e in fake.block_kit_errors]


def test_home_tabs_take_100_blocks_and_input_blocks(fake: FakeSlack) -> None:
    home = {"type": "home", "blocks": [section(str(n)) for n in range(99)] + [code_input()]}
    assert fake.client().views_publish(user_id="U1", view=home)["ok"]


def test_oversized_views_and_texts_get_their_own_errors(fake: FakeSlack) -> None:
    client = fake.client()
    huge = modal(blocks=[section("x" * 3000) for _ in range(90)])
    trigger = fake.new_trigger_id()
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=huge)) == "view_too_large"
    assert error_of(lambda: client.chat_postMessage(channel="C0PUBLIC", text="x" * 40_001)) == "msg_too_long"


# --- response_url -------------------------------------------------------------------------------


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    url = fake.response_url(user_id="U1", channel_id="C0PUBLIC")
    webhook = WebhookClient(url)

    sent = webhook.send(text="Fetching 3 reports…")
    webhook.send(text="done", blocks=[section("✅ 3 PDFs")], replace_original=True)

    assert (sent.status_code, sent.body) == (200, "ok")
    responses = fake.responses(url)
    assert [(r.response_type, r.text, r.replace_original) for r in responses] == [
        ("ephemeral", "Fetching 3 reports…", False), ("ephemeral", "done", True)]
    assert responses[1].blocks == [section("✅ 3 PDFs")]
    assert fake.responses(user_id="U1") == responses


def test_response_url_refuses_bad_blocks_and_a_sixth_use(fake: FakeSlack) -> None:
    webhook = WebhookClient(fake.response_url())
    assert webhook.send(text="t", blocks=[section("x")] * 51).status_code == 400
    for n in range(5):
        assert webhook.send(text=str(n)).status_code == 200
    assert webhook.send(text="six").status_code == 404
    assert len(fake.responses()) == 5
    assert [e.method for e in fake.block_kit_errors] == ["respond"]


def test_response_url_expires_after_30_minutes(fake: FakeSlack, clock: ManualClock) -> None:
    url = fake.response_url()
    clock.advance(30 * 60 + 1)
    assert WebhookClient(url).send(text="late").status_code == 404


# --- waiting and signing ------------------------------------------------------------------------


def test_wait_for_sees_calls_made_from_another_thread(fake: FakeSlack) -> None:
    client = fake.client()
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="U1", text="bye"))
    timer.start()
    calls = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["text"] == "bye", timeout=2)
    timer.join()
    assert calls[0].response["channel"] == fake.dm_channel("U1")


def test_wait_for_times_out_with_what_was_received(fake: FakeSlack) -> None:
    fake.client().chat_postMessage(channel="C0PUBLIC", text="hello")
    started = time.monotonic()
    with pytest.raises(AssertionError) as raised:
        fake.wait_for("chat.update", count=1, timeout=0.2)
    assert time.monotonic() - started < 1.0
    message = str(raised.value)
    assert "expected 1 chat.update call(s) within 0.2s, got 0" in message
    assert "chat.postMessage -> ok" in message and "hello" in message


def test_signed_body_verifies_with_the_sdk_verifier() -> None:
    body = slash_command_body("status", trigger_id="t", response_url="http://x/respond/R1")
    headers = signed_headers(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["x-slack-request-timestamp"], headers["x-slack-signature"])
    stale = signed_headers(body, SECRET, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid(body, stale["x-slack-request-timestamp"], stale["x-slack-signature"])
    assert not SignatureVerifier("other").is_valid(
        body, headers["x-slack-request-timestamp"], headers["x-slack-signature"])


# --- the body builders route through a real Bolt app --------------------------------------------


def test_request_builders_route_through_bolt_to_the_fake(fake: FakeSlack) -> None:
    app = App(client=fake.client(), signing_secret=SECRET)
    seen: list[str] = []

    @app.command("/walmart")
    def command(ack, body, client, respond) -> None:  # Bolt passes arguments by name
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal(
            submit={"type": "plain_text", "text": "Verify"}, blocks=[code_input()]))
        respond("Opening sign-in…")

    @app.action("resend")
    def resend(ack, body) -> None:
        ack()
        seen.append(f"action:{body['view']['id']}")

    @app.view("login")
    def submit(ack, view) -> None:
        seen.append("code=" + view["state"]["values"]["code"]["value"]["value"])
        ack(response_action="update", view=modal(title="Verifying…"))

    @app.event("app_home_opened")
    def home(event, client) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("Hi")]})

    url = fake.response_url(user_id="U1")
    response = app.dispatch(signed_request(slash_command_body(
        "login", trigger_id=fake.new_trigger_id("U1"), response_url=url), SECRET))
    assert response.status == 200
    view_id = fake.wait_for("views.open")[0].response["view"]["id"]
    fake.wait_for("respond")
    assert fake.responses(url)[0].text == "Opening sign-in…"

    view = fake.view(view_id).as_api()
    clicked = app.dispatch(signed_request(block_action_body("resend", "1", "U1", view=view), SECRET))
    assert clicked.status == 200
    ack = app.dispatch(signed_request(view_submission_body(
        "login", {"code": {"value": "123456"}}, "U1", view_id, view=view), SECRET))
    assert ack.status == 200
    assert fake.apply_view_ack(view_id, ack.body).title == "Verifying…"  # type: ignore[union-attr]
    assert app.dispatch(signed_request(event_body(app_home_opened_event("U1")), SECRET)).status == 200
    fake.wait_for("views.publish")
    assert seen == [f"action:{view_id}", "code=123456"]
    assert fake.home("U1") is not None
    fake.assert_no_block_kit_errors()
