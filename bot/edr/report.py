"""An EDR payload turned into the display text of one printed Event Detail Report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from anyascii import anyascii

from bot.edr import codes
from bot.retail_link.models import Edr, EdrItem

NOT_AVAILABLE = codes.NOT_AVAILABLE
ITEMS_NOT_PROVIDED = "Items not provided by Retail Link — check EMS"
NO_ITEMS = "No items"
SLUG_MAX = 40

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class ItemRow:
    """One line of the items table, as printed."""

    item_number: str
    description: str
    category: str  # from the §6.4 table by deptNbr
    # The item's own `deptDesc` when it means something else than `category`, else None.
    walmart_category: str | None
    featured: bool


@dataclass(frozen=True)
class EdrReport:
    """Everything the printed form shows, already as text; `render_edr` only lays it out."""

    event_id: int
    event_number: str
    event_name: str  # blank when Walmart sent none
    event_date: str  # MM-DD-YYYY of demoDate
    event_type: str
    status_label: str  # says whose status it is: the club's or the event's
    status: str
    locked: str  # YES / NO / N/A
    scheduled_line: str | None  # "Event Scheduled On …"; None without the store's date
    cancelled_note: str | None  # why the CANCELLED banner shows; None when not cancelled
    items: tuple[ItemRow, ...] | None  # None: Walmart did not say (print `items_note`)
    items_note: str | None
    scheduled_employee: str  # blank → a rule to write the name on
    printed: str | None  # footer stamp; None → the renderer stamps the time of rendering
    file_date: str  # YYYY-MM-DD the file is named after, or "undated"
    store: int | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_note is not None


def build_report(
    edr: Edr,
    store: int | None,
    *,
    employee: str | None = None,
    printed_at: datetime | None = None,
) -> EdrReport:
    """Map an EDR (and the bot's store) to the text of the form; pure, no clock unless given."""
    club = edr.club(store)
    if club is not None:
        status_code = club.status_code
        status_text = _status_text(club.status_code, club.status_desc)
        status_label = f"Status at Club {store}"
    else:
        status_code = edr.status_code
        status_text = codes.status(edr.status_code)
        status_label = "Event Status"

    items = None if edr.items is None else tuple(_item_row(item) for item in edr.items)
    scheduled = club.scheduled_date if club is not None else None
    return EdrReport(
        event_id=edr.demo_id,
        event_number=str(edr.demo_id),
        event_name=edr.name or "",
        event_date=display_date(edr.demo_date),
        event_type=codes.event_type(edr.class_code),
        status_label=status_label,
        status=status_text,
        locked={True: "YES", False: "NO", None: NOT_AVAILABLE}[edr.locked],
        scheduled_line=_scheduled_line(scheduled, edr.demo_date) if scheduled else None,
        cancelled_note=_cancelled_note(edr, status_code, status_text, store, club is not None),
        items=items,
        items_note=ITEMS_NOT_PROVIDED if items is None else (NO_ITEMS if not items else None),
        scheduled_employee=(employee or "").strip(),
        printed=printed_text(printed_at) if printed_at is not None else None,
        file_date=_iso_date(scheduled) or _iso_date(edr.demo_date) or "undated",
        store=store,
    )


def edr_filename(report: EdrReport) -> str:
    """`EDR_2024-10-05_548466_10-05-casa-dorada-jalapeno-creme-brulee.pdf`."""
    return f"EDR_{report.file_date}_{report.event_id}_{slugify(report.event_name)}.pdf"


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-") or "untitled"


def display_date(value: str | None) -> str:
    """`2024-10-05` → `10-05-2024`; other text unchanged; missing → `N/A`."""
    if not value:
        return NOT_AVAILABLE
    match = _ISO_DATE.fullmatch(value[:10])
    return f"{match[2]}-{match[3]}-{match[1]}" if match else value


def printed_text(at: datetime) -> str:
    """`Printed: 10-05-2024 at 07:42 AM` — the original's footer wording (EDR_FORM.md §2 F)."""
    return at.strftime("Printed: %m-%d-%Y at %I:%M %p")


def _item_row(item: EdrItem) -> ItemRow:
    category = codes.category(item.dept_nbr)
    # Print the §6.4 table value as the form always did and as EMS's own dbConfig says, but also
    # Walmart's per-item deptDesc when it names a different thing: the table is out of step with
    # the items for several numbers (78 → PLANNING SOLUTIONS for snacks, 64 → AUDIO for coffee),
    # and an associate hunting for the product on the floor needs the latter.
    walmart = item.dept_desc or None
    if walmart is not None and _category_key(walmart) == _category_key(category):
        walmart = None
    featured = item.featured if item.featured is not None else bool(item.primary_item_code)
    return ItemRow(
        item_number=str(item.item_nbr) if item.item_nbr is not None else NOT_AVAILABLE,
        description=item.item_desc or NOT_AVAILABLE,
        category=category,
        walmart_category=walmart,
        featured=featured,
    )


def _category_key(text: str) -> str:
    # "COFFEE-BREAKFAST" and "COFFEE AND BREAKFAST", "Produce and Floral" and "PRODUCE AND
    # FLORAL" name the same department; only differences in words are worth printing.
    return "".join(w for w in re.findall(r"[A-Z0-9]+", text.upper()) if w != "AND")


def _status_text(code: int | None, desc: str | None) -> str:
    # The table is the one translation used everywhere; the club's own text covers codes it lacks.
    if code is not None and codes.STATUSES.get(code):
        return codes.STATUSES[code]
    return desc or codes.status(code)


def _scheduled_line(scheduled: str | None, demo_date: str | None) -> str:
    line = f"Event Scheduled On {display_date(scheduled)}"
    # A club can be rolled to another day (PROTOCOL.md §5.4) while demoDate stays put.
    if scheduled and demo_date and scheduled[:10] != demo_date[:10]:
        line += f" (moved from {display_date(demo_date)})"
    return line


def _cancelled_note(
    edr: Edr, status_code: int | None, status_text: str, store: int | None, at_store: bool
) -> str | None:
    if at_store and codes.is_cancelled(status_code):
        return f"Status at Club {store}: {status_text} — do not perform this event."
    if codes.is_cancelled(edr.status_code):
        return f"Event status: {codes.status(edr.status_code)} — do not perform this event."
    return None


def _iso_date(value: str | None) -> str | None:
    if not value or not _ISO_DATE.fullmatch(value[:10]):
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None
