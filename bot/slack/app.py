"""Builds the Bolt app: one WebClient on SLACK_API_URL, the listeners, retries and allow-lists."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import ConfigError, Settings
from bot.db import session_scope
from bot.edr.service import EdrRequest
from bot.operations import Operations, UserKey
from bot.sessions.preferences import Batch as BatchRecord
from bot.sessions.preferences import BatchFile, BatchRecordService, PreferenceService
from bot.slack.blocks import SharedFile
from bot.slack.jobs import Jobs
from bot.slack.notifier import SlackNotifier
from bot.slack.poster import Placement, Poster

log = logging.getLogger(__name__)

LISTENER_THREADS = 16  # Bolt's default 5 starve acks under a burst (PLATFORM.md §0.2)


@dataclass
class SlackDeps:
    """Everything a listener may call; built once per process. Each storage call below is one
    unit of work, committed here at the boundary."""

    settings: Settings
    ops: Operations
    prefs: PreferenceService
    batches: BatchRecordService
    jobs: Jobs
    poster: Poster
    notifier: SlackNotifier
    today: Callable[[], date] = field(default=date.today)

    @property
    def idle_minutes(self) -> int:
        return max(1, self.settings.SESSION_IDLE_TIMEOUT_SECONDS // 60)

    def _db(self) -> Any:
        return session_scope(self.ops.factory)

    def store_for(self, user: UserKey, channel_id: str | None) -> tuple[int | None, str]:
        """The user's store, else the channel's, else WALMART_STORE_NUMBER."""
        with self._db() as db:
            store, source = self.prefs.resolve_store(db, user.team_id, user.user_id, channel_id,
                                                     self.settings.WALMART_STORE_NUMBER)
        return store, str(source)

    def set_store(self, user: UserKey, channel_id: str | None, store: int | None,
                  scope: str) -> None:
        scope_id = user.user_id if scope == "user" else channel_id or ""
        with self._db() as db:
            if store is None:
                self.prefs.clear_store(db, user.team_id, scope, scope_id)
            else:
                self.prefs.set_store(db, user.team_id, scope, scope_id, store)

    def start_batch(self, user: UserKey, channel_id: str, request: EdrRequest, label: str) -> int:
        with self._db() as db:
            return self.batches.start_batch(
                db, team_id=user.team_id, user_id=user.user_id, channel_id=channel_id,
                label=label, store=request.store, kind=request.kind.value, day=request.day)

    def set_thread(self, batch_id: int, placement: Placement) -> None:
        with self._db() as db:
            self.batches.set_thread(db, batch_id, placement.channel, placement.ts)

    def finish_batch(self, batch_id: int, status: str, files_ok: int, files_failed: int,
                     files: Sequence[SharedFile]) -> None:
        with self._db() as db:
            self.batches.finish_batch(db, batch_id, status, files_ok, files_failed,
                                      [BatchFile(f.title, f.permalink, "") for f in files])

    def recent_batches(self, user: UserKey, limit: int) -> list[BatchRecord]:
        with self._db() as db:
            return self.batches.recent_batches(db, user.team_id, user.user_id, limit)

    def get_batch(self, user: UserKey, batch_id: int) -> BatchRecord | None:
        with self._db() as db:
            return self.batches.get_batch(db, user.team_id, batch_id)


def web_client(settings: Settings) -> WebClient:
    """Every Web API call — Bolt's, uploads, the scheduler's DMs — goes through SLACK_API_URL."""
    if settings.SLACK_BOT_TOKEN is None:
        raise ConfigError("SLACK_BOT_TOKEN: not set (the bot token, xoxb-…)")
    return WebClient(
        token=settings.SLACK_BOT_TOKEN.get_secret_value(), base_url=settings.slack_api_base,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                        RateLimitErrorRetryHandler(max_retry_count=3)],
    )


def who(context: Any) -> UserKey:
    team = context.get("team_id") or context.get("enterprise_id") or "-"
    return UserKey(str(team), str(context.get("user_id")))


def build_app(deps: SlackDeps, client: WebClient, *, socket_mode: bool = False) -> App:
    signing = deps.settings.SLACK_SIGNING_SECRET
    if signing is None and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET: not set (Basic Information → Signing Secret)")
    app = App(
        client=client,
        signing_secret=signing.get_secret_value() if signing else None,
        # Socket Mode has no HTTP signature to check; HTTP mode always verifies (Bolt default).
        request_verification_enabled=not socket_mode,
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="bolt"),
        process_before_response=False,
    )
    app.middleware(_skip_slack_retries)
    app.middleware(_allow_list(deps.settings))

    from bot.slack.listeners import commands, edr, home, sign_in

    commands.register(app, deps)
    sign_in.register(app, deps)
    edr.register(app, deps)
    home.register(app, deps)

    @app.error
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in a listener (%s)", type(error).__name__, exc_info=error)

    return app


def _skip_slack_retries(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    # A retry means our first answer was slow or failed, not that the work did not start:
    # answering it again would start a second batch (PLATFORM.md §7, bolt#1122).
    # Socket Mode mirrors `retry_attempt: 0` of a first delivery into this header too (bolt#1498).
    attempt = (req.headers.get("x-slack-retry-num") or ["0"])[0]
    if attempt.strip() not in ("", "0"):
        return BoltResponse(status=200, body="")
    return next()


def _allow_list(settings: Settings) -> Callable[..., BoltResponse]:
    users, channels = settings.allowed_slack_users, settings.allowed_slack_channels

    def check(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        user, channel = req.context.user_id, req.context.channel_id
        refused = (users and user not in users) or (channels and channel and channel not in channels)
        if not refused:
            return next()
        text = ("walmart-bot is not enabled for you here. Ask your Slack admin to add you "
                "(or this channel) to its allow-list.")
        if req.body.get("command"):
            return BoltResponse(status=200, body=json.dumps(
                {"response_type": "ephemeral", "text": text}),
                headers={"content-type": "application/json"})
        return BoltResponse(status=200, body="")

    return check
