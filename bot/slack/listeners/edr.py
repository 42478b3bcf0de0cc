"""`/walmart edr …`: a parent message in the channel, progress, PDFs in its thread, sharing onward."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.edr.command import EdrTarget
from bot.edr.kinds import SUPERVISOR_EXPLANATION, Kind
from bot.edr.service import Batch, EdrRequest, Progress
from bot.operations import UserKey
from bot.retail_link.errors import RetailLinkError, SessionExpired
from bot.sessions.service import NotSignedIn
from bot.slack import blocks
from bot.slack.app import SlackDeps, who
from bot.slack.poster import CannotPost, Placement

log = logging.getLogger(__name__)


def prepare(deps: SlackDeps, user: UserKey, channel_id: str | None,
            target: EdrTarget) -> EdrRequest | blocks.Message:
    """The request to run, or why it cannot start (answered in the ack)."""
    if target.kind is Kind.SUPERVISOR:
        return blocks.error_message(SUPERVISOR_EXPLANATION)
    store, _ = deps.store_for(user, channel_id)
    if store is None:
        return blocks.error_message("No store is set. Use `/walmart store 8135` (yours) or "
                                    "`/walmart store 8135 channel` (this channel's).")
    if deps.ops.status(user).time_left is None:
        return blocks.sign_in_needed("Sign in to Retail Link first — it takes one SMS code.")
    return EdrRequest(store, target.day, target.kind, target.event_ids)


def start(deps: SlackDeps, user: UserKey, channel_id: str, request: EdrRequest,
          respond: Respond, bot_user_id: str | None = None) -> None:
    deps.jobs.submit(
        lambda: BatchJob(deps, user, channel_id, request, respond, bot_user_id).run(),
        on_error=lambda text, error_id: respond(**blocks.error_message(text, error_id)),
    )


class BatchJob:
    """One batch from parent message to finished thread; runs on the job pool."""

    def __init__(self, deps: SlackDeps, user: UserKey, channel_id: str, request: EdrRequest,
                 respond: Respond, bot_user_id: str | None) -> None:
        self.deps, self.user, self.channel_id = deps, user, channel_id
        self.request, self.respond, self.bot_user_id = request, respond, bot_user_id
        self.label = blocks.batch_label(request)
        self.batch_id: int | None = None
        self.placement: Placement | None = None

    def parent(self, phase: blocks.Phase, **kwargs: Any) -> blocks.Message:
        return blocks.edr_parent(self.label, phase, user_id=self.user.user_id,
                                 batch_id=self.batch_id, **kwargs)

    def run(self) -> None:
        deps = self.deps
        self.batch_id = deps.start_batch(self.user, self.channel_id, self.request, self.label)
        try:
            self._run()
        except BaseException:
            deps.finish_batch(self.batch_id, "failed", 0, 0, [])
            if self.placement is not None:
                deps.poster.update(self.placement, self.parent(
                    "failed", note="something went wrong on our side (see the message to you)"))
            raise

    def _run(self) -> None:
        deps, poster = self.deps, self.deps.poster
        self.placement = poster.post_parent(self.channel_id, self.user.user_id,
                                            self.parent("listing"))
        if self.placement.fallback_dm:
            self.respond(**blocks.invite_needed(self.channel_id, self.bot_user_id, True))
        deps.set_thread(self.batch_id, self.placement)
        update = poster.throttled(self.placement)

        def progress(p: Progress) -> None:
            update(self.parent("fetching", done=p.done, total=p.total))

        try:
            batch = deps.ops.run_edr(self.user, self.request, progress)
        except (NotSignedIn, SessionExpired) as exc:
            if isinstance(exc, SessionExpired):
                deps.notifier.session_ended(self.user.user_id, "walmart_expired")
            self._fail(str(exc))
            self.respond(**blocks.sign_in_needed(str(exc)))
            return
        except RetailLinkError as exc:
            self._fail(str(exc))
            return
        if batch.session_expired:
            deps.notifier.session_ended(self.user.user_id, "walmart_expired")
        shared, note = self._upload(batch)
        poster.update(self.placement, self.parent("done", batch=batch, note=note))
        deps.finish_batch(self.batch_id, "done", len(batch.files), len(batch.failures), shared)

    def _fail(self, text: str) -> None:
        assert self.placement is not None and self.batch_id is not None
        self.deps.poster.update(self.placement, self.parent("failed", note=text))
        self.deps.finish_batch(self.batch_id, "failed", 0, 0, [])

    def _upload(self, batch: Batch) -> tuple[list[blocks.SharedFile], str | None]:
        """Upload into the thread; if the channel refuses, into the user's DM — never lose PDFs."""
        files = [(o.filename or f"EDR_{o.event_id}.pdf", o.pdf or b"") for o in batch.files]
        if batch.combined is not None and batch.combined_filename:
            files.append((batch.combined_filename, batch.combined))
        if not files:
            return [], None
        assert self.placement is not None
        poster = self.deps.poster
        poster.update(self.placement, self.parent("uploading", total=len(files)))
        try:
            return poster.upload(self.placement, files), None
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("upload into %s failed: %s; sending by DM", self.placement.channel, error)
        dm = poster.post_dm(self.user.user_id, self.parent("uploading", total=len(files)))
        shared = poster.upload(dm, files)
        poster.update(dm, self.parent("done", batch=batch))
        return shared, f"Slack refused the upload here ({error}); the PDFs were sent to you by DM."


def register(app: App, deps: SlackDeps) -> None:
    @app.action(blocks.SHARE_BATCH)
    def share_button(ack: Ack, body: dict[str, Any], context: BoltContext,
                     client: WebClient) -> None:
        ack()
        record = deps.get_batch(who(context), int(body["actions"][0]["value"]))
        if record is None:
            return
        client.views_open(trigger_id=body["trigger_id"],
                          view=blocks.share_view(record.id, record.label))

    @app.view(blocks.SHARE_VIEW)
    def share_submit(ack: Ack, body: dict[str, Any], context: BoltContext,
                     client: WebClient) -> None:
        values = body["view"]["state"]["values"]
        channel = (values.get(blocks.CHANNEL_BLOCK, {}).get(blocks.CHANNEL_ACTION, {})
                   .get("selected_conversation"))
        if not channel:
            ack(response_action="errors", errors={blocks.CHANNEL_BLOCK: "Pick a channel."})
            return
        ack()
        user = who(context)
        batch_id = int(json.loads(body["view"].get("private_metadata") or "{}")["batch_id"])
        bot_user_id = context.bot_user_id

        def share() -> None:
            record = deps.get_batch(user, batch_id)
            if record is None:
                return
            link = (deps.poster.permalink(record.channel_id, record.thread_ts)
                    if record.thread_ts else None)
            files = [blocks.SharedFile(f.title, f.permalink) for f in record.files]
            try:
                deps.poster.post(channel, blocks.shared_batch(record.label, user.user_id, link,
                                                              files))
            except CannotPost:
                deps.poster.post_dm(user.user_id, blocks.invite_needed(channel, bot_user_id, False))

        deps.jobs.submit(share, on_error=lambda text, error_id: deps.poster.post_dm(
            user.user_id, blocks.error_message(text, error_id)))
