"""Pure parsing of what people type: days, kinds, `edr` arguments, and the kind rules."""

from __future__ import annotations

from datetime import date

import pytest

from bot.edr.command import BadEdrArguments, parse_edr_words
from bot.edr.dates import BadDate, parse_day
from bot.edr.kinds import Kind, NoSupervisorEvents, UnknownKind, classify, parse_kind, select
from bot.retail_link.models import ListedEvent

WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-10-05", date(2024, 10, 5)),
    ("today", WEDNESDAY),
    ("Tomorrow", date(2026, 12, 3)),
    ("yesterday", date(2026, 12, 1)),
    ("wed", WEDNESDAY),  # a weekday means its next occurrence, today included
    ("saturday", date(2026, 12, 5)),
    ("Mon", date(2026, 12, 7)),
    ("12/05", date(2026, 12, 5)),
    ("1/3", date(2027, 1, 3)),  # nearest such day: next month, not eleven months ago
    ("11/30", date(2026, 11, 30)),
    ("10/05/2024", date(2024, 10, 5)),
    ("10/05/24", date(2024, 10, 5)),
])
def test_days_people_type(text: str, expected: date) -> None:
    assert parse_day(text, WEDNESDAY) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "13/01", "soon", "2024-13-01", "we"])
def test_impossible_days_are_refused(text: str) -> None:
    with pytest.raises(BadDate):
        parse_day(text, WEDNESDAY)


def test_feb_29_without_year_picks_the_nearest_leap_day_available() -> None:
    assert parse_day("2/29", date(2028, 2, 1)) == date(2028, 2, 29)
    with pytest.raises(BadDate):
        parse_day("2/29", WEDNESDAY)  # no leap day in 2025-2027


@pytest.mark.parametrize(("text", "kind"), [
    (None, Kind.ALL), ("", Kind.ALL), ("core", Kind.CORE), ("Cores", Kind.CORE),
    ("juicers", Kind.JUICER), ("DIGITAL", Kind.DIGITAL), ("freeosk", Kind.FREEOSK),
    ("other", Kind.OTHER), ("supervisor", Kind.SUPERVISOR), ("all", Kind.ALL),
])
def test_kind_names(text: str | None, kind: Kind) -> None:
    assert parse_kind(text) is kind


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(UnknownKind, match="core, juicer"):
        parse_kind("demo")


@pytest.mark.parametrize(("bill", "etype", "kind"), [
    ("6 Hour", "Club Choice Company", Kind.CORE),
    ("6 Hour", "Digital Supplier", Kind.CORE),  # bill type decides first: a 6-hour demo is core
    ("8 Hour", "Production", Kind.JUICER),
    ("Digital Cart", "Digital Supplier", Kind.DIGITAL),
    ("Digital", "Supplier", Kind.DIGITAL),
    ("Kiosk Service", "FREEOSK (Kiosk)", Kind.FREEOSK),
    (None, "Freeosk Tablet Supplier", Kind.FREEOSK),
    ("Service", "Vendor Performed", Kind.OTHER),
    ("Product Charge Only", "Demo Supplies", Kind.OTHER),
    (None, None, Kind.OTHER),
])
def test_kind_rules(bill: str | None, etype: str | None, kind: Kind) -> None:
    assert classify(bill, etype) is kind


def _event(event_id: int, bill: str, status: str = "APPROVED") -> ListedEvent:
    return ListedEvent(event_id, "x", "2024-10-05", "Supplier", bill, status, False)


def test_select_drops_cancelled_unless_asked_and_refuses_supervisor() -> None:
    events = [_event(1, "6 Hour"), _event(2, "6 Hour", "CANCELLED"), _event(3, "8 Hour"),
              _event(4, "6 Hour", "SUPPLIER-CANCELLED")]
    assert [e.event_id for e in select(events, Kind.CORE)] == [1]
    assert [e.event_id for e in select(events, Kind.CORE, include_cancelled=True)] == [1, 2, 4]
    assert [e.event_id for e in select(events, Kind.ALL)] == [1, 3]
    with pytest.raises(NoSupervisorEvents):
        select(events, Kind.SUPERVISOR)


def test_edr_words_day_and_kind() -> None:
    target = parse_edr_words(["2024-10-05", "core"], WEDNESDAY)
    assert (target.day, target.kind, target.event_ids) == (date(2024, 10, 5), Kind.CORE, ())


def test_edr_words_ids_deduplicated_in_order() -> None:
    target = parse_edr_words(["548021,", "548104", "548021"], WEDNESDAY)
    assert target.day is None and target.event_ids == (548021, 548104)


@pytest.mark.parametrize("words", [[], ["548021", "core"], ["today", "core", "x"], ["12"]])
def test_edr_words_refused(words: list[str]) -> None:
    with pytest.raises(BadEdrArguments):
        parse_edr_words(words, WEDNESDAY)
