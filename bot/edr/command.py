"""Parses the words after `edr` — a day and a kind, or event ids — for the terminal and for Slack."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.edr.dates import DATE_HELP, looks_like_date, parse_day
from bot.edr.kinds import Kind, parse_kind

EVENT_ID = re.compile(r"^\d{5,9}$")
MAX_EVENT_IDS = 200
USAGE = f"edr <date> [kind]  or  edr <event id> [<event id> …]   (dates: {DATE_HELP})"


class BadEdrArguments(ValueError):
    """The words do not name a day or event ids; the message says what was wrong."""


@dataclass(frozen=True)
class EdrTarget:
    day: date | None
    kind: Kind
    event_ids: tuple[int, ...]


def parse_edr_words(words: Sequence[str], today: date) -> EdrTarget:
    """`["2024-10-05", "core"]` → a day and kind; `["548021", "548104"]` → event ids."""
    words = [w.strip(",") for w in words if w.strip(",")]
    if not words:
        raise BadEdrArguments(f"Say which day or which events. Usage: {USAGE}")
    if looks_like_date(words[0]):
        if len(words) > 2:
            raise BadEdrArguments(
                f"Too many words after the date: {' '.join(words[2:])!r}. Usage: {USAGE}"
            )
        try:
            day = parse_day(words[0], today)
            kind = parse_kind(words[1] if len(words) > 1 else None)
        except ValueError as exc:
            raise BadEdrArguments(str(exc)) from None
        return EdrTarget(day, kind, ())
    bad = [w for w in words if not EVENT_ID.match(w)]
    if bad:
        raise BadEdrArguments(
            f"{bad[0]!r} is neither a date nor an event id (5–9 digits). Usage: {USAGE}"
        )
    ids = tuple(dict.fromkeys(int(w) for w in words))
    if len(ids) > MAX_EVENT_IDS:
        raise BadEdrArguments(f"At most {MAX_EVENT_IDS} event ids at once.")
    return EdrTarget(None, Kind.ALL, ids)
