"""Pure Block Kit builders: every message, modal and App Home the app shows, within Slack's limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from bot.edr.kinds import Kind
from bot.edr.service import Batch, EdrOutcome, EdrRequest

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": fallback, "blocks": [...]}

# Slack's limits (docs.slack.dev/reference/block-kit): kept well inside.
SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
LIST_LINES_MAX = 15  # failure/skip lines listed before "…and N more"

# action_ids and callback_ids the listeners route on.
SIGN_IN = "walmart_sign_in"
SIGN_OUT = "walmart_sign_out"
STAY_SIGNED_IN = "walmart_stay_signed_in"
SAVE_ACCOUNT = "walmart_save_account"
SHARE_BATCH = "walmart_share_batch"
LOGIN_VIEW = "walmart_login"
ACCOUNT_VIEW = "walmart_account"
SHARE_VIEW = "walmart_share"
CODE_BLOCK, CODE_ACTION = "code", "code_input"
CHANNEL_BLOCK, CHANNEL_ACTION = "channel", "channel_input"

KIND_TITLES = {Kind.ALL: "All kinds", Kind.CORE: "Core", Kind.JUICER: "Juicer",
               Kind.DIGITAL: "Digital", Kind.FREEOSK: "Freeosk", Kind.OTHER: "Other",
               Kind.SUPERVISOR: "Supervisor"}


def escape(text: str) -> str:
    """User and Walmart text in mrkdwn: only &, < and > are control characters for Slack."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": _plain(text), "action_id": action_id}
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block] | None = None) -> Message:
    return {"text": _clip(text, 3000), "blocks": blocks if blocks is not None else [section(text)]}


def _minutes(delta: timedelta | None) -> str:
    if delta is None:
        return "0 min"
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    if minutes < 5:
        return f"{minutes} min {seconds:02d} s"
    # Rounded, so a session that was just used reads "10 min", not "9 min".
    return f"{round(delta.total_seconds() / 60)} min"


# --- help, errors, simple replies -------------------------------------------------------------

HELP_LINES = (
    ("/walmart login", "Sign in to Retail Link (password + the SMS code Walmart texts you). "
                       "One sign-in serves every request until {idle} min without use."),
    ("/walmart edr 2024-10-05 core", "That day's EDRs of one kind as PDFs in a thread here, plus "
                                     "one combined PDF to print at once."),
    ("/walmart edr 548021 548104", "Specific events by their Walmart event id."),
    ("/walmart status", "Signed in or not, time left, which store is used."),
    ("/walmart store 8135", "Use club 8135 for your requests (`… channel` sets this channel's; "
                            "`store clear` forgets it)."),
    ("/walmart account", "Save your own Retail Link login (stored encrypted); "
                         "`account default` goes back to the team's."),
    ("/walmart logout", "Sign out now and wipe the saved session."),
)


def help_message(idle_minutes: int, unknown: str | None = None) -> Message:
    lines = [f"`{usage}` — {text.format(idle=idle_minutes)}" for usage, text in HELP_LINES]
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f":thinking_face: I don't know `{escape(unknown)}`. "
                              "Here is what I can do:"))
    blocks.append(section("*Walmart EDRs from Retail Link*\n" + "\n".join(lines)))
    blocks.append(context(
        "Kinds: `core` (6-hour demos), `juicer`, `digital`, `freeosk`, `other`, `all` (default). "
        "Dates: `2024-10-05`, `10/05`, `today`, `tomorrow`, a weekday like `sat`. "
        "Cancelled events are left out."))
    return message("walmart-bot help: /walmart login · edr <date> [kind] · status · logout",
                   blocks)


def error_message(text: str, error_id: str | None = None) -> Message:
    tail = f"\n_Error id `{error_id}` — quote it when asking for help._" if error_id else ""
    return message(f":warning: {text}", [section(f":warning: {escape(text)}{tail}")])


def ok_message(text: str) -> Message:
    return message(f":white_check_mark: {text}", [section(f":white_check_mark: {text}")])


def sign_in_needed(reason: str) -> Message:
    return message(reason, [
        section(f":lock: {escape(reason)}"),
        actions(button("Sign in to Retail Link", SIGN_IN, style="primary")),
    ])


def store_message(store: int | None, source: str) -> Message:
    if store is None:
        return message("No store set. Use `/walmart store 8135`.", [section(
            ":shopping_trolley: No store is set for you, this channel or the bot. "
            "Set yours with `/walmart store 8135`.")])
    return message(f"Store {store} ({source}).",
                   [section(f":shopping_trolley: Requests use *store {store}* ({source}).")])


def status_message(signed_in: bool, time_left: timedelta | None, store: int | None,
                   store_source: str, account: str | None, ended_reason: str | None) -> Message:
    if signed_in:
        state = (f":large_green_circle: Signed in to Retail Link — *{_minutes(time_left)}* left "
                 "(every use restarts the clock).")
        buttons = [button("Stay signed in", STAY_SIGNED_IN), button("Sign out", SIGN_OUT)]
    else:
        why = f" ({escape(ended_reason)})" if ended_reason else ""
        state = f":white_circle: Not signed in{why}."
        buttons = [button("Sign in", SIGN_IN, style="primary")]
    store_line = f"Store *{store}* ({store_source})" if store else "No store set"
    who = f" · account {escape(account)}" if account else ""
    return message(state, [section(state), context(f"{store_line}{who}"), actions(*buttons)])


# --- the sign-in modal ----------------------------------------------------------------------------

LoginPhase = Literal["sending", "code", "verifying", "signed_in", "failed"]


def login_view(phase: LoginPhase, *, note: str | None = None, username: str | None = None,
               minutes: int = 10, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """One modal for the whole sign-in; the same block ids keep the typed code across updates."""
    who = f" as *{escape(username)}*" if username else ""
    blocks: list[Block]
    view: dict[str, Any] = {
        "type": "modal", "callback_id": LOGIN_VIEW, "title": _plain("Retail Link sign-in", 24),
        "close": _plain("Close", 24), "private_metadata": json.dumps(metadata or {}),
    }
    if phase == "sending":
        blocks = [section(f":hourglass_flowing_sand: Signing in{who} and asking Walmart to text "
                          "you a code…")]
    elif phase == "code":
        blocks = [section(f":iphone: Code sent — enter the 6 digits Walmart texted you{who}.")]
        if note:
            blocks.append(section(f":warning: {escape(note)}"))
        blocks.append({
            "type": "input", "block_id": CODE_BLOCK,
            "label": _plain("SMS code", 2000),
            "element": {"type": "plain_text_input", "action_id": CODE_ACTION,
                        "min_length": 6, "max_length": 12,
                        "placeholder": _plain("6 digits, e.g. 482913", 150)},
        })
        view["submit"] = _plain("Verify", 24)
    elif phase == "verifying":
        blocks = [section(":hourglass_flowing_sand: Checking the code with Walmart…")]
    elif phase == "signed_in":
        blocks = [section(f":white_check_mark: Signed in to Retail Link{who}. The session stays "
                          f"open until {minutes} minutes without use; every request restarts "
                          "the clock.")]
        if note:
            blocks.append(context(escape(note)))
        blocks.append(context("Try `/walmart edr today core`."))
        view["close"] = _plain("Done", 24)
    else:
        blocks = [section(f":x: {escape(note or 'Signing in failed.')}"),
                  context("Run `/walmart login` to try again.")]
    view["blocks"] = blocks
    return view


def account_view(username: str | None = None) -> dict[str, Any]:
    def field(block_id: str, label: str, hint: str, initial: str | None = None) -> Block:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id}
        if initial:
            element["initial_value"] = initial
        return {"type": "input", "block_id": block_id, "label": _plain(label, 2000),
                "hint": _plain(hint, 2000), "element": element}

    return {
        "type": "modal", "callback_id": ACCOUNT_VIEW, "title": _plain("Your Retail Link login", 24),
        "submit": _plain("Save", 24), "close": _plain("Cancel", 24),
        "blocks": [
            section("Save your own Retail Link login. It is stored encrypted and never shown "
                    "again; `/walmart account default` switches back to the team's account."),
            field("username", "Retail Link user name", "e.g. jdoe@example.com", username),
            field("password", "Password", "Slack shows what you type here; it is encrypted "
                                          "as soon as you save."),
            field("credid", "MFA credential id", "The 10–12 digit `credid` of your phone "
                                                 "(see the README)."),
        ],
    }


# --- EDR batches ----------------------------------------------------------------------------------


def batch_label(request: EdrRequest) -> str:
    if request.day is not None:
        return (f"{request.day:%a %b} {request.day.day} · {KIND_TITLES[request.kind]} · "
                f"store {request.store}")
    count = len(request.event_ids)
    ids = ", ".join(str(i) for i in request.event_ids[:3]) + (" …" if count > 3 else "")
    return f"{count} event{'s' if count != 1 else ''} ({ids}) · store {request.store}"


Phase = Literal["listing", "fetching", "uploading", "done", "failed"]


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "▓" * filled + "░" * (width - filled)


def _outcome_lines(outcomes: Sequence[EdrOutcome], prefix: str,
                   budget: int = SECTION_TEXT_MAX - 100) -> str:
    """One line per outcome, as many as fit the section, then "…and N more." (never clipped off)."""
    lines: list[str] = []
    used = 0
    for o in outcomes[:LIST_LINES_MAX]:
        line = (f"{prefix} `{o.event_id}` {escape(_clip(o.name or '', 80))} — "
                f"{escape(_clip(o.reason or '', 300))}")
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
    if len(outcomes) > len(lines):
        lines.append(f"…and {len(outcomes) - len(lines)} more.")
    return "\n".join(lines)


def edr_parent(label: str, phase: Phase, *, done: int = 0, total: int | None = None,
               batch: Batch | None = None, note: str | None = None,
               batch_id: int | None = None, user_id: str | None = None) -> Message:
    """The channel message that owns the thread of PDFs, in each phase of the batch."""
    head = f"*EDRs · {escape(label)}*"
    by = f" · asked by <@{user_id}>" if user_id else ""
    if phase == "listing":
        text = f"EDRs · {label} — finding events…"
        blocks = [section(f"{head} — finding events…"), context(f":hourglass:{by}")]
    elif phase == "fetching":
        count = total or 0
        text = f"EDRs · {label} — fetching {count} event{'s' if count != 1 else ''}…"
        blocks = [section(f"{head} — fetching {count} event{'s' if count != 1 else ''}…"),
                  context(f"`{_bar(done, count)}` {done}/{count}{by}")]
    elif phase == "uploading":
        text = f"EDRs · {label} — uploading {total} PDFs…"
        blocks = [section(f"{head} — uploading {total} PDFs into this thread…"),
                  context(f"`{_bar(1, 1)}`{by}")]
    elif phase == "failed":
        text = f"EDRs · {label} — failed: {note}"
        blocks = [section(f"{head} — :x: {escape(note or 'failed')}"), *_asked_by(by)]
    else:
        assert batch is not None
        return _done(label, head, batch, batch_id, by, note)
    return message(text, blocks)


def _done(label: str, head: str, batch: Batch, batch_id: int | None, by: str,
          note: str | None) -> Message:
    files, failures = batch.files, batch.failures
    skipped = [o for o in batch.outcomes if o.skipped]
    if not batch.outcomes:
        text = f"EDRs · {label} — no matching events."
        blocks = [section(f"{head} — no matching events (cancelled ones are left out)."),
                  *_asked_by(by)]
        return message(text, blocks)
    mark = ":white_check_mark:" if not failures else ":warning:"
    summary = f"{len(files)} PDF{'s' if len(files) != 1 else ''} in the thread"
    if batch.combined is not None:
        summary += " + 1 combined for printing"
    text = f"EDRs · {label} — {summary}" + (f", {len(failures)} failed" if failures else "")
    blocks: list[Block] = [section(f"{head} — {mark} {summary}.")]
    if failures:
        blocks.append(section(f"*{len(failures)} failed:*\n" + _outcome_lines(failures, "•")))
    if skipped:
        blocks.append(context(_outcome_lines(skipped, "Skipped")))
    if batch.session_expired:
        blocks.append(section(":lock: Retail Link ended the session during this batch. "
                              "`/walmart login`, then ask again for the missing ones."))
    if note:
        blocks.append(context(escape(note)))
    if batch_id is not None and files:
        blocks.append(actions(button("Share to channel…", SHARE_BATCH, str(batch_id))))
    blocks.extend(_asked_by(by))
    return message(text, blocks[:MESSAGE_BLOCKS_MAX])


def _asked_by(by: str) -> list[Block]:
    # A context element's text must not be empty (Slack answers invalid_blocks).
    return [context(by.lstrip(" ·"))] if by else []


def share_view(batch_id: int, label: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": SHARE_VIEW, "title": _plain("Share EDRs", 24),
        "submit": _plain("Share", 24), "close": _plain("Cancel", 24),
        "private_metadata": json.dumps({"batch_id": batch_id}),
        "blocks": [
            section(f"Share *EDRs · {escape(label)}* to another channel."),
            {"type": "input", "block_id": CHANNEL_BLOCK, "label": _plain("Channel", 2000),
             "element": {"type": "conversations_select", "action_id": CHANNEL_ACTION,
                         "filter": {"include": ["public", "private"],
                                    "exclude_bot_users": True}}},
        ],
    }


@dataclass(frozen=True)
class SharedFile:
    title: str
    permalink: str


def shared_batch(label: str, user_id: str, thread_link: str | None,
                 files: Sequence[SharedFile]) -> Message:
    # files.completeUploadExternal may answer without permalinks; name those files, never `<|…>`.
    lines = [f"• <{f.permalink}|{escape(f.title)}>" if f.permalink else f"• {escape(f.title)}"
             for f in files[:40]]
    if len(files) > 40:
        lines.append(f"…and {len(files) - 40} more in the original thread.")
    origin = f" (<{thread_link}|original thread>)" if thread_link else ""
    return message(f"EDRs · {label} shared by <@{user_id}>", [
        section(f"*EDRs · {escape(label)}* shared by <@{user_id}>{origin}"),
        section("\n".join(lines) or "No files."),
    ])


def invite_needed(channel_id: str, bot_user_id: str | None, dm_fallback: bool) -> Message:
    bot = f"<@{bot_user_id}>" if bot_user_id else "the bot"
    tail = " Your PDFs were sent to you in a direct message." if dm_fallback else ""
    text = (f"I can't post in <#{channel_id}>: it is private and I'm not a member. "
            f"Type `/invite {bot}` there, then ask again.{tail}")
    return message(text, [section(f":wave: {text}")])


# --- session notices (DMs) ------------------------------------------------------------------------

END_REASONS = {
    "expired": "it was idle for {idle} minutes",
    "walmart_expired": "Retail Link ended it",
    "locked": "Retail Link locked the account after too many wrong codes",
    "logout": "you signed out",
    "unreadable": "the bot's encryption key changed",
}


def session_ended(reason: str, idle_minutes: int) -> Message:
    why = END_REASONS.get(reason, "it ended").format(idle=idle_minutes)
    text = f"Your Retail Link session has ended: {why}."
    return message(text, [
        section(f":lock: {text} Nothing more will run on it."),
        actions(button("Sign in again", SIGN_IN, style="primary")),
    ])


def session_expiring(seconds_left: int) -> Message:
    left = f"about {max(1, round(seconds_left / 60))} minute" + ("s" if seconds_left >= 90 else "")
    text = f"Your Retail Link session ends in {left} if it stays idle."
    return message(text, [
        section(f":hourglass_flowing_sand: {text}"),
        actions(button("Stay signed in", STAY_SIGNED_IN, style="primary")),
    ])


# --- App Home -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecentBatch:
    label: str
    status: str
    files_ok: int
    files_failed: int
    link: str | None


def home_view(signed_in: bool, time_left: timedelta | None, store: int | None,
              store_source: str, account: str | None, recent: Sequence[RecentBatch],
              idle_minutes: int) -> dict[str, Any]:
    if signed_in:
        state = f":large_green_circle: *Signed in* — {_minutes(time_left)} left"
        buttons = [button("Stay signed in", STAY_SIGNED_IN, style="primary"),
                   button("Sign out", SIGN_OUT)]
    else:
        state = ":white_circle: *Not signed in*"
        buttons = [button("Sign in", SIGN_IN, style="primary")]
    buttons.append(button("Save my Retail Link login", SAVE_ACCOUNT))
    store_line = f"Store *{store}* ({store_source})" if store else "No store set — `/walmart store 8135`"
    blocks: list[Block] = [
        {"type": "header", "text": _plain("Walmart EDRs", 150)},
        section(state), actions(*buttons),
        context(f"{store_line} · account: {escape(account or 'none set')} · sessions end after "
                f"{idle_minutes} min without use"),
        {"type": "divider"},
        section("*Recent batches*"),
    ]
    for item in recent[:10]:
        name = f"<{item.link}|{escape(item.label)}>" if item.link else escape(item.label)
        failed = f", {item.files_failed} failed" if item.files_failed else ""
        blocks.append(section(f"• {name} — {item.status}: {item.files_ok} PDFs{failed}"))
    if not recent:
        blocks.append(context("None yet. Try `/walmart edr today core` in a channel."))
    blocks.append(context("`/walmart help` lists every command."))
    return {"type": "home", "blocks": blocks}
