"""Which kind of event a Retail Link row is, by Walmart's own fields — every rule lives here.

Walmart's event names do not follow the scheduling side's naming rules (EDR_FORM.md §7.1: a core
demo's name has no "CORE"), so the kind comes from the billing type and event type that Walmart
itself assigns, tested in this order; the first hit wins:

| kind      | rule                                                                 |
|-----------|----------------------------------------------------------------------|
| core      | billing type "6 Hour" — the 6-hour demo, whatever its name            |
| juicer    | billing type "8 Hour" — the 8-hour production day                     |
| digital   | event type contains "Digital", or billing type "Digital"/"Digital Cart" |
| freeosk   | event type contains "Freeosk", or billing type "Kiosk Service"/"Kiosk Changeover" |
| other     | everything else (vendor-performed service, supply scan-outs, ...)     |

`supervisor` is a scheduling-side companion of a core event (EDR_FORM.md §7.1); Walmart has no
such events, so asking for it is answered with an explanation, not an empty success.
Cancelled events (status text containing "CANCEL", codes 3 and 200) are left out unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.retail_link.models import ListedEvent


class Kind(StrEnum):
    CORE = "core"
    JUICER = "juicer"
    SUPERVISOR = "supervisor"
    DIGITAL = "digital"
    FREEOSK = "freeosk"
    OTHER = "other"
    ALL = "all"


KIND_HELP = {
    Kind.CORE: "6-hour demos",
    Kind.JUICER: "8-hour juicer production days",
    Kind.DIGITAL: "digital events (carts, setups, teardowns)",
    Kind.FREEOSK: "Freeosk kiosk events",
    Kind.OTHER: "everything else (services, supply scan-outs)",
    Kind.SUPERVISOR: "not a Walmart event type (see help)",
    Kind.ALL: "every event of the day (the default)",
}

SUPERVISOR_EXPLANATION = (
    "Walmart has no supervisor events: a supervisor check-in is a scheduling-side companion of "
    "a core demo, with no Event Detail Report of its own. Print the core EDRs instead (kind `core`)."
)

_CORE_BILLS = {"6 hour"}
_JUICER_BILLS = {"8 hour"}
_DIGITAL_BILLS = {"digital", "digital cart"}
_FREEOSK_BILLS = {"kiosk service", "kiosk changeover"}


class NoSupervisorEvents(ValueError):
    """Raised for kind `supervisor`; its message explains why to the user."""

    def __init__(self) -> None:
        super().__init__(SUPERVISOR_EXPLANATION)


class UnknownKind(ValueError):
    def __init__(self, text: str) -> None:
        names = ", ".join(k.value for k in Kind)
        super().__init__(f"Unknown event kind {text!r}. Use one of: {names}.")


def parse_kind(text: str | None) -> Kind:
    """`None`/empty means all; anything else must name a kind (plurals forgiven)."""
    if not text:
        return Kind.ALL
    word = text.strip().lower()
    for candidate in (word, word.removesuffix("s")):
        try:
            return Kind(candidate)
        except ValueError:
            continue
    raise UnknownKind(text)


def classify(bill_type: str | None, event_type: str | None) -> Kind:
    """The kind of an event from Walmart's billing type and event type descriptions."""
    bill = (bill_type or "").strip().lower()
    etype = (event_type or "").strip().lower()
    if bill in _CORE_BILLS:
        return Kind.CORE
    if bill in _JUICER_BILLS:
        return Kind.JUICER
    if "digital" in etype or bill in _DIGITAL_BILLS:
        return Kind.DIGITAL
    if "freeosk" in etype or bill in _FREEOSK_BILLS:
        return Kind.FREEOSK
    return Kind.OTHER


def select(events: Iterable[ListedEvent], kind: Kind, *,
           include_cancelled: bool = False) -> list[ListedEvent]:
    """The events of one kind, in listing order, cancelled ones dropped unless asked for."""
    if kind is Kind.SUPERVISOR:
        raise NoSupervisorEvents()
    return [
        event
        for event in events
        if (include_cancelled or not event.cancelled)
        and (kind is Kind.ALL or classify(event.bill_type, event.event_type) is kind)
    ]
