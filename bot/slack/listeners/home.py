"""App Home: sign-in state, time left, the store, and the last few batches with their threads."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.operations import UserKey
from bot.sessions.service import NoAccount
from bot.slack import blocks
from bot.slack.app import SlackDeps, who

log = logging.getLogger(__name__)
RECENT_BATCHES = 5


def publish(deps: SlackDeps, client: WebClient, user: UserKey) -> None:
    """Refresh the user's Home tab; cosmetic, so a Slack refusal is logged, not raised."""
    status = deps.ops.status(user)
    store, source = deps.store_for(user, None)
    try:
        account = deps.ops.account(user)
        label: str | None = account.username + (" (team account)" if account.is_default else "")
    except NoAccount:
        label = None
    recent = [
        blocks.RecentBatch(r.label, r.status, r.files_ok, r.files_failed,
                           deps.poster.permalink(r.channel_id, r.thread_ts)
                           if r.thread_ts else None)
        for r in deps.recent_batches(user, RECENT_BATCHES)
    ]
    view = blocks.home_view(status.time_left is not None, status.time_left, store, source, label,
                            recent, deps.idle_minutes)
    try:
        client.views_publish(user_id=user.user_id, view=view)
    except SlackApiError as exc:
        log.warning("App Home not published: %s", exc.response.get("error"))


def register(app: App, deps: SlackDeps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("tab") == "home":
            publish(deps, client, who(context))

