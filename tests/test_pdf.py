"""EdrReport → PDF: the printed form read back with pypdf, the fonts' fallbacks, batches."""

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.edr.fonts import FONT, drawable, legible, wrap
from bot.edr.pdf import render_combined, render_edr
from bot.edr.report import ITEMS_NOT_PROVIDED, EdrReport, build_report
from bot.retail_link.models import Edr

FIXTURES = Path(__file__).resolve().parents[1] / "bot" / "retail_link" / "sandbox_data" / "edr"
EVENT_IDS = sorted(int(path.stem) for path in FIXTURES.glob("*.json"))
STORE = 8135
PRINTED_AT = datetime(2024, 10, 5, 7, 42)
SIGNATURE_LABELS = (
    "Scheduled Employee:", "Employee Signature:", "Date Performed:", "Supervisor Signature:",
)


def payload(event_id: int) -> dict:
    return json.loads((FIXTURES / f"{event_id}.json").read_text())


def report_for(data: dict, store: int | None = STORE) -> EdrReport:
    return build_report(Edr.parse(data), store, printed_at=PRINTED_AT)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pages_text(pdf: bytes) -> list[str]:
    """Whitespace-normalised text of each page (wrapping splits lines anywhere)."""
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def rendered() -> dict[int, tuple[EdrReport, bytes, list[str]]]:
    out = {}
    for event_id in EVENT_IDS:
        report = report_for(payload(event_id))
        pdf = render_edr(report)
        out[event_id] = (report, pdf, pages_text(pdf))
    return out


def render_text(data: dict) -> str:
    return " ".join(pages_text(render_edr(report_for(data))))


# --- every fixture -------------------------------------------------------------------------------
@pytest.mark.parametrize("event_id", EVENT_IDS)
def test_every_fixture_prints_the_whole_form(rendered, event_id):
    report, pdf, pages = rendered[event_id]
    text = " ".join(pages)
    assert pdf.startswith(b"%PDF-")
    assert "EVENT DETAIL REPORT" in pages[0]
    assert str(event_id) in pages[0]
    for item in report.items or ():
        assert squash(legible(item.description)) in text
    assert "MUST BE SIGNED AND DATED" in text
    for label in SIGNATURE_LABELS:
        assert label in text
    assert "Printed: 10-05-2024 at 07:42 AM" in text
    assert "None" not in text


@pytest.mark.parametrize("event_id", EVENT_IDS)
def test_every_page_says_page_n_of_m(rendered, event_id):
    pages = rendered[event_id][2]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_pages_are_us_letter(rendered):
    page = PdfReader(io.BytesIO(rendered[547812][1])).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)


def test_same_report_renders_the_same_bytes(rendered):
    report, pdf, _ = rendered[547955]
    assert render_edr(report) == pdf


# --- long item lists ------------------------------------------------------------------------------
def test_45_items_flow_over_pages_with_the_header_repeated(rendered):
    _, _, pages = rendered[548390]
    assert len(pages) > 1
    for text in pages:
        assert "Item Number Description Category" in text
    signed = [text for text in pages if "MUST BE SIGNED AND DATED" in text]
    assert len(signed) == 1
    assert all(label in signed[0] for label in SIGNATURE_LABELS)  # kept together


@pytest.mark.parametrize("count", range(14, 34))
def test_the_signature_block_is_never_split_across_pages(count):
    data = payload(548390)
    data["itemDetails"] = data["itemDetails"][:count]
    pages = pages_text(render_edr(report_for(data)))
    signed = [text for text in pages if "MUST BE SIGNED AND DATED" in text]
    assert len(signed) == 1
    assert all(label in signed[0] for label in SIGNATURE_LABELS)


def test_the_featured_item_is_marked_and_explained(rendered):
    _, _, pages = rendered[548390]
    assert "★ FEATURED (bold, shaded row) = the event's featured item: 980900409" in pages[0]
    assert "★ 980900409 FEATURED HT HOLIDAY SAMPLER GIFT BOX" in pages[-1]
    assert "★ 980900101" not in pages[0]


def test_categories_print_the_table_value_and_walmarts_differing_text(rendered):
    text = rendered[548345][2][0]
    assert "PLANNING SOLUTIONS EDR: SNACKS" in text


# --- unicode ---------------------------------------------------------------------------------------
def test_unicode_descriptions_render_or_degrade_legibly(rendered):
    _, _, pages = rendered[548466]
    assert len(pages) == 1
    text = pages[0]
    for kept in ("™", "é", "ñ", "×", "–", "—", "°", "Å", "Ö", "☕"):  # all in DejaVu Sans
        assert kept in text
    assert "Jalapeño Crème Brûlée" in text  # the event name
    assert "Serve at 38–40 °F" in text  # the end of the ~200-character description wrapped
    assert "抹茶" not in text
    assert "MoCha MATCHA MOCHI 18CT — ÉDITION SPÉCIALE" in text


def test_characters_the_font_lacks_become_ascii_or_code_point_tokens():
    data = payload(547812)
    data["itemDetails"][0]["itemDesc"] = "GRIN 😀 КОФЕ Ωμέγα 茶\ue000 X\u0007Y"
    text = render_text(data)
    assert "GRIN :grinning: КОФЕ Ωμέγα Cha[U+E000] X[U+0007]Y" in text
    assert "😀" not in text


def test_legible_text_is_always_drawable():
    sample = "".join(map(chr, [*range(0x20, 0x3000, 7), *range(0x1F300, 0x1F700, 13)]))
    result = legible(sample + "\ud83d\u200d\u0301")
    assert drawable(result)
    assert legible("plain ASCII") == "plain ASCII"


def test_markup_characters_print_literally():
    data = payload(547812)
    data["demoName"] = "Salt & Pepper <b>bold</b> > less"
    data["itemDetails"][0]["itemDesc"] = "A&B <i>NOT ITALIC</i> <br/> &amp;"
    text = render_text(data)
    assert "Salt & Pepper <b>bold</b> > less" in text
    assert "A&B <i>NOT ITALIC</i> <br/> &amp;" in text


def test_ampersand_in_a_fixture_description(rendered):
    assert "KW SWEET & SALTY MIX 24CT" in rendered[548345][2][0]


# --- wrapping -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Jalapeño™ Crème Brûlée 12-ct Family Size Variety Pack with Caramelized Turbinado Sugar",
    "X" * 120,
    "SHORT " + "Y" * 90 + " TAIL",
    "",
])
def test_wrapped_lines_never_exceed_the_width(text):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines = wrap(text, FONT, 9, 100)
    assert all(stringWidth(line, FONT, 9) <= 100 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_very_long_event_name_wraps_instead_of_overflowing():
    data = payload(547812)
    data["demoName"] = " ".join(["Extraordinarily-long-event-name"] * 12)
    text = render_text(data)
    assert text.count("Extraordinarily-long-event-name") == 12


def test_absurdly_long_text_is_cut_rather_than_failing_the_render():
    data = payload(547812)
    data["demoName"] = "NAME " * 1000
    data["itemDetails"][0]["itemDesc"] = "WORD " * 1500
    text = render_text(data)
    assert text.count("(cut: too long to print)") == 2
    assert "MUST BE SIGNED AND DATED" in text


# --- missing and odd data ----------------------------------------------------------------------
def test_items_null_prints_the_not_provided_note(rendered):
    text = rendered[548601][2][0]
    assert ITEMS_NOT_PROVIDED in text
    assert "Item Number" not in text


def test_empty_items_print_no_items():
    data = payload(547812) | {"itemDetails": []}
    text = render_text(data)
    assert "No items" in text
    assert "Item Number" not in text


def test_nulls_never_print_none(rendered):
    text = rendered[548512][2][0]
    assert "None" not in text
    assert "N/A" in text  # Locked, and the second item's description and category


def test_cancelled_events_carry_a_banner(rendered):
    assert "CANCELLED Status at Club 8135: CANCELLED" in rendered[548150][2][0]
    assert "CANCELLED" not in rendered[547812][2][0]


def test_status_is_the_stores_and_says_so(rendered):
    assert "Status at Club 8135" in rendered[547955][2][0]
    text = " ".join(pages_text(render_edr(report_for(payload(547955), store=None))))
    assert "Event Status" in text and "Status at Club" not in text


def test_rolled_date_is_printed_as_the_scheduled_day():
    data = payload(547955)
    data["clubDetails"] = [c | {"scheduledDate": "2024-10-06"} if c["storeNbr"] == STORE else c
                           for c in data["clubDetails"]]
    text = render_text(data)
    assert "Event Scheduled On 10-06-2024 (moved from 10-05-2024)" in text


def test_a_scheduled_employee_is_printed():
    report = build_report(Edr.parse(payload(547812)), STORE, employee="Ana Díaz")
    assert "Scheduled Employee: Ana Díaz" in " ".join(pages_text(render_edr(report)))


def test_a_very_long_employee_name_stays_on_its_line():
    report = build_report(Edr.parse(payload(547812)), STORE, employee="Maria " * 40)
    text = " ".join(pages_text(render_edr(report)))
    assert re.search(r"Scheduled Employee: (Maria )+… Employee Signature:", text)


def test_without_a_print_time_the_render_time_is_stamped():
    report = build_report(Edr.parse(payload(547812)), STORE)
    text = pages_text(render_edr(report))[0]
    assert re.search(r"Printed: \d\d-\d\d-\d{4} at \d\d:\d\d [AP]M", text)


# --- batches ---------------------------------------------------------------------------------------
def test_combined_pdf_has_every_page_in_order(rendered):
    order = [548390, 547812, 548601, 548466]
    pdfs = [rendered[event_id][1] for event_id in order]
    combined = pages_text(render_combined(pdfs))
    expected = [text for event_id in order for text in rendered[event_id][2]]
    assert len(combined) == sum(len(rendered[e][2]) for e in order) == len(expected)
    assert combined == expected


def test_combined_pdf_renders_reports_too(rendered):
    reports = [rendered[547955][0], rendered[548150][0]]
    pages = pages_text(render_combined(reports))
    assert len(pages) == 2
    assert "547955" in pages[0] and "548150" in pages[1]


def test_combining_nothing_is_an_error():
    with pytest.raises(ValueError):
        render_combined([])
