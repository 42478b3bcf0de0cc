"""Retail Link EMS code tables (EDR_FORM.md §6) and the lookups that print them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

NOT_AVAILABLE = "N/A"

# Codes whose events will not happen: 3 CANCELLED, 200 SUPPLIER-CANCELLED (§6.2). The original's
# "5 = cancelled" helper was an invented table; 5 is NONPERFORMED.
CANCELLED_STATUS_CODES: frozenset[int] = frozenset({3, 200})

# §6.1 `demoClassCode` — server `dbConfig` Event_Type, trimmed; there is no code 2.
EVENT_TYPES: Mapping[int, str] = MappingProxyType({
    1: "UNMANNED DEMO", 3: "STANDARD", 4: "PRODUCT LINE", 5: "MULTI-VENDOR",
    6: "Company Funded", 7: "Supplier", 8: "Vendor Performed", 9: "Front Door Supplier",
    10: "CMK Accrual", 11: "Grand Opening", 12: "Front Door Accrual", 13: "Holiday",
    14: "Production", 15: "Front Door Sams", 16: "Miscellaneous", 17: "Pop Up",
    18: "Supplier Pairing", 19: "Holiday Pairing", 20: "Pairing/AB Supplier",
    21: "FREEOSK (Kiosk)", 22: "Digital Company", 23: "Digital Accrual", 24: "Digital Supplier",
    25: "Digital Holiday", 26: "Cut Fruit Product Charge", 27: "Sip N Shop",
    28: "Other Funded", 29: "Pairing/AB Company", 30: "AB Demo Supplier",
    31: "AB Demo Company", 32: "Merchandise Services", 33: "Runner", 34: "Pop Up Lease",
    35: "Demo Supplies", 36: "Digital Other Funded", 37: "Supplier Productions",
    38: "AB Demo Accrual", 39: "Pairing/AB Accrual", 40: "Freeosk Tablet Company",
    41: "Freeosk Tablet Supplier", 42: "Freeosk Tablet Accrual", 43: "Test*/",
    44: "Club Choice Company", 45: "Club Choice Accrual", 46: "Enhanced Event Supplier",
    47: "RSM Supplier", 48: "MAP - Digital Holiday", 49: "MAP - Digital Supplier",
    50: "MAP - Enhanced Event Supplier", 51: "MAP - FREEOSK (Kiosk)",
    52: "MAP - Freeosk Tablet Supplier", 53: "MAP - Holiday", 54: "MAP - Holiday Pairing",
    55: "MAP - RSM Supplier", 56: "MAP - Supplier", 57: "MAP - Supplier Pairing",
})

# §6.2 `demoStatusCode` (event level and per club) — Event_Status; 201 is blank on the server.
STATUSES: Mapping[int, str] = MappingProxyType({
    0: "NEW", 1: "REQUESTED", 2: "APPROVED", 3: "CANCELLED", 4: "PERFORMED",
    5: "NONPERFORMED", 6: "CLUB DELETED", 7: "BILLED", 15: "REJECTED", 16: "SCREENED",
    17: "CONFLICTED", 18: "PRODUCT FINALIZED", 19: "NO CAPACITY INFO", 20: "REVIEWED",
    35: "RANKED", 100: "PENDING", 200: "SUPPLIER-CANCELLED", 201: "", 202: "PERFORMED",
})

# §6.3 `demoBillTypeCd` — Billing_Type; 9 is blank on the server, 25–28/31 are server test rows.
BILLING_TYPES: Mapping[int, str] = MappingProxyType({
    1: "STANDARD", 2: "GRAND OPENING DAY", 3: "GRAND OPENING WEEK", 4: "SPECIALIZED",
    5: "DOOR GREETER", 6: "VIDEO", 7: "LAST MINUTE", 8: "ADD ON", 9: "",
    10: "MULTI-VENDOR DEMO", 11: "Company Funded", 12: "Holiday 6", 13: "Holiday 4",
    14: "Holiday 6.5", 15: "4 Hour", 16: "6 Hour", 17: "6.5 Hour", 18: "8 Hour",
    19: "Digital", 20: "Dispense", 21: "Digital Cart", 22: "Product Charge Only",
    23: "Service", 24: "Day Service", 25: "test", 26: "a", 27: "b", 28: "c",
    29: "Kiosk Changeover", 30: "Kiosk Service", 31: "Test-6-26-25",
})

# §6.4 `deptNbr` → Category — the server's Category table (it can disagree with an item's own
# `deptDesc`; see report.py for how both are shown). 46 keeps the server's double spaces.
CATEGORIES: Mapping[int, str] = MappingProxyType({
    1: "CANDY - SNACKS - BUSINESS", 2: "HEALTH AND BEAUTY AIDS",
    3: "OFFICE SUPPLIES AND STAMPS", 4: "TABLETOP AND BAGS", 5: "TELEVISIONS", 6: "IMAGING",
    7: "TOYS", 8: "PET SUPPLIES", 9: "RECREATION AND PLAY", 10: "POWER EQUIP - TOOLS - AUTO",
    11: "HOME EFF AND IMPROVEMENT", 12: "OUTDOOR LIVING", 13: "LAUNDRY AND HOME CARE",
    14: "HOUSEWARES", 15: "KITCHEN ELECTRICS", 16: "SEASONAL HARDWARE", 17: "FURNITURE",
    18: "SEASONAL DECOR", 19: "WINE", 20: "TABLETS AND CONNECTED DEVICES", 21: "DOMESTICS",
    22: "CHILDRENS APPAREL", 23: "MENS APPAREL", 24: "OPEN24", 25: "AUCTION",
    26: "E-BUSINESS MISC", 27: "PHARMACY", 28: "SPIRITS", 29: "PRINTERS AND INK",
    30: "TRAVEL", 31: "OFFICE ELECTRONICS", 32: "OFFICE FURNITURE", 33: "LADIES APPAREL",
    34: "TEAM APPAREL", 35: "GAS STATIONS", 36: "AUTOMOTIVE OIL AND CHEMICALS",
    37: "FRESH POULTRY PI", 38: "DAIRY", 39: "ICE CREAM", 40: "JUICE - WATER - SPORT DRINKS",
    41: "COFFEE AND BREAKFAST", 42: "COOLER", 43: "OIL - RICE - FRUITS - VEGETABLES",
    44: "FROZEN FOODS", 45: "TOBACCO", 46: "CANNED PROTEIN  CONDIMENTS  PASTA  SOUP",
    47: "BABY CARE", 48: "BREAD AND PASTRY", 49: "BAKING AND SPICES", 50: "TIRES",
    51: "SEASONAL FOODS", 52: "SODA", 53: "RESTAURANT SUPPLIES", 54: "OTC", 55: "BEER",
    56: "PRODUCE AND FLORAL", 57: "BRANDED DELI PI", 58: "SNACKS", 59: "HEARING AID CENTERS",
    60: "MATTRESSES", 61: "SEASONAL - ACCESSORIES", 62: "VENDING MACHINES",
    63: "SHOWCASE EVENTS", 64: "AUDIO", 65: "SUPPLIER DISPLAYS", 66: "FINE JEWELRY",
    67: "DIAMONDS", 68: "ACCESSORIES", 69: "GIFT CARDS", 70: "BOOKS",
    71: "MOBILE COMMISSIONS", 72: "GOURMET DELI AND HOME MEALS", 73: "COUPONS",
    74: "MOBILE HARDWARE", 75: "DR FEES", 76: "FRESH MEAT", 77: "BAKERY",
    78: "PLANNING SOLUTIONS", 79: "FOOD SERVICE", 80: "OPEN80", 81: "EXTENDED WARRANTY",
    82: "INSTANT SAVINGS", 83: "EXTREME VALUE GIFT CARDS", 84: "TAX OFFICE", 85: "PHOTO",
    86: "MOVIES AND MUSIC", 87: "MEMBERSHIP", 88: "OPTICAL", 89: "NURSERY AND GARDENING",
    90: "PURGEABLE", 91: "CAR WASH", 92: "AUTO BATTERY", 93: "BRANDED DELI",
    94: "PAPER GOODS", 95: "BASIC APPAREL", 96: "FRESH GOURMET", 97: "TBC SERVICES",
    98: "JANITORIAL", 99: "MISC",
})


def _lookup(table: Mapping[int, str], code: int | None, unknown: str) -> str:
    if code is None:
        return NOT_AVAILABLE
    # A code the table lacks, or one whose server description is blank (status 201, billing 9),
    # still prints something an associate can quote to EMS support.
    return table.get(code) or f"{unknown} {code}"


def event_type(code: int | None) -> str:
    """`Supplier` for 7; `Event Type 99` for an unknown code; `N/A` when missing."""
    return _lookup(EVENT_TYPES, code, "Event Type")


def status(code: int | None) -> str:
    """`APPROVED` for 2; `Status 99` for an unknown or blank code; `N/A` when missing."""
    return _lookup(STATUSES, code, "Status")


def billing_type(code: int | None) -> str:
    """`6 Hour` for 16; `Billing Type 99` for an unknown or blank code; `N/A` when missing."""
    return _lookup(BILLING_TYPES, code, "Billing Type")


def category(dept: int | None) -> str:
    """`DAIRY` for 38; `Department 100` for an unknown number; `N/A` when missing."""
    return _lookup(CATEGORIES, dept, "Department")


def is_cancelled(code: int | None) -> bool:
    return code in CANCELLED_STATUS_CODES
