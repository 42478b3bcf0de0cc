"""The fake Slack workspace's state and its Web API methods, with no HTTP: FakeSlack serves these.

Facts behind the rules are in /work/shared/slack/PLATFORM.md (section numbers cited below).
Not thread-safe by itself: FakeSlack holds its lock around every call.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests import fake_slack_blockkit as blockkit

TEAM_ID, TEAM_NAME = "T0001", "Fake Workspace"
BOT_USER_ID, BOT_ID, APP_ID = "U0BOT", "B0BOT", "A0APP"
TRIGGER_TTL_SECONDS = 3.0  # §1.2: "Pass a valid trigger_id within 3 seconds of receiving it"
MAX_VIEW_STACK = 3  # §1.2: views.push allows 2 more views on top of the root
MAX_FILES_PER_SHARE = 10  # §2.1: 15 files failed with internal_error, 14 worked; the app batches 10
PERMALINK_BASE = "https://fake-workspace.slack.com/archives"

Params = dict[str, Any]


def _flag(value: Any) -> bool:
    """A boolean argument, sent as JSON true or as the form values "true"/"1"."""
    return value is True or value in ("true", "1", 1)


class SlackError(Exception):
    """A Web API error: answered as {"ok": false, "error": code, **extra} with HTTP 200."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


@dataclass
class Channel:
    id: str
    name: str
    private: bool = False
    bot_member: bool = True
    members: set[str] | None = None  # human members; None means everybody
    im_user: str | None = None  # set for a DM (D…) with this user

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def info(self) -> Params:
        return {"id": self.id, "name": self.name, "is_channel": not self.private and not self.is_im,
                "is_group": self.private and not self.is_im, "is_im": self.is_im,
                "is_private": self.private or self.is_im, "is_member": self.bot_member,
                **({"user": self.im_user} if self.is_im else {})}


@dataclass
class Message:
    """A message as it stands now; `versions` keeps every (text, blocks) it had, oldest first."""

    channel: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    thread_ts: str | None = None
    user: str = BOT_USER_ID
    files: list[str] = field(default_factory=list)  # file ids shared with this message
    versions: list[tuple[str | None, list[Any] | None]] = field(default_factory=list)


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str | None
    blocks: list[Any] | None
    thread_ts: str | None
    message_ts: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    title: str
    declared_length: int
    content: bytes | None = None  # None until the bytes were POSTed to the upload_url
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    shared_ts: str | None = None  # ts of the share message in the channel/thread
    share_kind: str = "public"  # files.info groups shares into "public" and "private" conversations

    @property
    def size(self) -> int:
        return len(self.content or b"")

    def info(self) -> Params:
        shares: Params = {}
        if self.channel is not None:
            share = {"ts": self.shared_ts, **({"thread_ts": self.thread_ts} if self.thread_ts else {})}
            shares = {self.share_kind: {self.channel: [share]}}
        return {"id": self.id, "name": self.filename, "title": self.title, "size": self.size,
                "mimetype": "", "channels": [self.channel] if self.channel else [], "shares": shares,
                "url_private": f"https://files.fake-slack/{self.id}/{self.filename}"}


@dataclass
class View:
    """A modal or Home tab with its latest content; `versions` holds every view dict it had."""

    id: str
    type: str
    user_id: str | None
    payload: Params  # the latest view dict as the app sent it
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str | None = None
    closed: bool = False
    errors: dict[str, str] = field(default_factory=dict)  # last response_action=errors
    versions: list[Params] = field(default_factory=list)

    @property
    def callback_id(self) -> str:
        return self.payload.get("callback_id", "")

    @property
    def private_metadata(self) -> str:
        return self.payload.get("private_metadata", "")

    @property
    def blocks(self) -> list[Any]:
        return self.payload.get("blocks", [])

    @property
    def title(self) -> str | None:
        return (self.payload.get("title") or {}).get("text")

    def as_api(self) -> Params:
        """The view object as Slack returns it from views.* and puts it in interaction payloads."""
        return {**self.payload, "id": self.id, "team_id": TEAM_ID, "type": self.type,
                "private_metadata": self.private_metadata, "callback_id": self.callback_id,
                "external_id": self.external_id or "", "hash": self.hash, "state": {"values": {}},
                "root_view_id": self.root_view_id, "previous_view_id": self.previous_view_id,
                "app_id": APP_ID, "bot_id": BOT_ID, "app_installed_team_id": TEAM_ID}


@dataclass
class _Trigger:
    issued_at: float
    user_id: str | None
    view_id: str | None
    used: bool = False


class Workspace:
    """Channels, messages, files, views and trigger_ids, and the methods acting on them."""

    def __init__(self, clock: Callable[[], float], *, trigger_ttl: float = TRIGGER_TTL_SECONDS,
                 max_files_per_share: int = MAX_FILES_PER_SHARE, chat_write_public: bool = False) -> None:
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.max_files_per_share = max_files_per_share
        self.chat_write_public = chat_write_public
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, UploadedFile] = {}
        self.views: dict[str, View] = {}
        self.homes: dict[str, str] = {}  # user id -> home view id
        self.triggers: dict[str, _Trigger] = {}
        self.violations: list[tuple[str, blockkit.Violation]] = []  # (method, violation)
        self._seq = itertools.count(1)
        self._ts = itertools.count(100, 100)
        self.methods: dict[str, Callable[[Params], Params]] = {
            "auth.test": self.auth_test, "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update, "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete, "chat.getPermalink": self.chat_get_permalink,
            "conversations.open": self.conversations_open, "conversations.join": self.conversations_join,
            "conversations.info": self.conversations_info, "views.open": self.views_open,
            "views.update": self.views_update, "views.push": self.views_push,
            "views.publish": self.views_publish, "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload, "files.info": self.files_info,
        }

    # --- ids and time -------------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):07d}"

    def next_ts(self) -> str:
        micros = next(self._ts)  # unique and increasing across the workspace, like "1700000000.000100"
        return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_trigger_id(self, user_id: str | None, view_id: str | None) -> str:
        trigger_id = f"{next(self._seq)}.{TEAM_ID[1:]}.{next(self._seq):032x}"
        self.triggers[trigger_id] = _Trigger(self.clock(), user_id, view_id)
        return trigger_id

    # --- channels -----------------------------------------------------------------------------

    def add_channel(self, channel_id: str, *, name: str | None = None, private: bool = False,
                    bot_member: bool = True, members: set[str] | None = None) -> Channel:
        channel = Channel(channel_id, name or channel_id.lower(), private, bot_member, members)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def dm_for(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.im_user == user_id:
                return channel
        channel = self.add_channel(self.next_id("D"), name=user_id)
        channel.im_user = user_id
        return channel

    def resolve(self, channel_id: Any, *, allow_user: bool) -> Channel:
        """The channel a call addresses; a U/W id means the user's DM with the bot where Slack allows it."""
        if not isinstance(channel_id, str) or not channel_id:
            raise SlackError("channel_not_found")
        if allow_user and channel_id[0] in "UW":
            # §4.1 / [m] chat.postMessage: a user id opens (or reuses) the app's DM with that user.
            return self.dm_for(channel_id)
        channel = self.channels.get(channel_id)
        if channel is None or (channel.private and not channel.bot_member):
            raise SlackError("channel_not_found")  # private conversations the bot is not in are invisible
        return channel

    def require_member(self, channel: Channel, *, public_post_ok: bool) -> None:
        if channel.bot_member or (public_post_ok and self.chat_write_public and not channel.private):
            return
        raise SlackError("not_in_channel")  # §2.2: files need membership even with chat:write.public

    # --- Block Kit ----------------------------------------------------------------------------

    def check_message(self, method: str, params: Params) -> None:
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            raise SlackError("no_text")
        found = blockkit.check_message(params)
        if found:
            self.violations.extend((method, v) for v in found)
            too_long = [v for v in found if v.rule == "message.text<=40000"]
            code = "msg_too_long" if too_long and len(too_long) == len(found) else "invalid_blocks"
            messages = [str(v) for v in found]
            raise SlackError(code, errors=messages, response_metadata={"messages": messages})

    def check_view(self, method: str, view: Any) -> Params:
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                view = None
        found = blockkit.check_view(view)
        if not found and blockkit.view_size(view) > blockkit.MAX_VIEW_BYTES:
            found = [blockkit.Violation("view<=250kB", "/view", "view is larger than 250 kB")]
            self.violations.extend((method, v) for v in found)
            raise SlackError("view_too_large")
        if found:
            self.violations.extend((method, v) for v in found)
            messages = [f"[ERROR] {v}" for v in found]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        return view

    # --- methods: auth and chat ---------------------------------------------------------------

    def auth_test(self, params: Params) -> Params:
        return {"url": "https://fake-workspace.slack.com/", "team": TEAM_NAME, "user": "walmart-bot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def chat_post_message(self, params: Params) -> Params:
        channel = self.resolve(params.get("channel"), allow_user=True)
        self.require_member(channel, public_post_ok=True)
        self.check_message("chat.postMessage", params)
        message = Message(channel.id, self.next_ts(), params.get("text"), params.get("blocks"),
                          params.get("thread_ts"))
        message.versions.append((message.text, message.blocks))
        self.messages[channel.id].append(message)
        return {"channel": channel.id, "ts": message.ts, "message": self._message_json(message)}

    def chat_update(self, params: Params) -> Params:
        channel = self.resolve(params.get("channel"), allow_user=False)
        message = self._find_message(channel.id, params.get("ts"))
        new_blocks = params.get("blocks")
        self.check_message("chat.update", {**params, "text": params.get("text") or message.text,
                                           "blocks": message.blocks if new_blocks is None else new_blocks})
        # [m] chat.update: omitted blocks are kept; an empty array removes them. Omitted text is kept.
        if new_blocks is not None:
            message.blocks = new_blocks or None
        if params.get("text") is not None:
            message.text = params["text"]
        message.versions.append((message.text, message.blocks))
        return {"channel": channel.id, "ts": message.ts, "text": message.text,
                "message": self._message_json(message)}

    def chat_post_ephemeral(self, params: Params) -> Params:
        channel = self.resolve(params.get("channel"), allow_user=False)
        self.require_member(channel, public_post_ok=True)
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise SlackError("user_not_found")
        if (channel.members is not None and user not in channel.members) or (
                channel.is_im and channel.im_user != user):
            raise SlackError("user_not_in_channel")  # §4.1
        self.check_message("chat.postEphemeral", params)
        ephemeral = Ephemeral(channel.id, user, params.get("text"), params.get("blocks"),
                              params.get("thread_ts"), self.next_ts())
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    def chat_delete(self, params: Params) -> Params:
        channel = self.resolve(params.get("channel"), allow_user=False)
        message = self._find_message(channel.id, params.get("ts"))
        self.messages[channel.id].remove(message)
        return {"channel": channel.id, "ts": message.ts}

    def chat_get_permalink(self, params: Params) -> Params:
        channel = self.resolve(params.get("channel"), allow_user=False)
        message = self._find_message(channel.id, params.get("message_ts"))
        return {"channel": channel.id,
                "permalink": f"{PERMALINK_BASE}/{channel.id}/p{message.ts.replace('.', '')}"}

    def _find_message(self, channel_id: str, ts: Any) -> Message:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        raise SlackError("message_not_found")

    @staticmethod
    def _message_json(message: Message) -> Params:
        return {"type": "message", "user": message.user, "bot_id": BOT_ID, "ts": message.ts,
                "text": message.text or "", **({"blocks": message.blocks} if message.blocks else {}),
                **({"thread_ts": message.thread_ts} if message.thread_ts else {})}

    # --- methods: conversations ---------------------------------------------------------------

    def conversations_open(self, params: Params) -> Params:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users and params.get("channel"):
            channel = self.resolve(params["channel"], allow_user=False)
            return {"channel": channel.info() if _flag(params.get("return_im")) else {"id": channel.id}}
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] the fake models one-user DMs only, not group DMs"]})
        existed = any(c.im_user == users[0] for c in self.channels.values())
        channel = self.dm_for(users[0])
        body: Params = {"channel": channel.info() if _flag(params.get("return_im")) else {"id": channel.id}}
        return {**body, "no_op": True, "already_open": True} if existed else body

    def conversations_join(self, params: Params) -> Params:
        channel_id = params.get("channel")
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.private or channel.is_im:
            # §2.2: private channels and DMs need a human /invite; join is for public channels only.
            raise SlackError("method_not_supported_for_channel_type")
        already = channel.bot_member
        channel.bot_member = True
        return {"channel": channel.info(), **({"warning": "already_in_channel"} if already else {})}

    def conversations_info(self, params: Params) -> Params:
        return {"channel": self.resolve(params.get("channel"), allow_user=False).info()}

    # --- methods: views -----------------------------------------------------------------------

    def take_trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")  # §1.2: single use
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def check_modal(self, method: str, view: Any) -> Params:
        checked = self.check_view(method, view)
        if checked.get("type") != "modal":
            raise SlackError("invalid_arguments", response_metadata={
                "messages": [f"[ERROR] {method} takes a modal view"]})
        return checked

    def views_open(self, params: Params) -> Params:
        view = self.check_modal("views.open", params.get("view"))
        self._check_external_id(view)
        trigger = self.take_trigger(params.get("trigger_id"))
        return {"view": self._new_view(view, trigger.user_id, root=None).as_api()}

    def views_push(self, params: Params) -> Params:
        view = self.check_modal("views.push", params.get("view"))
        self._check_external_id(view)
        trigger = self.take_trigger(params.get("trigger_id"))
        parent = self.views.get(trigger.view_id or "") or self._top_of_stack(trigger.user_id)
        if parent is None:
            return {"view": self._new_view(view, trigger.user_id, root=None).as_api()}
        return {"view": self.push(parent, view).as_api()}

    def push(self, parent: View, view: Params) -> View:
        if len(self.stack(parent.root_view_id)) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        return self._new_view(view, parent.user_id, root=parent)

    def views_update(self, params: Params) -> Params:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if view_id and external_id:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] provide either view_id or external_id, not both"]})
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] view_id or external_id is required"]})
        view = self.check_view("views.update", params.get("view"))
        target = self.views.get(view_id) if view_id else next(
            (v for v in self.views.values() if v.external_id == external_id), None)
        if target is None or target.closed:
            raise SlackError("not_found")  # assumed: a closed modal can no longer be updated
        if params.get("hash") and params["hash"] != target.hash:
            raise SlackError("hash_conflict")  # §1.3: hash is optimistic locking
        self.replace(target, view)
        return {"view": target.as_api()}

    def views_publish(self, params: Params) -> Params:
        user_id = params.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": ["[ERROR] user_id is required"]})
        view = self.check_view("views.publish", params.get("view"))
        if view.get("type") != "home":
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] views.publish takes a home view"]})
        home = self.views.get(self.homes.get(user_id, ""))
        if home is None:
            home = self._new_view(view, user_id, root=None)
            self.homes[user_id] = home.id
        else:
            if params.get("hash") and params["hash"] != home.hash:
                raise SlackError("hash_conflict")
            self.replace(home, view)
        return {"view": home.as_api()}

    def replace(self, target: View, view: Params) -> None:
        target.payload, target.hash, target.errors = view, self._hash(), {}
        target.external_id = view.get("external_id") or target.external_id
        target.versions.append(view)

    def stack(self, root_view_id: str) -> list[View]:
        return [v for v in self.views.values() if v.root_view_id == root_view_id and not v.closed]

    def _top_of_stack(self, user_id: str | None) -> View | None:
        open_modals = [v for v in self.views.values()
                       if v.type == "modal" and not v.closed and v.user_id == user_id]
        return open_modals[-1] if open_modals else None

    def _new_view(self, view: Params, user_id: str | None, root: View | None) -> View:
        view_id = self.next_id("V")
        created = View(view_id, view["type"], user_id, view, self._hash(),
                       root_view_id=root.root_view_id if root else view_id,
                       previous_view_id=root.id if root else None,
                       external_id=view.get("external_id") or None, versions=[view])
        self.views[view_id] = created
        return created

    def _check_external_id(self, view: Params) -> None:
        external_id = view.get("external_id")
        if external_id and any(v.external_id == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")  # §1.3: unique per team

    def _hash(self) -> str:
        return f"{self.next_ts()}.{next(self._seq):08x}"

    # --- methods: files -----------------------------------------------------------------------

    def files_get_upload_url(self, params: Params) -> Params:
        filename, length = params.get("filename"), params.get("length")
        try:
            declared = int(length)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            declared = -1
        if not filename or declared < 0:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] filename and length are required"]})
        file_id = self.next_id("F")
        self.files[file_id] = UploadedFile(file_id, str(filename), str(filename), declared)
        return {"file_id": file_id}  # FakeSlack adds the upload_url, which needs its address

    def files_complete_upload(self, params: Params) -> Params:
        entries = params.get("files")
        if isinstance(entries, str):
            try:
                entries = json.loads(entries)
            except ValueError:
                entries = None
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] files must be a JSON array of {id, title}"]})
        if len(entries) > self.max_files_per_share:
            raise SlackError("internal_error")  # §2.1: too many files in one completion
        files = []
        for entry in entries:
            uploaded = self.files.get(entry.get("id")) if isinstance(entry, dict) else None
            if uploaded is None or uploaded.content is None:
                raise SlackError("file_not_found")
            files.append((uploaded, entry.get("title") or uploaded.filename))
        targets = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            targets = [params["channel_id"]]
        channels = [self.resolve(c, allow_user=False) for c in targets]
        for channel in channels:
            self.require_member(channel, public_post_ok=False)  # §2.2, [m] completeUploadExternal
        for uploaded, title in files:
            uploaded.title = title
        for channel in channels:
            share = Message(channel.id, self.next_ts(), params.get("initial_comment"), None,
                            params.get("thread_ts"), files=[f.id for f, _ in files])
            self.messages[channel.id].append(share)
            for uploaded, _ in files:
                uploaded.channel, uploaded.thread_ts = channel.id, params.get("thread_ts")
                uploaded.share_kind = "private" if channel.private or channel.is_im else "public"
                uploaded.initial_comment, uploaded.shared_ts = params.get("initial_comment"), share.ts
        # §2.3: the share is asynchronous, so the completion shows no shares or channels yet.
        return {"files": [{**f.info(), "channels": [], "shares": {}} for f, _ in files]}

    def files_info(self, params: Params) -> Params:
        uploaded = self.files.get(params.get("file"))  # type: ignore[arg-type]
        if uploaded is None or uploaded.content is None:
            raise SlackError("file_not_found")
        return {"file": uploaded.info()}
