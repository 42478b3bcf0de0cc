"""Signing in and out: the SMS-code modal, the account modal, status, store and session buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.operations import UserKey
from bot.retail_link.errors import AccountLocked, RetailLinkError, WrongCode
from bot.sessions.service import AlreadySignedIn, NoAccount, NotSignedIn, SessionStoreError
from bot.slack import blocks
from bot.slack.app import SlackDeps, who
from bot.slack.commands import Scope
from bot.slack.listeners import home

log = logging.getLogger(__name__)
CODE = re.compile(r"^\d{6}$")
CREDENTIAL_ID = re.compile(r"^\d{4,20}$")


def open_login(deps: SlackDeps, client: WebClient, user: UserKey, trigger_id: str,
               respond: Respond | None = None) -> None:
    """Open the modal at once (the trigger id dies in ~3 s), then talk to Walmart behind it."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=blocks.login_view("sending"))
    except SlackApiError as exc:  # expired_trigger_id when Slack or we were slow
        log.warning("sign-in modal not opened: %s", exc.response.get("error"))
        if respond is not None:
            respond(**blocks.error_message("Slack took too long to open the sign-in window. "
                                           "Run `/walmart login` again."))
        return
    view_id = opened["view"]["id"]

    def failed(text: str, error_id: str | None = None) -> None:
        note = f"{text} (error id {error_id})" if error_id else text
        client.views_update(view_id=view_id, view=blocks.login_view("failed", note=note))

    def send_code() -> None:
        try:
            account = deps.ops.start_sign_in(user)
        except AlreadySignedIn:
            left = deps.ops.status(user).time_left
            minutes = int(left.total_seconds() // 60) if left else deps.idle_minutes
            client.views_update(view_id=view_id, view=blocks.login_view(
                "signed_in", minutes=deps.idle_minutes,
                note=f"Already signed in ({minutes} min left)."))
            return
        except NoAccount as exc:
            failed(f"{exc} Save your own login with `/walmart account`.")
            return
        except (RetailLinkError, SessionStoreError) as exc:
            failed(str(exc))
            return
        client.views_update(view_id=view_id,
                            view=blocks.login_view("code", username=account.username))

    deps.jobs.submit(send_code, on_error=failed)


def status(deps: SlackDeps, user: UserKey, channel_id: str | None) -> blocks.Message:
    current = deps.ops.status(user)
    store, source = deps.store_for(user, channel_id)
    try:
        account = deps.ops.account(user)
        label = f"{account.username}{' (team account)' if account.is_default else ''}"
    except NoAccount:
        label = None
    ended = blocks.END_REASONS.get(current.end_reason or "", "").format(idle=deps.idle_minutes)
    return blocks.status_message(current.time_left is not None, current.time_left, store, source,
                                 label, ended or None)


def set_store(deps: SlackDeps, user: UserKey, channel_id: str | None, store: int | None,
              scope: Scope) -> blocks.Message:
    if scope == "channel" and not channel_id:
        return blocks.error_message("Run this in the channel whose store you want to set.")
    deps.set_store(user, channel_id, store, scope)
    whose = "This channel's" if scope == "channel" else "Your"
    if store is None:
        return blocks.ok_message(f"{whose} store preference is cleared.")
    return blocks.ok_message(f"{whose} store is now *{store}*.")


def register(app: App, deps: SlackDeps) -> None:
    @app.view(blocks.LOGIN_VIEW)
    def submit_code(ack: Ack, body: dict[str, Any], context: BoltContext,
                    client: WebClient) -> None:
        values = body["view"]["state"]["values"]
        raw = values.get(blocks.CODE_BLOCK, {}).get(blocks.CODE_ACTION, {}).get("value") or ""
        code = re.sub(r"[\s-]", "", raw)
        if not CODE.match(code):
            # Checked in the ack: a mistyped code never reaches Walmart or costs an attempt.
            ack(response_action="errors",
                errors={blocks.CODE_BLOCK: "The code is the 6 digits Walmart texted, e.g. 482913."})
            return
        ack(response_action="update", view=blocks.login_view("verifying"))
        user, view_id = who(context), body["view"]["id"]

        def show(view: dict[str, Any]) -> None:
            client.views_update(view_id=view_id, view=view)

        def verify() -> None:
            try:
                deps.ops.finish_sign_in(user, code)
            except WrongCode as exc:
                show(blocks.login_view("code", note=str(exc)))
                return
            except AccountLocked as exc:
                show(blocks.login_view("failed", note=str(exc)))
                deps.notifier.session_ended(user.user_id, "locked")
                return
            except (RetailLinkError, SessionStoreError) as exc:
                show(blocks.login_view("failed", note=str(exc)))
                return
            show(blocks.login_view("signed_in", minutes=deps.idle_minutes))
            home.publish(deps, client, user)

        deps.jobs.submit(verify, on_error=lambda text, error_id: show(
            blocks.login_view("failed", note=f"{text} (error id {error_id})")))

    @app.action(blocks.SIGN_IN)
    def sign_in_button(ack: Ack, body: dict[str, Any], context: BoltContext,
                       client: WebClient, respond: Respond) -> None:
        ack()
        open_login(deps, client, who(context), body["trigger_id"],
                   respond if body.get("response_url") else None)

    @app.action(blocks.SIGN_OUT)
    def sign_out_button(ack: Ack, body: dict[str, Any], context: BoltContext,
                        client: WebClient, respond: Respond) -> None:
        ack()
        user = who(context)
        deps.ops.sign_out(user)
        if body.get("response_url"):
            respond(replace_original=False, **blocks.ok_message("Signed out of Retail Link."))
        home.publish(deps, client, user)

    @app.action(blocks.STAY_SIGNED_IN)
    def stay_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient,
                    respond: Respond) -> None:
        ack()
        user = who(context)
        try:
            left = deps.ops.stay_signed_in(user)
            # Rounded: read just after the slide, 599.9 s is the full 10 minutes, not 9.
            reply = blocks.ok_message(f"Still signed in — {round(left.total_seconds() / 60)} min "
                                      "left.")
        except NotSignedIn as exc:
            reply = blocks.sign_in_needed(str(exc))
        if body.get("response_url"):
            respond(replace_original=True, **reply)
        home.publish(deps, client, user)

    @app.action(blocks.SAVE_ACCOUNT)
    def account_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=blocks.account_view())

    @app.view(blocks.ACCOUNT_VIEW)
    def save_account(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        values = body["view"]["state"]["values"]

        def value(block: str) -> str:
            return (values.get(block, {}).get(block, {}).get("value") or "").strip()

        username, password, credid = value("username"), value("password"), value("credid")
        errors = {}
        if not username:
            errors["username"] = "Enter your Retail Link user name."
        if not password:
            errors["password"] = "Enter your Retail Link password."
        if not CREDENTIAL_ID.match(credid):
            errors["credid"] = "The MFA credential id is a number, usually 10–12 digits."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        deps.ops.save_account(who(context), username, password, credid)
        ack(response_action="update", view={
            "type": "modal", "title": {"type": "plain_text", "text": "Saved"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": [blocks.section(f":white_check_mark: Saved, encrypted. You will sign in "
                                      f"as *{blocks.escape(username)}*; run `/walmart login`.")],
        })
