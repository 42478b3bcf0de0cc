"""Posting a batch: the parent message, throttled progress, PDFs into its thread, sharing onward."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import Message, SharedFile
from bot.slack.notifier import open_dm

log = logging.getLogger(__name__)

FILES_PER_UPLOAD = 10  # 15 files in one completeUploadExternal failed; 14 worked (sdk#1653)
UPDATE_INTERVAL_SECONDS = 1.5  # chat.update is Tier 3: ~50/min per workspace
CANNOT_POST = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action",
               "method_not_supported_for_channel_type"}


class CannotPost(Exception):
    """The bot cannot post in that channel (private and not invited, or archived)."""


@dataclass(frozen=True)
class Placement:
    """Where a batch's parent message went; `fallback_dm` when the channel refused the bot."""

    channel: str
    ts: str
    fallback_dm: bool = False


class Poster:
    def __init__(self, client: WebClient, *, update_interval: float = UPDATE_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.update_interval = update_interval
        self.clock = clock

    def post(self, channel_id: str, msg: Message) -> str:
        """chat.postMessage, joining a public channel first when needed. Returns the ts."""
        try:
            return self.client.chat_postMessage(channel=channel_id, **msg)["ts"]
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                if exc.response.get("error") in CANNOT_POST:
                    raise CannotPost(channel_id) from None
                raise
        self.join(channel_id)
        return self.client.chat_postMessage(channel=channel_id, **msg)["ts"]

    def join(self, channel_id: str) -> None:
        # Uploads need membership and chat:write.public does not cover files (PLATFORM.md §2.2),
        # so the bot joins public channels itself; private ones need a human /invite.
        try:
            self.client.conversations_join(channel=channel_id)
        except SlackApiError as exc:
            log.info("cannot join %s: %s", channel_id, exc.response.get("error"))
            raise CannotPost(channel_id) from None

    def post_parent(self, channel_id: str, user_id: str, msg: Message) -> Placement:
        """The batch's parent in the channel, or in the user's DM when the channel refuses."""
        try:
            return Placement(channel_id, self.post(channel_id, msg))
        except CannotPost:
            return self.post_dm(user_id, msg)

    def post_dm(self, user_id: str, msg: Message) -> Placement:
        dm = open_dm(self.client, user_id)
        return Placement(dm, self.client.chat_postMessage(channel=dm, **msg)["ts"], True)

    def update(self, placement: Placement, msg: Message) -> None:
        self.client.chat_update(channel=placement.channel, ts=placement.ts, **msg)

    def throttled(self, placement: Placement) -> Callable[[Message], None]:
        """An updater that drops updates arriving within `update_interval` of the last one."""
        lock, last = threading.Lock(), [float("-inf")]

        def update(msg: Message) -> None:
            with lock:
                now = self.clock()
                if now - last[0] < self.update_interval:
                    return
                last[0] = now
            try:
                self.update(placement, msg)
            except SlackApiError as exc:  # progress is cosmetic; never fail the batch for it
                log.warning("progress update failed: %s", exc.response.get("error"))

        return update

    def upload(self, placement: Placement, files: Sequence[tuple[str, bytes]]) -> list[SharedFile]:
        """PDFs into the parent's thread, ten per call; returns their titles and permalinks."""
        shared: list[SharedFile] = []
        for start in range(0, len(files), FILES_PER_UPLOAD):
            chunk = files[start:start + FILES_PER_UPLOAD]
            response = self.client.files_upload_v2(
                channel=placement.channel, thread_ts=placement.ts,
                file_uploads=[{"content": data, "filename": name, "title": name}
                              for name, data in chunk],
            )
            for item in response.get("files") or []:
                shared.append(SharedFile(item.get("title") or item.get("name") or "EDR",
                                         item.get("permalink") or ""))
        return shared

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        except SlackApiError:
            return None
