"""The EMS code tables (EDR_FORM.md §6) and their lookups."""

import pytest

from bot.edr import codes


def test_tables_have_every_code_of_the_form_spec():
    assert len(codes.EVENT_TYPES) == 56
    assert 2 not in codes.EVENT_TYPES
    assert set(codes.EVENT_TYPES) == {1, *range(3, 58)}
    assert len(codes.STATUSES) == 19
    assert set(codes.BILLING_TYPES) == set(range(1, 32))
    assert set(codes.CATEGORIES) == set(range(1, 100))


@pytest.mark.parametrize(
    "table", [codes.EVENT_TYPES, codes.STATUSES, codes.BILLING_TYPES, codes.CATEGORIES]
)
def test_descriptions_are_trimmed(table):
    assert all(text == text.strip() for text in table.values())


def test_only_status_201_and_billing_9_are_blank():
    blanks = [(name, code) for name, table in
              (("status", codes.STATUSES), ("billing", codes.BILLING_TYPES),
               ("event", codes.EVENT_TYPES), ("category", codes.CATEGORIES))
              for code, text in table.items() if not text]
    assert blanks == [("status", 201), ("billing", 9)]


@pytest.mark.parametrize(("lookup", "code", "expected"), [
    (codes.event_type, 1, "UNMANNED DEMO"),
    (codes.event_type, 7, "Supplier"),
    (codes.event_type, 45, "Club Choice Accrual"),
    (codes.event_type, 57, "MAP - Supplier Pairing"),
    (codes.status, 0, "NEW"),
    (codes.status, 3, "CANCELLED"),
    (codes.status, 5, "NONPERFORMED"),
    (codes.status, 200, "SUPPLIER-CANCELLED"),
    (codes.status, 202, "PERFORMED"),
    (codes.billing_type, 16, "6 Hour"),
    (codes.billing_type, 21, "Digital Cart"),
    (codes.category, 41, "COFFEE AND BREAKFAST"),
    (codes.category, 64, "AUDIO"),
    (codes.category, 78, "PLANNING SOLUTIONS"),
    (codes.category, 46, "CANNED PROTEIN  CONDIMENTS  PASTA  SOUP"),
    (codes.category, 99, "MISC"),
])
def test_known_codes_translate_to_the_server_description(lookup, code, expected):
    assert lookup(code) == expected


@pytest.mark.parametrize(("lookup", "code", "expected"), [
    (codes.event_type, 99, "Event Type 99"),
    (codes.event_type, 2, "Event Type 2"),
    (codes.status, 8, "Status 8"),
    (codes.status, 201, "Status 201"),
    (codes.billing_type, 9, "Billing Type 9"),
    (codes.billing_type, 32, "Billing Type 32"),
    (codes.category, 0, "Department 0"),
    (codes.category, 100, "Department 100"),
])
def test_unknown_or_blank_codes_print_the_code(lookup, code, expected):
    assert lookup(code) == expected


@pytest.mark.parametrize("lookup",
                         [codes.event_type, codes.status, codes.billing_type, codes.category])
def test_missing_codes_print_not_available(lookup):
    assert lookup(None) == "N/A"


def test_cancelled_means_cancelled_or_supplier_cancelled_not_nonperformed():
    assert set(codes.CANCELLED_STATUS_CODES) == {3, 200}
    assert codes.is_cancelled(3) and codes.is_cancelled(200)
    assert not codes.is_cancelled(5)
    assert not codes.is_cancelled(2)
    assert not codes.is_cancelled(None)
