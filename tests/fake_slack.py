"""A recording fake of the Slack Web API over real HTTP, for tests that drive the Bolt app end to end.

The app's real `slack_sdk.WebClient(token=…, base_url=fake.api_url)` talks to it; `respond()` posts to the
`response_url`s and `files_upload_v2` to the `upload_url`s it hands out (PLATFORM.md §5: neither uses
`base_url`). It checks what real Slack checks where the app could get it wrong — trigger_id expiry and
reuse, channel membership for uploads, Block Kit limits — and records every call for assertions.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from slack_sdk import WebClient

from bot.local_http import Background
from tests import fake_slack_blockkit as blockkit
from tests.fake_slack_http import Answer, HTTPServer, decode_params, json_object, multipart_file
from tests.fake_slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Channel,
    Ephemeral,
    Message,
    Params,
    SlackError,
    UploadedFile,
    View,
    Workspace,
)

__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "TEAM_ID", "BlockKitError", "Call", "Channel", "Ephemeral",
           "FakeSlack", "ManualClock", "Message", "Response", "UploadedFile", "View"]

UPLOAD, RESPOND = "upload", "respond"  # pseudo-method names for the upload_url and response_url posts
RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_SECONDS = 5, 30 * 60  # "five times within 30 minutes" (§1.1)
BOT_SCOPES = "commands,chat:write,files:write,im:write,channels:join"  # the manifest's bot scopes (§6)


@dataclass(frozen=True)
class Call:
    """One request as the fake received it and what it answered."""

    method: str  # Web API method, or "upload" / "respond"
    params: dict[str, Any]  # query + body, decoded from JSON, form or multipart
    headers: dict[str, str]  # lower-case names
    time: float  # time.monotonic() on arrival
    status: int
    response: Any  # the JSON answer (dict) or, for upload/respond, the text body

    @property
    def ok(self) -> bool:
        return self.status == 200 and (not isinstance(self.response, dict) or bool(self.response.get("ok")))

    def summary(self) -> str:
        shown = {k: v for k, v in self.params.items() if k in (
            "channel", "channel_id", "user", "user_id", "users", "ts", "thread_ts", "view_id", "text")}
        outcome = "ok" if self.ok else (self.response.get("error") if isinstance(self.response, dict)
                                        else f"{self.status} {self.response}")
        return f"{self.method} -> {outcome} {json.dumps(shown, ensure_ascii=False)[:200]}"


@dataclass(frozen=True)
class Response:
    """One accepted post to a response_url (what `respond()` sent)."""

    url: str
    user_id: str | None
    channel_id: str | None
    body: dict[str, Any]

    @property
    def response_type(self) -> str:
        return self.body.get("response_type") or "ephemeral"  # Slack's default for response_url posts

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def blocks(self) -> list[Any] | None:
        return self.body.get("blocks")

    @property
    def replace_original(self) -> bool:
        return bool(self.body.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return bool(self.body.get("delete_original"))


@dataclass(frozen=True)
class BlockKitError:
    """A payload the fake refused for breaking a documented limit (`rule` names it)."""

    method: str  # the Web API method, "respond", or "view_submission" for an ack body
    rule: str
    pointer: str
    message: str


class ManualClock:
    """A monotonic clock that only moves when told to, for trigger_id and response_url expiry."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _ResponseUrl:
    user_id: str | None
    channel_id: str | None
    issued_at: float
    uses: int = 0


@dataclass
class _Fault:
    remaining: int
    status: int
    error: str
    retry_after: int | None = None


class FakeSlack:
    """The fake Slack: a threaded local HTTP server plus the assertions tests make on what it saw."""

    token = "xoxb-fake-token"

    def __init__(self, *, tokens: Collection[str] | None = None, clock: Callable[[], float] = time.monotonic,
                 trigger_ttl: float = 3.0, max_files_per_share: int = 10, chat_write_public: bool = False,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        """`tokens`: the accepted tokens (default: any xoxb-/xoxp- token). `chat_write_public`: the app has
        that scope, so chat.postMessage reaches public channels the bot has not joined (never files)."""
        self._tokens = None if tokens is None else set(tokens)
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out (FakeSocketMode)
        self._clock = clock
        self._address = (host, port)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ws = Workspace(clock, trigger_ttl=trigger_ttl, max_files_per_share=max_files_per_share,
                             chat_write_public=chat_write_public)
        self._ws.add_channel("C0PUBLIC", name="general")  # public, bot is a member: the default target
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: list[Response] = []
        self._ack_violations: list[BlockKitError] = []
        self._running: Background | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._running is None:
            raise RuntimeError("FakeSlack not started")
        return f"http://{self._address[0]}:{self._running.port}"

    @property
    def api_url(self) -> str:
        """The WebClient base_url."""
        return f"{self.url}/api/"

    def start(self) -> FakeSlack:
        self._running = Background(HTTPServer(self._address, self._serve), "fake-slack")
        return self

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def client(self, **kwargs: Any) -> WebClient:
        """A real WebClient pointed at this fake (pass retry_handlers=… and the like through)."""
        return WebClient(token=kwargs.pop("token", self.token), base_url=self.api_url, **kwargs)

    # --- workspace setup ----------------------------------------------------------------------

    def add_channel(self, channel_id: str, *, private: bool = False, bot_member: bool = True,
                    name: str | None = None, members: Collection[str] | None = None) -> Channel:
        """A channel; `members` are the humans in it (default: everybody). C0PUBLIC exists already."""
        with self._lock:
            return self._ws.add_channel(channel_id, name=name, private=private, bot_member=bot_member,
                                        members=None if members is None else set(members))

    def new_trigger_id(self, user_id: str = "U1", view_id: str | None = None) -> str:
        """A trigger_id valid for 3 s of the clock, once; `view_id` is the modal it came from (push)."""
        with self._lock:
            return self._ws.new_trigger_id(user_id, view_id)

    def response_url(self, user_id: str | None = None, channel_id: str | None = None) -> str:
        """A response_url usable 5 times within 30 minutes of the clock."""
        with self._lock:
            url_id = self._ws.next_id("R")
            self._response_urls[url_id] = _ResponseUrl(user_id, channel_id, self._clock())
        return f"{self.url}/respond/{url_id}"

    # --- fault injection ----------------------------------------------------------------------

    def rate_limit_next(self, method: str, n: int = 1, retry_after: int = 1) -> None:
        """The next `n` calls of `method` get HTTP 429 with Retry-After and error "ratelimited"."""
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(n, 429, "ratelimited", retry_after))

    def fail_next(self, method: str, n: int = 1, error: str = "internal_error") -> None:
        """The next `n` calls of `method` answer {"ok": false, "error": error}; upload/respond get 500."""
        with self._lock:
            status = 500 if method in (UPLOAD, RESPOND) else 200
            self._faults.setdefault(method, []).append(_Fault(n, status, error))

    # --- recorded calls -----------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0,
                 predicate: Callable[[Call], bool] | None = None) -> list[Call]:
        """Block until `count` calls of `method` (matching `predicate`) arrived; returns them all.

        The app does its Slack work after ack() on other threads, so tests wait rather than assert.
        A predicate that raises counts as no match.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matched = [c for c in self._calls if c.method == method and _matches(predicate, c)]
                if len(matched) >= count:
                    return matched
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(method, count, timeout, predicate, matched))
                self._changed.wait(min(remaining, 0.05))

    def _timeout_report(self, method: str, count: int, timeout: float,
                        predicate: Callable[[Call], bool] | None, matched: list[Call]) -> str:
        lines = [f"fake Slack: expected {count} {method} call(s)"
                 + (" matching the predicate" if predicate else "")
                 + f" within {timeout:g}s, got {len(matched)}.",
                 f"All {len(self._calls)} calls received, in order:"]
        lines += [f"  {i}. {c.summary()}" for i, c in enumerate(self._calls, 1)] or ["  (none)"]
        errors = self.block_kit_errors
        if errors:
            lines.append("Block Kit errors:")
            lines += [f"  {e.method}: {e.rule} at {e.pointer}: {e.message}" for e in errors]
        return "\n".join(lines)

    # --- state for assertions -----------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """Messages in a channel (thread replies and file shares included) as they stand now, by ts."""
        with self._lock:
            channel_id = self.dm_channel(channel) if channel[:1] in "UW" else channel
            return sorted(self._ws.messages.get(channel_id or "", []), key=lambda m: _ts_key(m.ts))

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        return [m for m in self.messages(channel) if m.thread_ts == thread_ts]

    def message(self, channel: str, ts: str) -> Message:
        for message in self.messages(channel):
            if message.ts == ts:
                return message
        raise AssertionError(f"no message {ts} in {channel}")

    def files_in_thread(self, channel: str, thread_ts: str) -> list[UploadedFile]:
        """Files shared into that thread, in share order."""
        with self._lock:
            return [self._ws.files[file_id] for m in self.thread(channel, thread_ts) for file_id in m.files]

    def file(self, file_id: str) -> UploadedFile:
        with self._lock:
            return self._ws.files[file_id]

    @property
    def views(self) -> dict[str, View]:
        """Every modal and Home tab by view_id, each with its latest content (`versions` for history)."""
        with self._lock:
            return dict(self._ws.views)

    def view(self, view_id: str) -> View:
        with self._lock:
            if view_id not in self._ws.views:
                raise AssertionError(f"no view {view_id}; views: {sorted(self._ws.views)}")
            return self._ws.views[view_id]

    def open_views(self, user_id: str | None = None) -> list[View]:
        """Modals still open (not closed by an ack or the user), oldest first."""
        with self._lock:
            return [v for v in self._ws.views.values() if v.type == "modal" and not v.closed
                    and (user_id is None or v.user_id == user_id)]

    def home(self, user_id: str) -> View | None:
        with self._lock:
            return self._ws.views.get(self._ws.homes.get(user_id, ""))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return [e for e in self._ws.ephemerals
                    if (channel is None or e.channel == channel) and (user is None or e.user == user)]

    def responses(self, url: str | None = None, user_id: str | None = None) -> list[Response]:
        """Accepted response_url posts, oldest first."""
        with self._lock:
            return [r for r in self._responses
                    if (url is None or r.url == url) and (user_id is None or r.user_id == user_id)]

    def dm_channel(self, user_id: str) -> str | None:
        """The D… id of the bot's DM with that user, once one was opened."""
        with self._lock:
            return next((c.id for c in self._ws.channels.values() if c.im_user == user_id), None)

    def channel(self, channel_id: str) -> Channel:
        with self._lock:
            return self._ws.channels[channel_id]

    @property
    def block_kit_errors(self) -> list[BlockKitError]:
        with self._lock:
            found = [BlockKitError(method, v.rule, v.pointer, v.message) for method, v in self._ws.violations]
            return found + self._ack_violations

    def assert_no_block_kit_errors(self) -> None:
        errors = self.block_kit_errors
        assert not errors, "Slack refused payloads:\n" + "\n".join(
            f"  {e.method}: {e.rule} at {e.pointer}: {e.message}" for e in errors)

    # --- what Slack does with a view_submission ack -------------------------------------------

    def apply_view_ack(self, view_id: str, ack_body: str | dict[str, Any] | None) -> View | None:
        """Do what Slack does with the app's HTTP answer to a view_submission (PLATFORM.md §1.3).

        `ack_body` is BoltResponse.body ("" for a plain ack). A plain ack closes the view, "clear" closes
        its whole stack, "update" replaces it, "push" stacks a new one, "errors" marks input blocks.
        Returns the view now showing (None when closed). Refused bodies land in block_kit_errors, and the
        view stays as it was, as in Slack (which shows "We had some trouble connecting").
        """
        body = json.loads(ack_body) if isinstance(ack_body, str) and ack_body.strip() else ack_body or {}
        with self._lock:
            view = self.view(view_id)
            action = body.get("response_action")
            if action in (None, "clear"):
                for closing in self._ws.stack(view.root_view_id) if action == "clear" else [view]:
                    closing.closed = True
                return None
            if action == "errors":
                errors = body.get("errors") or {}
                unknown = sorted(set(errors) - blockkit.input_block_ids(view.payload))
                if not errors or unknown:
                    self._ack_violations.append(BlockKitError(
                        "view_submission", "errors.keys_are_input_block_ids", "/errors",
                        f"errors must be keyed by input block_ids of the view; unknown: {unknown}"))
                    return view
                view.errors = dict(errors)
                return view
            if action not in ("update", "push"):
                self._ack_violations.append(BlockKitError(
                    "view_submission", "response_action", "/response_action", f"unknown {action!r}"))
                return view
            try:
                new_view = self._ws.check_view("view_submission", body.get("view"))
                if action == "push":
                    return self._ws.push(view, new_view)
            except SlackError:
                return view
            self._ws.replace(view, new_view)
            return view

    def close_view(self, view_id: str) -> None:
        """The user closed the modal (its stack goes with it)."""
        with self._lock:
            for view in self._ws.stack(self.view(view_id).root_view_id):
                view.closed = True

    # --- request handling (called on server threads) ------------------------------------------

    def _serve(self, verb: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        split = urllib.parse.urlsplit(path)
        parts = split.path.strip("/").split("/")
        arrived = time.monotonic()
        if len(parts) == 2 and parts[0] == "api":
            kind, params = parts[1], decode_params(headers.get("content-type", ""), raw, split.query)
            answer = self._fault(kind) or self._api(kind, params, headers)
        elif len(parts) == 2 and parts[0] == "upload" and verb == "POST":
            kind, params = UPLOAD, {"file_id": parts[1], "length": len(raw)}
            answer = self._fault(kind) or self._upload(parts[1], headers.get("content-type", ""), raw)
        elif len(parts) == 2 and parts[0] == "respond" and verb == "POST":
            kind, params = RESPOND, json_object(raw)
            answer = self._fault(kind) or self._respond(parts[1], params)
        else:  # recorded too, so a stray URL shows up in wait_for's report
            kind, params, answer = f"{verb} {split.path}", {}, Answer(404, "not_found")
        with self._changed:
            self._calls.append(Call(kind, params, headers, arrived, answer.status, answer.body))
            self._changed.notify_all()
        return answer

    def _fault(self, kind: str) -> Answer | None:
        with self._lock:
            pending = self._faults.get(kind)
            if not pending:
                return None
            fault = pending[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                pending.pop(0)
        headers = (("Retry-After", str(fault.retry_after)),) if fault.retry_after is not None else ()
        if kind in (UPLOAD, RESPOND) and fault.status != 429:
            return Answer(fault.status, fault.error, headers)
        return Answer(fault.status, {"ok": False, "error": fault.error}, headers)

    def _api(self, method: str, params: Params, headers: dict[str, str]) -> Answer:
        scopes = (("x-oauth-scopes", BOT_SCOPES),)
        authorization = headers.get("authorization", "")
        bearer = authorization.lower().startswith("bearer ")
        token = str(authorization[7:].strip() if bearer else params.get("token") or "")
        if not token:
            return Answer(200, {"ok": False, "error": "not_authed"})
        if method == "apps.connections.open":  # Socket Mode: app-level token, not the bot's
            if not token.startswith("xapp-") or not self.socket_mode_url:
                return Answer(200, {"ok": False, "error": "invalid_auth"})
            return Answer(200, {"ok": True, "url": self.socket_mode_url})
        valid = token in self._tokens if self._tokens is not None else token.startswith(("xoxb-", "xoxp-"))
        if not valid:
            return Answer(200, {"ok": False, "error": "invalid_auth"})
        handler = self._ws.methods.get(method)
        if handler is None:
            return Answer(200, {"ok": True}, scopes)  # any other method: harmless, recorded
        try:
            with self._lock:
                result = handler(params)
        except SlackError as error:
            return Answer(200, {"ok": False, "error": error.error, **error.extra}, scopes)
        if method == "files.getUploadURLExternal":
            result["upload_url"] = f"{self.url}/upload/{result['file_id']}"
        return Answer(200, {"ok": True, **result}, scopes)

    def _upload(self, file_id: str, content_type: str, raw: bytes) -> Answer:
        # The SDK posts the raw bytes with urllib's default form content-type (§2.1 step 2); a browser-style
        # multipart post is accepted too.
        content = multipart_file(content_type, raw) if content_type.startswith("multipart/") else raw
        with self._lock:
            uploaded = self._ws.files.get(file_id)
            if uploaded is None:
                return Answer(404, "file_not_found")
            uploaded.content = content
        return Answer(200, f"OK - {len(content)}")

    def _respond(self, url_id: str, body: Params) -> Answer:
        with self._lock:
            issued = self._response_urls.get(url_id)
            if issued is None:
                return Answer(404, "invalid_url")
            if issued.uses >= RESPONSE_URL_MAX_USES or (
                    self._clock() - issued.issued_at > RESPONSE_URL_TTL_SECONDS):
                return Answer(404, "used_url")  # assumed error text; Slack documents only the limit
            if not body.get("delete_original"):
                try:
                    self._ws.check_message(RESPOND, body)
                except SlackError as error:
                    return Answer(400, error.error)
            issued.uses += 1
            url = f"{self.url}/respond/{url_id}"
            self._responses.append(Response(url, issued.user_id, issued.channel_id, body))
        return Answer(200, "ok")


def _ts_key(ts: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ts.split("."))


def _matches(predicate: Callable[[Call], bool] | None, call: Call) -> bool:
    if predicate is None:
        return True
    try:
        return bool(predicate(call))
    except Exception:
        return False
