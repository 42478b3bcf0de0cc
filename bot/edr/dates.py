"""Turns what people type for a day (`2024-10-05`, `10/05`, `today`, `sat`) into a date."""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATE_HELP = "YYYY-MM-DD, MM/DD, today, tomorrow, yesterday or a weekday name"

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")


class BadDate(ValueError):
    def __init__(self, text: str, why: str = "") -> None:
        detail = f" ({why})" if why else ""
        super().__init__(f"Can't read {text!r} as a date{detail}. Use {DATE_HELP}.")


def looks_like_date(text: str) -> bool:
    """Cheap test used to tell `edr <date> [kind]` from `edr <id> …`."""
    word = text.strip().lower()
    return bool(
        _ISO.match(word) or _MONTH_DAY.match(word)
        or word in {"today", "tomorrow", "yesterday"}
        or any(day.startswith(word) and len(word) >= 3 for day in WEEKDAYS)
    )


def parse_day(text: str, today: date) -> date:
    """Read a day relative to `today`.

    `MM/DD` without a year means the nearest such day (so `12/30` typed on Jan 2 is last
    week, and `1/3` typed on Dec 30 is next week). A weekday name means its next occurrence,
    today included: demo paperwork is printed for today or the days ahead.
    """
    word = text.strip().lower()
    if word in {"today", "tomorrow", "yesterday"}:
        return today + timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}[word])
    for index, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return today + timedelta(days=(index - today.weekday()) % 7)
    if match := _ISO.match(word):
        return _make(text, int(match[1]), int(match[2]), int(match[3]))
    if match := _MONTH_DAY.match(word):
        month, day, year = int(match[1]), int(match[2]), match[3]
        if year:
            return _make(text, int(year) + (2000 if len(year) == 2 else 0), month, day)
        candidates = [
            d for y in (today.year - 1, today.year, today.year + 1)
            if (d := _try(y, month, day)) is not None
        ]
        if not candidates:
            raise BadDate(text, "no such day")
        return min(candidates, key=lambda d: abs((d - today).days))
    raise BadDate(text)


def _try(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _make(text: str, year: int, month: int, day: int) -> date:
    result = _try(year, month, day)
    if result is None:
        raise BadDate(text, "no such day")
    return result
