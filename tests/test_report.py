"""EDR payload → EdrReport text, and the file name of its PDF."""

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.edr.report import (
    ITEMS_NOT_PROVIDED,
    NO_ITEMS,
    EdrReport,
    build_report,
    display_date,
    edr_filename,
    slugify,
)
from bot.retail_link.models import Edr

FIXTURES = Path(__file__).resolve().parents[1] / "bot" / "retail_link" / "sandbox_data" / "edr"
EVENT_IDS = sorted(int(path.stem) for path in FIXTURES.glob("*.json"))
STORE = 8135


def payload(event_id: int) -> dict:
    return json.loads((FIXTURES / f"{event_id}.json").read_text())


def report_for(event_id: int, store: int | None = STORE, **changes) -> EdrReport:
    data = payload(event_id) | changes
    return build_report(Edr.parse(data), store)


def with_club(event_id: int, **club_changes) -> dict:
    data = payload(event_id)
    data["clubDetails"] = [
        club | club_changes if club["storeNbr"] == STORE else club for club in data["clubDetails"]
    ]
    return data


def all_text(report: EdrReport) -> list[str]:
    values = [v for v in dataclasses.asdict(report).values() if isinstance(v, str)]
    for item in report.items or ():
        values += [v for v in dataclasses.asdict(item).values() if isinstance(v, str)]
    return values


def test_fixtures_are_all_there():
    assert len(EVENT_IDS) == 14


@pytest.mark.parametrize("event_id", EVENT_IDS)
def test_no_printed_value_says_none(event_id):
    texts = all_text(report_for(event_id))
    assert texts
    assert not [text for text in texts if "None" in text]


def test_event_grid_values_are_translated_and_stripped():
    report = report_for(547955)
    assert report.event_number == "547955"
    assert report.event_name == "10.05-Bluecrest-Sourdough Bread/Butter"
    assert report.event_date == "10-05-2024"
    assert report.event_type == "Supplier"
    assert report.status_label == "Status at Club 8135"
    assert report.status == "APPROVED"
    assert report.locked == "NO"
    assert report.scheduled_line == "Event Scheduled On 10-05-2024"
    assert not report.cancelled


def test_locked_event_prints_yes():
    report = report_for(548021)
    assert report.locked == "YES"
    assert report.event_type == "Club Choice Company"


def test_items_keep_edr_order_and_mark_the_featured_one():
    report = report_for(547955)
    assert [row.item_number for row in report.items] == ["990388104", "990388162", "551903"]
    assert [row.featured for row in report.items] == [False, True, False]
    assert report.items[1].description == "BC SOURDOUGH SLICED 2PK"


def test_featured_item_on_the_last_row_is_still_found():
    report = report_for(548390)
    assert len(report.items) == 45
    assert [row.item_number for row in report.items if row.featured] == ["980900409"]
    assert report.items[-1].featured


def test_category_comes_from_the_table_with_walmarts_text_when_it_differs():
    rows = report_for(548345).items
    assert rows[0].category == "PLANNING SOLUTIONS"
    assert rows[0].walmart_category == "SNACKS"


def test_walmarts_category_is_not_repeated_when_only_spelling_differs():
    assert report_for(548301).items[0].category == "COFFEE AND BREAKFAST"
    assert report_for(548301).items[0].walmart_category is None  # "COFFEE-BREAKFAST"
    assert report_for(548230).items[0].walmart_category is None  # "Produce and Floral"


def test_nulls_and_missing_fields_print_not_available():
    report = report_for(548512)
    assert report.locked == "N/A"  # demoLockInd absent: Walmart did not say NO
    first, second = report.items
    assert first.category == "DAIRY"
    assert first.walmart_category is None  # deptDesc null
    assert second.description == "N/A"  # itemDesc ""
    assert second.category == "N/A"  # deptNbr absent


def test_items_null_means_not_provided_not_none():
    report = report_for(548601)
    assert report.items is None
    assert report.items_note == ITEMS_NOT_PROVIDED
    assert "check EMS" in report.items_note


def test_empty_items_say_no_items():
    report = report_for(547812, itemDetails=[])
    assert report.items == ()
    assert report.items_note == NO_ITEMS


def test_items_note_is_absent_when_there_are_items():
    assert report_for(547812).items_note is None


def test_cancelled_at_the_store_is_flagged_with_the_store():
    report = report_for(548150)
    assert report.cancelled
    assert report.status == "CANCELLED"
    assert "Club 8135" in report.cancelled_note


def test_supplier_cancelled_at_the_store_alone_is_cancelled():
    data = with_club(547812, demoStatusCode=200, demoStatusDesc="SUPPLIER-CANCELLED")
    report = build_report(Edr.parse(data), STORE)
    assert report.cancelled
    assert report.status == "SUPPLIER-CANCELLED"


def test_event_level_cancellation_counts_even_when_the_store_looks_approved():
    report = report_for(547812, demoStatusCode=3)
    assert report.status == "APPROVED"  # the store's own status is what is printed
    assert report.cancelled
    assert report.cancelled_note.startswith("Event status: CANCELLED")


def test_nonperformed_is_not_cancelled():
    data = with_club(547812, demoStatusCode=5, demoStatusDesc="NONPERFORMED")
    assert not build_report(Edr.parse(data), STORE).cancelled


def test_status_at_the_store_wins_over_the_event_status():
    data = with_club(547955, demoStatusCode=4, demoStatusDesc="PERFORMED")
    report = build_report(Edr.parse(data), STORE)
    assert report.status == "PERFORMED"
    assert report.status_label == "Status at Club 8135"


def test_without_the_store_the_event_status_is_printed_and_labelled():
    for store in (None, 9999):
        report = report_for(547955, store=store)
        assert report.status_label == "Event Status"
        assert report.status == "APPROVED"
        assert report.scheduled_line is None
        assert report.file_date == "2024-10-05"


def test_a_rolled_store_date_is_the_scheduled_date_and_names_the_file():
    data = with_club(547955, scheduledDate="2024-10-06")
    report = build_report(Edr.parse(data), STORE)
    assert report.event_date == "10-05-2024"
    assert report.scheduled_line == "Event Scheduled On 10-06-2024 (moved from 10-05-2024)"
    assert report.file_date == "2024-10-06"
    assert edr_filename(report).startswith("EDR_2024-10-06_547955_")


def test_a_store_entry_without_a_date_prints_no_scheduled_line():
    report = build_report(Edr.parse(with_club(547955, scheduledDate=None)), STORE)
    assert report.scheduled_line is None
    assert report.file_date == "2024-10-05"


def test_unknown_codes_print_the_code():
    report = report_for(547812, demoClassCode=99, demoStatusCode=77, clubDetails=[])
    assert report.event_type == "Event Type 99"
    assert report.status == "Status 77"


def test_printed_time_and_employee_are_optional_inputs():
    edr = Edr.parse(payload(547812))
    assert build_report(edr, STORE).printed is None
    report = build_report(edr, STORE, employee=" Ana Díaz ",
                          printed_at=datetime(2024, 10, 5, 7, 42))
    assert report.printed == "Printed: 10-05-2024 at 07:42 AM"
    assert report.scheduled_employee == "Ana Díaz"


def test_building_is_pure():
    edr = Edr.parse(payload(548466))
    assert build_report(edr, STORE) == build_report(edr, STORE)


@pytest.mark.parametrize(("event_id", "expected"), [
    (548466, "EDR_2024-10-05_548466_10-05-casa-dorada-jalapeno-creme-brulee.pdf"),
    (547955, "EDR_2024-10-05_547955_10-05-bluecrest-sourdough-bread-butter.pdf"),
    (548390, "EDR_2024-10-06_548390_10-06-harvest-table-holiday-sampler-vari.pdf"),
    (548601, "EDR_2024-10-07_548601_10-07-bluecrest-cinnamon-swirl-loaf.pdf"),
])
def test_file_names(event_id, expected):
    assert edr_filename(report_for(event_id)) == expected


def test_file_name_without_any_date_is_undated():
    report = report_for(547812, demoDate=None, clubDetails=[])
    assert edr_filename(report) == "EDR_undated_547812_10-05-northwind-chicken-strips.pdf"


@pytest.mark.parametrize(("name", "slug"), [
    ("抹茶 Matcha ☕ Café", "mocha-matcha-coffee-cafe"),
    ("  --Hello,   World!--  ", "hello-world"),
    ("", "untitled"),
    ("\ue000", "untitled"),  # nothing anyascii can spell
    ("A" * 39 + " B", "a" * 39),  # cut at 40, then the dangling '-' trimmed
])
def test_slugs_are_ascii_lower_case_and_short(name, slug):
    result = slugify(name)
    assert result == slug
    assert len(result) <= 40 and result.isascii()


def test_display_date_converts_iso_and_passes_other_text_through():
    assert display_date("2024-10-05") == "10-05-2024"
    assert display_date("2024-10-05T00:00:00Z") == "10-05-2024"
    assert display_date("next week") == "next week"
    assert display_date(None) == "N/A"
