"""Parses `/walmart …` text into a typed command: match first, run after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.edr.command import BadEdrArguments, EdrTarget, parse_edr_words

Scope = Literal["user", "channel"]


@dataclass(frozen=True)
class Help:
    unknown: str | None = None  # the word we did not understand, if any


@dataclass(frozen=True)
class Login:
    pass


@dataclass(frozen=True)
class Logout:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Account:
    use_default: bool = False


@dataclass(frozen=True)
class ShowStore:
    pass


@dataclass(frozen=True)
class SetStore:
    store: int | None  # None clears the preference
    scope: Scope


@dataclass(frozen=True)
class Edr:
    target: EdrTarget


@dataclass(frozen=True)
class BadInput:
    message: str


Command = Help | Login | Logout | Status | Account | ShowStore | SetStore | Edr | BadInput

_ALIASES = {
    "login": Login(), "signin": Login(), "sign-in": Login(), "logon": Login(),
    "logout": Logout(), "signout": Logout(), "sign-out": Logout(), "logoff": Logout(),
    "status": Status(), "whoami": Status(),
    "help": Help(), "?": Help(),
}
STORE_USAGE = "`/walmart store 8135` (yours), `/walmart store 8135 channel` (this channel's), " \
              "`/walmart store clear [channel]`"


def parse_command(text: str, today: date) -> Command:
    words = text.split()
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head in _ALIASES and not rest:
        return _ALIASES[head]
    if head in ("edr", "edrs"):
        try:
            return Edr(parse_edr_words(rest, today))
        except BadEdrArguments as exc:
            return BadInput(str(exc))
    if head == "store":
        return _store(rest)
    if head == "account":
        if not rest:
            return Account()
        if [w.lower() for w in rest] == ["default"]:
            return Account(use_default=True)
        return BadInput("Use `/walmart account` to save your own Retail Link login, or "
                        "`/walmart account default` to use the team's.")
    if head in _ALIASES:
        return BadInput(f"`{head}` takes no arguments.")
    return Help(unknown=words[0][:40])


def _store(words: list[str]) -> Command:
    lowered = [w.lower() for w in words]
    if not lowered:
        return ShowStore()
    scope: Scope = "user"
    if lowered[-1] == "channel":
        scope, lowered = "channel", lowered[:-1]
    if lowered == ["clear"]:
        return SetStore(None, scope)
    if len(lowered) == 1 and lowered[0].isdigit() and 1 <= int(lowered[0]) <= 99999:
        return SetStore(int(lowered[0]), scope)
    return BadInput(f"A store is a club number like 8135. Use {STORE_USAGE}.")
