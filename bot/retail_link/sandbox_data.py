"""Deterministic EMS data for the Retail Link sandbox: the fixtures plus synthetic days."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any

Json = dict[str, Any]

FIXTURE_STORE = 8135
FIXTURE_DAY = "2024-10-05"
# The two edge EDRs that are not in the fixture browse-data; each gets its own day at 8135.
EDGE_EVENT_IDS = (548390, 548601)

# Generated ids live in 600000..999999, so they never collide with the 547xxx/548xxx fixtures.
GENERATED_ID_MIN = 600_000
GENERATED_ID_SPAN = 400_000
_ID_BLOCK = 100  # ids of one generated day are consecutive, like real ones created together

# Code -> description, the subset of EDR_FORM.md §6 the fixtures and the generator use.
EVENT_TYPES: dict[int, str] = {
    7: "Supplier", 8: "Vendor Performed", 13: "Holiday", 14: "Production",
    21: "FREEOSK (Kiosk)", 24: "Digital Supplier", 35: "Demo Supplies",
    44: "Club Choice Company", 45: "Club Choice Accrual",
}
EVENT_TYPE_CODES: dict[str, int] = {desc: code for code, desc in EVENT_TYPES.items()}
BILL_TYPES: dict[int, str] = {
    12: "Holiday 6", 16: "6 Hour", 18: "8 Hour", 21: "Digital Cart",
    22: "Product Charge Only", 23: "Service", 30: "Kiosk Service",
}
STATUSES: dict[int, str] = {2: "APPROVED", 3: "CANCELLED", 4: "PERFORMED"}


# --- fixtures -------------------------------------------------------------------------------

def _read_fixture(name: str) -> Any:
    ref = resources.files("bot.retail_link").joinpath("sandbox_data", *name.split("/"))
    return json.loads(ref.read_text(encoding="utf-8"))


@cache
def _fixture_edrs() -> dict[int, Json]:
    folder = resources.files("bot.retail_link").joinpath("sandbox_data", "edr")
    edrs: dict[int, Json] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            doc = json.loads(entry.read_text(encoding="utf-8"))
            edrs[int(doc["demoId"])] = doc
    return edrs


@cache
def _fixture_browse() -> list[Json]:
    return _read_fixture(f"browse-data_store-{FIXTURE_STORE}_{FIXTURE_DAY}.json")


@cache
def _fixture_schedule() -> list[Json]:
    return _read_fixture(f"daily-schedule-report_store-{FIXTURE_STORE}_{FIXTURE_DAY}.json")


# --- EDR -> browse rows / schedule rows -----------------------------------------------------

def _primary_from_history(edr: Json) -> int | None:
    """The primary item number recorded in the audit log ("Item ID <n> added")."""
    for row in edr.get("historyDetails") or []:
        if row.get("sectionText") == "Primary Item Added":
            digits = "".join(ch for ch in row.get("actionText", "") if ch.isdigit())
            return int(digits) if digits else None
    return None


def rows_from_edr(edr: Json, day: str, extras: list[Json] | None = None) -> list[Json]:
    """Browse-data rows (PROTOCOL.md §5.2) for one EDR; `extras[i]` overrides row i's fields.

    Browse-only fields the EDR cannot supply (sub-category, claim numbers) are null.
    """
    items = edr.get("itemDetails")
    if items is None:
        # EMS once answered itemDetails null for an event that has items (548601); the history
        # still names the primary item, so list that one with what is known.
        items = [{"itemNbr": _primary_from_history(edr), "featuredItemInd": "Y",
                  "deptNbr": edr.get("deptNbr"), "vendorNbr": edr.get("billToVendorId")}]
    rows = []
    for index, item in enumerate(items):
        billed_desc = item.get("billToVndrDesc")
        row = {
            "eventId": edr["demoId"],
            "eventType": EVENT_TYPES.get(edr["demoClassCode"], str(edr["demoClassCode"])),
            "eventDate": day,
            "billType": BILL_TYPES.get(edr["demoBillTypeCd"], str(edr["demoBillTypeCd"])),
            "eventStatus": STATUSES.get(edr["demoStatusCode"], str(edr["demoStatusCode"])),
            "lockDate": "true" if edr.get("demoLockInd") == "Y" else "false",
            "eventFee": f"{edr.get('demoFeeAmt') or 0:.2f}",
            "itemNbr": item.get("itemNbr"),
            "featuredItemInd": item.get("featuredItemInd", "N"),
            "itemDesc": item.get("itemDesc"),
            "upcNbr": item.get("gtin"),
            "deptNbr": item.get("deptNbr"),
            "deptDesc": item.get("deptDesc"),
            "vendorNbr": item.get("vendorNbr"),
            "vendorDesc": item.get("vendorDesc"),
            "vendorBilledNbr": edr.get("billToVendorId"),
            "vendorBilledDesc": billed_desc.strip() if billed_desc else None,
            "targetClubCnt": edr.get("targetClubCnt"),
            "subCatNbr": None,
            "subCatDesc": None,
            "eventName": (edr.get("demoName") or "").strip(),
            "country": edr.get("countryCode", "US"),
            "lastChangeUser": (edr.get("lastChangeUserid") or "").strip(),
            "claimNbr": None,
        }
        if extras is not None:
            row.update(extras[index])
        rows.append(row)
    return rows


def schedule_rows(browse_rows: list[Json]) -> list[Json]:
    """Event-level daily-schedule-report rows (the fixture's assumed shape), sorted by id."""
    by_event: dict[int, Json] = {}
    for row in browse_rows:
        current = by_event.get(row["eventId"])
        # The featured item stands for the event; the first row only if none is featured.
        if current is None or (row["featuredItemInd"] == "Y" and current["featuredItemInd"] != "Y"):
            by_event[row["eventId"]] = row
    return [
        {"eventId": row["eventId"], "eventName": row["eventName"], "eventType": row["eventType"],
         "eventDate": row["eventDate"], "status": row["eventStatus"], "itemNbr": row["itemNbr"],
         "itemDesc": row["itemDesc"], "vendorBilledNbr": row["vendorBilledNbr"],
         "deptNbr": row["deptNbr"]}
        for _, row in sorted(by_event.items())
    ]


# --- synthetic events -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Vendor:
    nbr: int
    name: str
    short: str
    dept: int
    dept_desc: str  # as browse-data reports it
    edr_dept_desc: str  # as the EDR reports it (they disagree in real data)
    subcat: tuple[int, str]
    products: tuple[tuple[str, str], ...]  # (itemDesc, title used in event names)


_VENDORS = (
    _Vendor(318840, "MAPLEWOOD FARMS LLC", "Maplewood", 38, "DAIRY", "DAIRY", (7, "Cheese"),
            (("MW SHARP CHEDDAR 2LB", "Sharp Cheddar"), ("MW PEPPER JACK 2LB", "Pepper Jack"),
             ("MW STRING CHEESE 48CT", "String Cheese"), ("MW GREEK YOGURT 4/32OZ", "Greek Yogurt"))),
    _Vendor(427715, "GOLDEN PRAIRIE BAKERY", "Golden Prairie", 48, "COMMERCIAL BREAD",
            "COMMERCIAL BREAD", (4, "ARTISAN BREAD"),
            (("GP BRIOCHE LOAF 2PK", "Brioche Loaf"), ("GP CIABATTA ROLLS 12CT", "Ciabatta Rolls"),
             ("GP MULTIGRAIN BREAD 2PK", "Multigrain Bread"), ("GP HONEY WHEAT 2PK", "Honey Wheat"))),
    _Vendor(265503, "COASTLINE SEAFOOD CO", "Coastline", 44, "FROZEN FOODS", "FROZEN FOODS",
            (28, "Frozen Seafood"),
            (("CS BREADED SHRIMP 3LB", "Breaded Shrimp"), ("CS SALMON FILLETS 3LB", "Salmon"),
             ("CS FISH TACOS KIT 24CT", "Fish Tacos"), ("CS CRAB CAKES 12CT", "Crab Cakes"))),
    _Vendor(590127, "SUMMIT SNACK BRANDS", "Summit", 78, "SNACKS", "SNACKS", (10, "Nuts/Trail Mix"),
            (("SM HONEY ROASTED CASHEW 2LB", "Honey Cashews"), ("SM KETTLE CHIPS 30CT", "Kettle Chips"),
             ("SM PRETZEL BITES 3LB", "Pretzel Bites"), ("SM VEGGIE STRAWS 28CT", "Veggie Straws"))),
    _Vendor(340992, "BRIGHTCUP BEVERAGE INC", "Brightcup", 64, "COFFEE AND ADDITIVES",
            "COFFEE AND ADDITIVES", (3, "OTHER RTD"),
            (("BC COLD BREW LATTE 12PK", "Cold Brew Latte"), ("BC FRENCH ROAST 2.5LB", "French Roast"),
             ("BC OAT CREAMER 2/48OZ", "Oat Creamer"))),
    _Vendor(733402, "HEARTHSTONE KITCHENS", "Hearthstone", 57, "Deli PI", "Deli PI", (18, "Entrees"),
            (("HK CHICKEN POT PIE 2PK", "Chicken Pot Pie"), ("HK MAC AND CHEESE 4LB", "Mac and Cheese"),
             ("HK BEEF LASAGNA 5LB", "Beef Lasagna"), ("HK STUFFED PEPPERS 6CT", "Stuffed Peppers"))),
)
_PRODUCE = _Vendor(456210, "CLUB FRESH PRODUCE DC", "Club Fresh", 56, "Produce and Floral",
                   "PRODUCE AND FLORAL", (12, "Fresh Juicer"),
                   (("NAVEL ORANGES 8LB", "Oranges"), ("LEMONS 5LB", "Lemons"),
                    ("GALA APPLES 6LB", "Apples"), ("CARROTS 10LB", "Carrots"),
                    ("PINEAPPLE 2CT", "Pineapple"), ("CELERY HEARTS 3CT", "Celery")))
_KIOSK = _Vendor(81477, "KIOSKWORKS SNACKS LLC", "Kioskworks", 78, "SNACKS", "SNACKS",
                 (10, "Nuts/Trail Mix"),
                 (("KW TRAIL MIX CUPS 24CT", "Trail Mix Cups"), ("KW CHOCO MIX CUPS 24CT", "Choco Mix"),
                  ("KW TROPICAL MIX CUPS 24CT", "Tropical Mix"), ("KW SWEET SALTY MIX 24CT", "Sweet Salty")))
_SERVICE = _Vendor(733018, "COOLTECH SERVICES INC", "Cooltech", 99, "MISC", "MISC", (1, "Fixed Price"),
                   (("COOLER RESET SERVICE", "Cooler Reset"), ("FREEZER RESET SERVICE", "Freezer Reset"),
                    ("SHELF RESET SERVICE", "Shelf Reset")))
_CLUB_FUND = (990210, "CLUB CHOICE FUNDING")


@dataclass(frozen=True)
class _Kind:
    class_code: int  # EDR_FORM.md §6.1
    bill_code: int  # EDR_FORM.md §6.3
    hours: int
    fee: int
    max_items: int


_SUPPLIER = _Kind(7, 16, 7, 0, 4)
_CLUB_CHOICE = _Kind(44, 16, 7, 0, 3)
_PRODUCTION = _Kind(14, 18, 9, 0, 5)
_DIGITAL = _Kind(24, 21, 7, 0, 3)
_FREEOSK = _Kind(21, 30, 1, 0, 4)
_VENDOR_PERFORMED = _Kind(8, 23, 1, 50, 1)
# Event i of a day takes kind i in this rotation, so even a 3-event day mixes bill types and
# a day with n events is always a prefix of the same day with more events.
_ROTATION = (_SUPPLIER, _DIGITAL, _SUPPLIER, _FREEOSK, _PRODUCTION, _SUPPLIER, _VENDOR_PERFORMED,
             _CLUB_CHOICE)


def _seed(*parts: object) -> int:
    # Python's hash() is salted per process; sha256 keeps days equal across runs and instances.
    text = "|".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@cache
def _club_pool() -> tuple[int, ...]:
    rng = random.Random(20241005)
    pool = rng.sample(range(4101, 4999), 300) + rng.sample(range(6201, 6699), 200)
    return tuple(sorted(set(pool + rng.sample(range(8101, 8299), 120))))


def _user_id(rng: random.Random) -> str:
    return "vn" + "".join(rng.choice("0123456789abcdefghjkmnpqrstuvwxyz") for _ in range(5))


def _event_name(kind: _Kind, vendor: _Vendor, title: str, day: date) -> str:
    md = f"{day:%m.%d}"
    if kind is _PRODUCTION:
        return f"{day:%m-%d} 8HR-ES1-JUICER-PRODUCTION-SPCLTY"
    if kind is _DIGITAL:
        return f"{md}-{day + timedelta(days=6):%m.%d}-DD-{vendor.short}-{title}"
    if kind is _FREEOSK:
        return f"{md}-LKD-FSK-Kiosk {title}"
    if kind is _VENDOR_PERFORMED:
        return f"{md}-VP-{title}"
    if kind is _CLUB_CHOICE:
        return f"{md}-CF-{vendor.short}-{title}"
    return f"{md}-{vendor.short}-{title}"


def _history(event_id: int, items: list[Json], clubs: int, user: str, day: date,
             rng: random.Random) -> list[Json]:
    start = datetime.combine(day, time(), UTC) - timedelta(days=rng.randint(40, 55))
    moment = start + timedelta(hours=rng.randint(13, 20), minutes=rng.randint(0, 59))
    primary = items[0]["primaryItemNbr"]
    entries = [("NEW DEMO CREATED", f"Event Id {event_id} created"),
               ("DEMO ITEM PRIMARY INDICATOR CHANGED", f"{primary} - Y"),
               ("Primary Item Added", f"Item ID {primary} added"),
               ("Vendor To Bill Changed", f"Demo Bill To Vendor Changed. Demo id = {event_id}")]
    entries += [("Alternate Item Added", f"Item ID {item['itemNbr']} added")
                for item in items if item["itemNbr"] != primary]
    entries += [("Club Inserted", f"{clubs} stores added"), ("STATUS CHANGED", "REQUESTED"),
                ("STATUS CHANGED", "APPROVED")]
    history = []
    for section, action in entries:
        moment += timedelta(seconds=rng.randint(2, 150), microseconds=rng.randint(0, 999_999))
        history.append({"activityTs": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "actionText": action, "sectionText": section, "userId": user})
    return history


def generate_event(store: int, day: str, index: int, event_id: int) -> tuple[Json, list[Json]]:
    """Event `index` of a synthetic (store, day): its EDR and its browse-data rows."""
    rng = random.Random(_seed(store, day, index))
    when = date.fromisoformat(day)
    kind = _ROTATION[index % len(_ROTATION)]
    vendor = {_PRODUCTION: _PRODUCE, _FREEOSK: _KIOSK, _VENDOR_PERFORMED: _SERVICE}.get(
        kind, rng.choice(_VENDORS))
    products = rng.sample(vendor.products, rng.randint(1, min(kind.max_items, len(vendor.products))))
    featured = rng.randrange(len(products))
    billed_nbr, billed_desc = _CLUB_FUND if kind is _CLUB_CHOICE else (vendor.nbr, vendor.name)
    user = _user_id(rng)
    club_count = rng.randint(6, 40)
    clubs = sorted(rng.sample([c for c in _club_pool() if c != store], club_count - 1) + [store])

    numbers = [rng.randint(980_000_000, 999_999_999) for _ in products]
    items = [{
        "demoId": event_id,
        "itemNbr": numbers[i],
        "featuredItemInd": "Y" if i == featured else "N",
        "primaryItemNbr": numbers[featured],
        "reportOnInd": "Y",
        "demoCost": 0,
        "billToVndrId": billed_nbr,
        "billToVndrDesc": billed_desc.ljust(30),  # EMS pads this to 30
        "gtin": rng.randint(1_000_000_000, 99_999_999_999),
        "deptDesc": vendor.edr_dept_desc,
        "deptNbr": vendor.dept,
        "itemDesc": desc,
        "vendorDesc": vendor.name,
        "vendorNbr": vendor.nbr,
        "primaryItemCode": "Y" if i == featured else "N",
    } for i, (desc, _title) in enumerate(products)]
    title = products[featured][1]
    edr = {
        "demoId": event_id,
        "demoClassCode": kind.class_code,
        "demoStatusCode": 2,
        "demoBillTypeCd": kind.bill_code,
        "demoDate": day,
        "duratnHrQty": kind.hours,
        "demoFeeAmt": kind.fee,
        "lastChangeUserid": user.ljust(8),  # EMS pads this to 8
        "hoInstruction": "",
        "clubInstruction": f"1H {240800000000 + event_id}",
        "countryCode": "US",
        "performByDate": (when + timedelta(days=7)).isoformat(),
        "demoLockInd": "Y" if kind is _FREEOSK else "N",
        "demoName": _event_name(kind, vendor, title, when).ljust(100),  # EMS pads this to 100
        "deptNbr": vendor.dept,
        "targetTimeCode": 1,
        "targetClubCnt": club_count,
        "manualBillInd": kind is _CLUB_CHOICE,
        "billToVendorId": billed_nbr,
        "demoCost": 0,
        "demoInstructions": None,
        "itemDetails": items,
        "clubDetails": [{"storeNbr": club, "scheduledDate": day, "demoStatusCode": 2,
                         "demoStatusDesc": "APPROVED"} for club in clubs],
        "historyDetails": _history(event_id, items, club_count, user, when, rng),
        "demoComment": [],
    }
    # Browse-data reports a few things differently from the EDR (PROTOCOL.md §5.1/5.2).
    extras = [{"deptDesc": vendor.dept_desc, "subCatNbr": vendor.subcat[0],
               "subCatDesc": vendor.subcat[1], "vendorDesc": vendor.name if i % 2 == 0 else None}
              for i in range(len(items))]
    return edr, rows_from_edr(edr, day, extras)


# --- EMS queries ----------------------------------------------------------------------------

class BadQuery(ValueError):
    """A request EMS would refuse; the sandbox answers 400 BAD_REQUEST."""


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_int_list(value: Any) -> bool:
    return isinstance(value, list) and all(is_int(v) for v in value)


def _is_int_or_null(value: Any) -> bool:
    return value is None or is_int(value)


def _is_digit_str(value: Any) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_anything(value: Any) -> bool:
    return True  # filters whose value format nobody has seen (PROTOCOL.md §5.2)


_BROWSE_FIELDS: dict[str, Callable[[Any], bool]] = {  # PROTOCOL.md §5.2
    "itemNbr": _is_int_or_null, "vendorNbr": _is_int_or_null, "startDate": _is_date,
    "endDate": _is_date, "billType": _is_anything, "eventType": _is_int_list,
    "userId": _is_anything, "primItem": _is_anything, "storeNbr": _is_digit_str,
    "deptNbr": _is_int_or_null,
}
_SCHEDULE_FIELDS: dict[str, Callable[[Any], bool]] = {  # PROTOCOL.md §5.3
    "startDate": _is_date, "endDate": _is_date, "eventType": _is_int_list,
    "clubList": _is_int_list, "walmartWeekYear": _is_str,
}
_MAX_RANGE_DAYS = 366


def _check_body(body: Json, fields: dict[str, Callable[[Any], bool]]) -> list[str]:
    """Validate a request body against its field table; return the days it covers."""
    if set(body) != set(fields):
        raise BadQuery(f"body must have exactly the keys {sorted(fields)}")
    bad = [name for name, check in fields.items() if not check(body[name])]
    if bad:
        raise BadQuery(f"invalid value for {', '.join(bad)}")
    start, end = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
    if end < start or (end - start).days >= _MAX_RANGE_DAYS:
        raise BadQuery(f"endDate must be within {_MAX_RANGE_DAYS} days on or after startDate")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _type_allowed(row: Json, event_types: list[int]) -> bool:
    code = EVENT_TYPE_CODES.get(row["eventType"])
    return code is None or code in event_types


# --- the store the server queries -----------------------------------------------------------

class SandboxData:
    """Events by id and by (store, day); synthetic days are generated on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._edrs: dict[int, Json] = dict(_fixture_edrs())
        self._days: dict[tuple[int, str], list[Json]] = {
            (FIXTURE_STORE, FIXTURE_DAY): _fixture_browse()}
        self._schedules: dict[tuple[int, str], list[Json]] = {
            (FIXTURE_STORE, FIXTURE_DAY): _fixture_schedule()}
        for event_id in EDGE_EVENT_IDS:
            edr = self._edrs[event_id]
            self._days[(FIXTURE_STORE, edr["demoDate"])] = rows_from_edr(edr, edr["demoDate"])
        self._id_owner: dict[int, tuple[int, str]] = {}

    def edr(self, event_id: int) -> Json | None:
        with self._lock:
            return self._edrs.get(event_id)

    def browse_rows(self, store: int, day: str) -> list[Json]:
        with self._lock:
            if (store, day) not in self._days:
                default_count = random.Random(_seed(store, day, "count")).randint(3, 8)
                self._generate(store, day, default_count)
            return self._days[(store, day)]

    def schedule_rows(self, store: int, day: str) -> list[Json]:
        rows = self.browse_rows(store, day)
        with self._lock:
            return self._schedules.get((store, day)) or schedule_rows(rows)

    def browse(self, body: Json) -> list[Json]:
        """The rows browse-data answers for `body` (PROTOCOL.md §5.2); BadQuery if malformed."""
        days = _check_body(body, _BROWSE_FIELDS)
        filters = {name: body[name] for name in ("itemNbr", "vendorNbr", "deptNbr")
                   if body[name] is not None}
        return [row for day in days for row in self.browse_rows(int(body["storeNbr"]), day)
                if _type_allowed(row, body["eventType"])
                and all(row[name] == value for name, value in filters.items())]

    def schedule(self, body: Json) -> list[Json]:
        """The rows daily-schedule-report answers for `body` (PROTOCOL.md §5.3)."""
        days = _check_body(body, _SCHEDULE_FIELDS)
        return [row for day in days for club in body["clubList"]
                for row in self.schedule_rows(club, day) if _type_allowed(row, body["eventType"])]

    def add_generated_day(self, store: int, day: str, n_events: int) -> list[int]:
        """Replace the listing of (store, day) with `n_events` synthetic events; return their ids."""
        date.fromisoformat(day)  # fail early on a bad date
        if not 1 <= n_events <= 5_000:
            raise ValueError("n_events must be between 1 and 5000")
        with self._lock:
            return self._generate(store, day, n_events)

    def _generate(self, store: int, day: str, n_events: int) -> list[int]:
        ids = self._allocate_ids((store, day), n_events)
        rows: list[Json] = []
        for index, event_id in enumerate(ids):
            edr, event_rows = generate_event(store, day, index, event_id)
            self._edrs[event_id] = edr
            rows.extend(event_rows)
        self._days[(store, day)] = rows
        self._schedules.pop((store, day), None)
        return ids

    def _allocate_ids(self, key: tuple[int, str], count: int) -> list[int]:
        # A day owns a run of consecutive ids at a block picked from its seed; if another day
        # already holds one of them, move a block on (deterministic unless two days collide).
        blocks = GENERATED_ID_SPAN // _ID_BLOCK
        block = _seed(*key, "ids") % blocks
        for _ in range(blocks):
            start = block * _ID_BLOCK
            ids = [GENERATED_ID_MIN + (start + i) % GENERATED_ID_SPAN for i in range(count)]
            if all(self._id_owner.get(event_id, key) == key for event_id in ids):
                for event_id in ids:
                    self._id_owner[event_id] = key
                return ids
            block = (block + 1) % blocks
        raise RuntimeError("sandbox ran out of generated event ids")
