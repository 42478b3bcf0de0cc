"""EdrReport → the printable Event Detail Report PDF (EDR_FORM.md §2, defects fixed), and batches."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from bot.edr.fonts import FONT, FONT_BOLD, legible, wrap
from bot.edr.report import EdrReport, ItemRow, printed_text

# --- page geometry (EDR_FORM.md §1–2) ----------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = LETTER  # 612 × 792 pt
MARGIN = 72
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN  # 468
GRID_A_WIDTHS = (FRAME_WIDTH * 0.25, FRAME_WIDTH * 0.75)  # Event Number · Event Name
GRID_B_WIDTHS = (FRAME_WIDTH / 4,) * 4  # Event Date · Event Type · Status · Locked
ITEM_WIDTHS = (1.2 * inch, 3.1 * inch, 2.2 * inch)  # Item Number · Description · Category
SIGNATURE_WIDTHS = (2.0 * inch, 4.0 * inch)
SIGNATURE_ROW_HEIGHT = 0.35 * inch
CELL_SIDE_PADDING = 6  # ReportLab's default left/right cell padding; text is wrapped inside it
GRID_PADDING = 8
ITEM_PADDING = 6
BOX_PADDING = 10  # cancelled banner and items note
FOOTER_Y = 50
FOOTER_RIGHT_X = PAGE_WIDTH - MARGIN  # 540
CAP_HEIGHT = 0.73  # DejaVu Sans, in em: centres capitals in a line box
FEATURED_MARK = "★"  # U+2605, in both DejaVu faces
# A table row cannot break across pages: a cell taller than a page would stop the render.
MAX_CELL_LINES = 20
CUT_MARK = "… (cut: too long to print)"

# --- colours -----------------------------------------------------------------------------------
DARK_BLUE = colors.HexColor("#2E4C73")
LIGHT_BLUE = colors.HexColor("#1B9BD8")
FEATURED_FILL = colors.HexColor("#FFF2B3")
CANCELLED_RED = colors.HexColor("#C62828")
NOTE_FILL = colors.HexColor("#FDECEA")
ASIDE_GREY = colors.HexColor("#555555")
FOOTER_GREY = colors.HexColor("#666666")
RULE = colors.black

# --- text styles: the one place fonts, sizes and colours are chosen ---------------------------
_BASE = ParagraphStyle("edr", fontName=FONT, fontSize=10, leading=12, textColor=colors.black)


def _style(name: str, parent: ParagraphStyle = _BASE, **overrides: Any) -> ParagraphStyle:
    return ParagraphStyle(name, parent, **overrides)


TITLE = _style("title", fontName=FONT_BOLD, fontSize=20, leading=24, alignment=TA_CENTER,
               textColor=DARK_BLUE)
SCHEDULED = _style("scheduled", fontName=FONT_BOLD, fontSize=12, leading=14.4,
                   alignment=TA_CENTER)
BANNER = _style("banner", fontName=FONT_BOLD, fontSize=22, leading=26, alignment=TA_CENTER,
                textColor=colors.white)
BANNER_NOTE = _style("bannerNote", BANNER, fontSize=10, leading=13)
GRID_A_HEAD = _style("gridAHead", fontName=FONT_BOLD, fontSize=11, leading=13.2,
                     textColor=colors.white)
GRID_A_VALUE = _style("gridAValue", fontSize=11, leading=13.2)
GRID_B_HEAD = _style("gridBHead", fontName=FONT_BOLD, textColor=colors.white,
                     alignment=TA_CENTER)
GRID_B_VALUE = _style("gridBValue")
GRID_B_LOCKED = _style("gridBLocked", fontName=FONT_BOLD)
ITEM_HEAD = _style("itemHead", fontName=FONT_BOLD, fontSize=9, leading=11,
                   textColor=colors.white, alignment=TA_CENTER)
ITEM_CENTRED = _style("itemCentred", fontSize=9, leading=11, alignment=TA_CENTER)
ITEM_TEXT = _style("itemText", fontSize=9, leading=11, alignment=TA_LEFT)
ITEM_FEATURED_CENTRED = _style("itemFeaturedCentred", ITEM_CENTRED, fontName=FONT_BOLD)
ITEM_FEATURED_TEXT = _style("itemFeaturedText", ITEM_TEXT, fontName=FONT_BOLD)
ITEM_ASIDE = _style("itemAside", fontSize=7, leading=9, alignment=TA_CENTER,
                    textColor=ASIDE_GREY)
LEGEND = _style("legend", fontSize=9, leading=11)
NOTE = _style("note", fontName=FONT_BOLD, fontSize=11, leading=14, alignment=TA_CENTER)
SIGN_HEADING = _style("signHeading", fontName=FONT_BOLD, fontSize=14, leading=17,
                      alignment=TA_CENTER)
SIGN_LABEL = _style("signLabel", fontName=FONT_BOLD)
SIGN_VALUE = _style("signValue")
FOOTER = _style("footer", fontSize=9, textColor=FOOTER_GREY)

_ALIGN = {TA_LEFT: "LEFT", TA_CENTER: "CENTER"}
Cell = tuple[int, int]


def _text(first: Cell, last: Cell, style: ParagraphStyle) -> list[tuple[Any, ...]]:
    """Table commands that give plain-string cells the look of `style`."""
    return [
        ("FONTNAME", first, last, style.fontName),
        ("FONTSIZE", first, last, style.fontSize),
        ("LEADING", first, last, style.leading),
        ("TEXTCOLOR", first, last, style.textColor),
        ("ALIGN", first, last, _ALIGN[style.alignment]),
    ]


def _padding(size: float) -> list[tuple[Any, ...]]:
    return [("TOPPADDING", (0, 0), (-1, -1), size), ("BOTTOMPADDING", (0, 0), (-1, -1), size)]


_GRID = [("GRID", (0, 0), (-1, -1), 1, RULE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
_GRID_A_STYLE = TableStyle([
    *_GRID, *_padding(GRID_PADDING), ("BACKGROUND", (0, 0), (-1, 0), DARK_BLUE),
    *_text((0, 0), (-1, 0), GRID_A_HEAD), *_text((0, 1), (-1, 1), GRID_A_VALUE),
])
_GRID_B_STYLE = TableStyle([
    *_GRID, *_padding(GRID_PADDING), ("BACKGROUND", (0, 0), (-1, 0), DARK_BLUE),
    *_text((0, 0), (-1, 0), GRID_B_HEAD), *_text((0, 1), (-1, 1), GRID_B_VALUE),
    *_text((3, 1), (3, 1), GRID_B_LOCKED),
])
_ITEM_COMMANDS = [
    *_GRID, *_padding(ITEM_PADDING), ("BACKGROUND", (0, 0), (-1, 0), LIGHT_BLUE),
    *_text((0, 0), (-1, 0), ITEM_HEAD), *_text((0, 1), (0, -1), ITEM_CENTRED),
    *_text((1, 1), (1, -1), ITEM_TEXT), *_text((2, 1), (2, -1), ITEM_CENTRED),
]
_BANNER_STYLE = TableStyle([
    *_padding(BOX_PADDING), ("BACKGROUND", (0, 0), (-1, -1), CANCELLED_RED),
])
_NOTE_STYLE = TableStyle([
    *_padding(BOX_PADDING), ("BACKGROUND", (0, 0), (-1, -1), NOTE_FILL),
    ("BOX", (0, 0), (-1, -1), 1, RULE), *_text((0, 0), (0, 0), NOTE),
])
_SIGNATURE_COMMANDS = [
    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
    *_text((0, 0), (0, -1), SIGN_LABEL), *_text((1, 0), (1, -1), SIGN_VALUE),
]


def render_edr(report: EdrReport) -> bytes:
    """The printable form for one event: US Letter, print time and "Page N of M" on every page."""
    buffer = io.BytesIO()
    # invariant: the same report gives the same bytes (no creation time or random file id);
    # no page compression: zlib costs more time than the few KB it saves on a one-page form.
    doc = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN, title=f"Event Detail Report {report.event_number}",
        author="walmart-bot", invariant=1, pageCompression=0,
    )
    footer = (legible(f"Event {report.event_number}"),
              legible(report.printed or printed_text(datetime.now())))
    doc.build(_story(report), canvasmaker=functools.partial(_NumberedCanvas, footer=footer))
    return buffer.getvalue()


def render_combined(reports: Sequence[EdrReport] | Sequence[bytes]) -> bytes:
    """One PDF of every report's pages in the given order, to print a batch at once."""
    if not reports:
        raise ValueError("render_combined needs at least one report")
    writer = PdfWriter()
    for entry in reports:
        pdf = bytes(entry) if isinstance(entry, bytes | bytearray) else render_edr(entry)
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- building blocks ---------------------------------------------------------------------------
# Cells are wrapped by fonts.wrap into plain multi-line strings (or _Lines when one cell mixes
# styles) rather than by Paragraph: a Paragraph's markup parse and layout cost ~0.25 ms per cell,
# more than all the rest of a one-page form, and it would need every text escaped as markup.
def _cell(text: str, style: ParagraphStyle, column_width: float) -> str:
    room = column_width - 2 * CELL_SIDE_PADDING
    return "\n".join(_wrapped(text, style, room))


def _wrapped(text: str, style: ParagraphStyle, width: float) -> list[str]:
    lines = wrap(text, style.fontName, style.fontSize, width)
    if len(lines) > MAX_CELL_LINES:
        lines = [*lines[:MAX_CELL_LINES - 1], CUT_MARK]
    return lines


class _Lines(Flowable):
    """Text in one or more styles, wrapped to a width, each line aligned as its style says."""

    def __init__(self, blocks: Sequence[tuple[str, ParagraphStyle]], width: float,
                 space_after: float = 0) -> None:
        super().__init__()
        self.lines = [
            (line, style)
            for text, style in blocks
            for line in _wrapped(text, style, width)
        ]
        self.width = width
        self.height = sum(style.leading for _, style in self.lines)
        self.spaceAfter = space_after

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas, top = self.canv, self.height
        for line, style in self.lines:
            top -= style.leading
            baseline = top + (style.leading - CAP_HEIGHT * style.fontSize) / 2
            canvas.setFont(style.fontName, style.fontSize)
            canvas.setFillColor(style.textColor)
            if style.alignment == TA_CENTER:
                canvas.drawCentredString(self.width / 2, baseline, line)
            else:
                canvas.drawString(0, baseline, line)


def _one_line(text: str, style: ParagraphStyle, width: float) -> str:
    """The first line of `text` wrapped to `width`, with "…" when more was left out."""
    lines = wrap(text, style.fontName, style.fontSize, width)
    if len(lines) == 1:
        return lines[0]
    room = width - stringWidth(" …", style.fontName, style.fontSize)
    return wrap(text, style.fontName, style.fontSize, room)[0] + " …"


def _note(text: str) -> Table:
    return Table([[_cell(text, NOTE, FRAME_WIDTH)]], colWidths=[FRAME_WIDTH], style=_NOTE_STYLE)


def _banner(note: str) -> Table:
    text = _Lines([("CANCELLED", BANNER), (note, BANNER_NOTE)],
                  FRAME_WIDTH - 2 * CELL_SIDE_PADDING)
    return Table([[text]], colWidths=[FRAME_WIDTH], style=_BANNER_STYLE)


# --- the form ----------------------------------------------------------------------------------
def _story(report: EdrReport) -> list[Flowable]:
    story: list[Flowable] = [_Lines([("EVENT DETAIL REPORT", TITLE)], FRAME_WIDTH, 20)]
    if report.cancelled_note:
        story += [_banner(report.cancelled_note), Spacer(1, 12)]
    if report.scheduled_line:
        story.append(_Lines([(report.scheduled_line, SCHEDULED)], FRAME_WIDTH, 12))
    else:
        story.append(Spacer(1, 12))
    story += [_grid_a(report), Spacer(1, 3), _grid_b(report), Spacer(1, 20), *_items(report)]
    story.append(Spacer(1, 20))
    # The original let a page break fall inside the signature block; it must stay in one piece.
    story.append(KeepTogether([
        _Lines([("MUST BE SIGNED AND DATED", SIGN_HEADING)], FRAME_WIDTH, 12),
        Spacer(1, 20),
        _signature_block(report),
    ]))
    return story


def _grid_a(report: EdrReport) -> Table:
    number_width, name_width = GRID_A_WIDTHS
    rows = [
        ["Event Number", "Event Name"],
        [_cell(report.event_number, GRID_A_VALUE, number_width),
         _cell(report.event_name, GRID_A_VALUE, name_width)],
    ]
    return Table(rows, colWidths=GRID_A_WIDTHS, style=_GRID_A_STYLE)


def _grid_b(report: EdrReport) -> Table:
    width = GRID_B_WIDTHS[0]
    heads = ("Event Date", "Event Type", report.status_label, "Locked")
    values = (report.event_date, report.event_type, report.status)
    rows = [
        [_cell(head, GRID_B_HEAD, width) for head in heads],
        [*(_cell(value, GRID_B_VALUE, width) for value in values),
         _cell(report.locked, GRID_B_LOCKED, width)],
    ]
    return Table(rows, colWidths=GRID_B_WIDTHS, style=_GRID_B_STYLE)


def _items(report: EdrReport) -> list[Flowable]:
    if not report.items:  # None: Walmart did not say; (): it said there are none
        return [_note(report.items_note or "")]
    flowables: list[Flowable] = []
    featured = [item.item_number for item in report.items if item.featured]
    if featured:
        legend = (f"{FEATURED_MARK} FEATURED (bold, shaded row) = the event's featured item: "
                  f"{', '.join(featured)}")
        flowables.append(_Lines([(legend, LEGEND)], FRAME_WIDTH, 4))
    commands = list(_ITEM_COMMANDS)
    rows: list[list[Any]] = [["Item Number", "Description", "Category"]]
    for index, item in enumerate(report.items, start=1):
        rows.append(_item_cells(item))
        if item.featured:
            commands += [("BACKGROUND", (0, index), (-1, index), FEATURED_FILL),
                         *_text((0, index), (0, index), ITEM_FEATURED_CENTRED),
                         *_text((1, index), (1, index), ITEM_FEATURED_TEXT)]
    # repeatRows: every continuation page starts with the column headings again.
    flowables.append(Table(rows, colWidths=ITEM_WIDTHS, repeatRows=1, style=TableStyle(commands)))
    return flowables


def _item_cells(item: ItemRow) -> list[Any]:
    number_width, description_width, category_width = ITEM_WIDTHS
    if item.featured:
        number = _cell(f"{FEATURED_MARK} {item.item_number}", ITEM_FEATURED_CENTRED, number_width)
        number += "\nFEATURED"
        description = _cell(item.description, ITEM_FEATURED_TEXT, description_width)
    else:
        number = _cell(item.item_number, ITEM_CENTRED, number_width)
        description = _cell(item.description, ITEM_TEXT, description_width)
    category: str | _Lines = _cell(item.category, ITEM_CENTRED, category_width)
    if item.walmart_category:
        main = ITEM_FEATURED_CENTRED if item.featured else ITEM_CENTRED
        category = _Lines(
            [(item.category, main), (f"EDR: {item.walmart_category}", ITEM_ASIDE)],
            category_width - 2 * CELL_SIDE_PADDING,
        )
    return [number, description, category]


def _signature_block(report: EdrReport) -> Table:
    rows = [
        ["Scheduled Employee:", _one_line(report.scheduled_employee, SIGN_VALUE,
                                          SIGNATURE_WIDTHS[1] - CELL_SIDE_PADDING)],
        ["Employee Signature:", ""],
        ["Date Performed:", ""],
        ["Supervisor Signature:", ""],
    ]
    first_ruled = 1 if report.scheduled_employee else 0  # no name: it is written on a rule too
    commands = [
        *_SIGNATURE_COMMANDS,
        ("LEFTPADDING", (1, first_ruled), (1, -1), 0),
        ("LINEBELOW", (1, first_ruled), (1, -1), 1, RULE),
    ]
    return Table(rows, colWidths=SIGNATURE_WIDTHS, rowHeights=SIGNATURE_ROW_HEIGHT,
                 style=TableStyle(commands))


class _NumberedCanvas(Canvas):
    """Holds pages back until the end so each footer can say "Page N of M" in a single pass."""

    def __init__(self, *args: Any, footer: tuple[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 — ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        event, printed = self._footer
        for number, page in enumerate(self._pages, start=1):
            self.__dict__.update(page)
            self.setFont(FOOTER.fontName, FOOTER.fontSize)
            self.setFillColor(FOOTER.textColor)
            # The event number on every page keeps loose pages of a batch print attributable.
            self.drawString(MARGIN, FOOTER_Y, event)
            self.drawRightString(FOOTER_RIGHT_X, FOOTER_Y,
                                 f"{printed}   ·   Page {number} of {total}")
            super().showPage()
        super().save()
