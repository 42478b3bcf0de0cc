"""`/walmart`: parse the text, ack within Slack's 3 seconds, hand long work to the job pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.edr.service import EdrRequest
from bot.slack import blocks, commands
from bot.slack.app import SlackDeps, who
from bot.slack.listeners import edr, sign_in


def register(app: App, deps: SlackDeps) -> None:
    @app.command("/walmart")
    def walmart(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient,
                respond: Respond) -> None:
        command = commands.parse_command(body.get("text") or "", deps.today())
        user = who(context)
        match command:
            case commands.Help(unknown=unknown):
                ack(**blocks.help_message(deps.idle_minutes, unknown))
            case commands.BadInput(message=text):
                ack(**blocks.error_message(text))
            case commands.Login():
                ack()
                sign_in.open_login(deps, client, user, body["trigger_id"], respond)
            case commands.Logout():
                ended = deps.ops.sign_out(user)
                ack(**blocks.ok_message(
                    "Signed out of Retail Link; the saved session is wiped." if ended
                    else "You were not signed in."))
            case commands.Status():
                ack(**sign_in.status(deps, user, context.channel_id))
            case commands.Account(use_default=True):
                deps.ops.use_default_account(user)
                ack(**blocks.ok_message("You now sign in with the team's Retail Link account."))
            case commands.Account():
                ack()
                client.views_open(trigger_id=body["trigger_id"], view=blocks.account_view())
            case commands.ShowStore():
                store, source = deps.store_for(user, context.channel_id)
                ack(**blocks.store_message(store, source))
            case commands.SetStore(store=store, scope=scope):
                ack(**sign_in.set_store(deps, user, context.channel_id, store, scope))
            case commands.Edr(target=target):
                request = edr.prepare(deps, user, context.channel_id, target)
                if not isinstance(request, EdrRequest):
                    ack(**request)  # supervisor, no store, or not signed in
                    return
                ack()
                edr.start(deps, user, context.channel_id or "", request, respond,
                          context.bot_user_id)
