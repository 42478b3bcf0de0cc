"""Typed views of Retail Link answers that tolerate padding, nulls and missing keys (PROTOCOL.md §5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _strip(value: Any) -> Any:
    # demoName is space-padded to 100, billToVndrDesc to 30, lastChangeUserid to 8 (§5.1).
    return value.strip() if isinstance(value, str) else value


def _yes(value: Any) -> bool | None:
    # "Y"/"N" flags on EDRs, "true"/"false" text on browse-data (`lockDate`).
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in {"Y", "YES", "TRUE", "1"}


Text = Annotated[str | None, BeforeValidator(_strip)]
Flag = Annotated[bool | None, BeforeValidator(_yes)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class EdrItem(_Model):
    item_nbr: int | None = Field(None, alias="itemNbr")
    featured: Flag = Field(None, alias="featuredItemInd")
    primary_item_nbr: int | None = Field(None, alias="primaryItemNbr")
    primary_item_code: Flag = Field(None, alias="primaryItemCode")
    gtin: int | None = Field(None, alias="gtin")
    dept_nbr: int | None = Field(None, alias="deptNbr")
    dept_desc: Text = Field(None, alias="deptDesc")
    item_desc: Text = Field(None, alias="itemDesc")
    vendor_nbr: int | None = Field(None, alias="vendorNbr")
    vendor_desc: Text = Field(None, alias="vendorDesc")
    bill_to_vendor_desc: Text = Field(None, alias="billToVndrDesc")


class ClubDetail(_Model):
    store_nbr: int | None = Field(None, alias="storeNbr")
    scheduled_date: Text = Field(None, alias="scheduledDate")
    status_code: int | None = Field(None, alias="demoStatusCode")
    status_desc: Text = Field(None, alias="demoStatusDesc")


class HistoryEntry(_Model):
    activity_ts: Text = Field(None, alias="activityTs")
    section_text: Text = Field(None, alias="sectionText")
    action_text: Text = Field(None, alias="actionText")
    user_id: Text = Field(None, alias="userId")


class DemoInstructions(_Model):
    # Shape assumed (PROTOCOL.md §9.9): only these two names were ever read by the original.
    preparation: Text = Field(None, alias="demoPrepnTxt")
    portion: Text = Field(None, alias="demoPortnTxt")


class Edr(_Model):
    """`GET api/edrReport?id=` — one event's Event Detail Report."""

    demo_id: int = Field(alias="demoId")
    class_code: int | None = Field(None, alias="demoClassCode")
    status_code: int | None = Field(None, alias="demoStatusCode")
    bill_type_code: int | None = Field(None, alias="demoBillTypeCd")
    demo_date: Text = Field(None, alias="demoDate")
    duration_hours: float | None = Field(None, alias="duratnHrQty")
    fee: float | None = Field(None, alias="demoFeeAmt")
    last_change_userid: Text = Field(None, alias="lastChangeUserid")
    ho_instruction: Text = Field(None, alias="hoInstruction")
    club_instruction: Text = Field(None, alias="clubInstruction")
    country_code: Text = Field(None, alias="countryCode")
    perform_by_date: Text = Field(None, alias="performByDate")
    locked: Flag = Field(None, alias="demoLockInd")
    name: Text = Field(None, alias="demoName")
    dept_nbr: int | None = Field(None, alias="deptNbr")
    target_club_count: int | None = Field(None, alias="targetClubCnt")
    manual_bill: bool | None = Field(None, alias="manualBillInd")
    instructions: DemoInstructions | None = Field(None, alias="demoInstructions")
    # None means Walmart did not say (seen once for an event that has items), not "no items".
    items: list[EdrItem] | None = Field(None, alias="itemDetails")
    clubs: list[ClubDetail] = Field(default_factory=list, alias="clubDetails")
    history: list[HistoryEntry] = Field(default_factory=list, alias="historyDetails")

    def club(self, store: int | None) -> ClubDetail | None:
        """The per-store entry; the top-level status stays APPROVED while clubs move on (§5.1)."""
        if store is None:
            return None
        return next((c for c in self.clubs if c.store_nbr == store), None)

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> Edr:
        data = dict(payload)
        for key in ("clubDetails", "historyDetails"):
            if data.get(key) is None:
                data.pop(key, None)
        return cls.model_validate(data)


class ListingRow(_Model):
    """One (event, item) row of `POST api/browse-event/browse-data` (§5.2)."""

    event_id: int = Field(alias="eventId")
    event_type: Text = Field(None, alias="eventType")
    event_date: Text = Field(None, alias="eventDate")
    bill_type: Text = Field(None, alias="billType")
    event_status: Text = Field(None, alias="eventStatus")
    locked: Flag = Field(None, alias="lockDate")
    item_nbr: int | None = Field(None, alias="itemNbr")
    featured: Flag = Field(None, alias="featuredItemInd")
    item_desc: Text = Field(None, alias="itemDesc")
    dept_nbr: int | None = Field(None, alias="deptNbr")
    event_name: Text = Field(None, alias="eventName")


class ScheduleRow(_Model):
    """One row of `POST api/store-event/daily-schedule-report` — shape assumed (§5.3)."""

    event_id: int = Field(alias="eventId")
    event_name: Text = None
    event_type: Text = None
    event_date: Text = None
    status: Text = None
    item_nbr: int | None = None
    item_desc: Text = None
    dept_nbr: int | None = None

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> ScheduleRow:
        return cls(
            eventId=payload["eventId"],
            event_name=payload.get("eventName"),
            event_type=payload.get("eventType"),
            event_date=payload.get("demoDate") or payload.get("eventDate"),
            status=payload.get("status") or payload.get("eventStatus"),
            item_nbr=payload.get("itemNbr"),
            item_desc=payload.get("itemDesc"),
            dept_nbr=payload.get("deptNbr"),
        )


@dataclass(frozen=True)
class ListedItem:
    item_nbr: int | None
    description: str | None
    featured: bool


@dataclass(frozen=True)
class ListedEvent:
    """One event of a store's day, as a listing shows it (before its EDR is fetched)."""

    event_id: int
    name: str | None
    date: str | None
    event_type: str | None  # Walmart's description text, e.g. "Supplier"
    bill_type: str | None  # e.g. "6 Hour"; None from daily-schedule-report
    status: str | None  # e.g. "APPROVED", "CANCELLED"
    locked: bool | None
    items: tuple[ListedItem, ...] = field(default=())

    @property
    def cancelled(self) -> bool:
        return bool(self.status) and "CANCEL" in self.status.upper()


def group_browse_rows(rows: Iterable[ListingRow]) -> list[ListedEvent]:
    """Fold item rows into events, keeping the order in which events first appear."""
    events: dict[int, ListedEvent] = {}
    for row in rows:
        item = ListedItem(row.item_nbr, row.item_desc, bool(row.featured))
        known = events.get(row.event_id)
        if known is None:
            events[row.event_id] = ListedEvent(
                event_id=row.event_id, name=row.event_name, date=row.event_date,
                event_type=row.event_type, bill_type=row.bill_type,
                status=(row.event_status or "").upper() or None, locked=row.locked,
                items=(item,),
            )
        else:
            events[row.event_id] = ListedEvent(**{**known.__dict__, "items": (*known.items, item)})
    return list(events.values())


def group_schedule_rows(rows: Iterable[ScheduleRow]) -> list[ListedEvent]:
    """De-duplicate daily-schedule rows by event id, as the original did (§5.3)."""
    events: dict[int, ListedEvent] = {}
    for row in rows:
        if row.event_id in events:
            continue
        items = (ListedItem(row.item_nbr, row.item_desc, True),) if row.item_nbr else ()
        events[row.event_id] = ListedEvent(
            event_id=row.event_id, name=row.event_name, date=row.event_date,
            event_type=row.event_type, bill_type=None,
            status=(row.status or "").upper() or None, locked=None, items=items,
        )
    return list(events.values())
