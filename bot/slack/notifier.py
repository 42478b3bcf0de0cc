"""The session sweep's notices as Slack DMs: the session ended, or is about to."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.sessions.notifier import SessionNotice
from bot.sessions.service import Clock
from bot.slack import blocks

log = logging.getLogger(__name__)


def open_dm(client: WebClient, user_id: str) -> str:
    """The bot's DM with a user; a D id is robust where a U id is not (PLATFORM.md §0.14)."""
    return client.conversations_open(users=user_id)["channel"]["id"]


class SlackNotifier:
    """Implements `bot.sessions.notifier.Notifier` by direct message."""

    def __init__(self, client: WebClient, idle_minutes: int, *, clock: Clock | None = None) -> None:
        self.client = client
        self.idle_minutes = idle_minutes
        self.clock = clock or (lambda: datetime.now(UTC))  # the session store's clock, if it has one

    def session_expiring(self, notice: SessionNotice) -> None:
        if notice.team_id.startswith("terminal"):
            return  # terminal sessions have nobody to DM
        left = 60
        if notice.expires_at is not None:
            left = max(0, int((notice.expires_at - self.clock()).total_seconds()))
        self._dm(notice.user_id, blocks.session_expiring(left))

    def session_expired(self, notice: SessionNotice) -> None:
        if notice.team_id.startswith("terminal"):
            return
        self.session_ended(notice.user_id, "expired")

    def session_ended(self, user_id: str, reason: str) -> None:
        """Also used when Walmart ends or locks a session during a request."""
        self._dm(user_id, blocks.session_ended(reason, self.idle_minutes))

    def _dm(self, user_id: str, message: blocks.Message) -> None:
        self.client.chat_postMessage(channel=open_dm(self.client, user_id), **message)
