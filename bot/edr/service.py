"""One call from "this day, this kind" (or a list of event ids) to rendered EDR PDFs, concurrently."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from bot.edr import codes
from bot.edr.kinds import Kind, NoSupervisorEvents, classify, select
from bot.edr.pdf import render_combined, render_edr
from bot.edr.report import build_report, edr_filename
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.errors import Blocked, NotFound, RetailLinkError, SessionExpired
from bot.retail_link.models import Edr, ListedEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdrRequest:
    """What to print: a store's day (optionally one kind), or explicit event ids."""

    store: int
    day: date | None = None
    kind: Kind = Kind.ALL
    event_ids: tuple[int, ...] = ()
    include_cancelled: bool = False

    def __post_init__(self) -> None:
        if (self.day is None) == (not self.event_ids):
            raise ValueError("give either a day or event ids")


@dataclass(frozen=True)
class EdrOutcome:
    """One event's result: a PDF, or the reason there is none."""

    event_id: int
    name: str | None = None
    kind: Kind | None = None
    filename: str | None = None
    pdf: bytes | None = field(default=None, repr=False)
    reason: str | None = None
    skipped: bool = False  # left out on purpose (e.g. cancelled at the store), not a failure

    @property
    def ok(self) -> bool:
        return self.pdf is not None


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    last: EdrOutcome | None


@dataclass(frozen=True)
class Batch:
    request: EdrRequest
    outcomes: tuple[EdrOutcome, ...]
    combined: bytes | None = field(default=None, repr=False)
    combined_filename: str | None = None
    session_expired: bool = False

    @property
    def files(self) -> list[EdrOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failures(self) -> list[EdrOutcome]:
        return [o for o in self.outcomes if not o.ok and not o.skipped]


@dataclass(frozen=True)
class Target:
    """An event to fetch, with what the listing already said about it."""

    event_id: int
    name: str | None = None
    kind: Kind | None = None


ProgressCallback = Callable[[Progress], None]


class EdrService:
    """Lists, fetches (at most `concurrency` requests in flight) and renders a batch of EDRs."""

    def __init__(self, client: RetailLinkClient, *, concurrency: int = 6) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)

    def find_events(self, store: int, day: date, kind: Kind = Kind.ALL, *,
                    include_cancelled: bool = False) -> list[ListedEvent]:
        """A store's events of one kind on a day. Raises NoSupervisorEvents for `supervisor`."""
        if kind is Kind.SUPERVISOR:
            raise NoSupervisorEvents()  # before any Walmart call
        events = self.client.browse_events(store, day)
        return select(events, kind, include_cancelled=include_cancelled)

    def run(self, request: EdrRequest, progress: ProgressCallback | None = None) -> Batch:
        """Find the events (for a day) and fetch + render every EDR; one failure never sinks it."""
        if request.day is not None:
            listed = self.find_events(request.store, request.day, request.kind,
                                      include_cancelled=request.include_cancelled)
            targets = [Target(e.event_id, e.name, classify(e.bill_type, e.event_type))
                       for e in listed]
        else:
            targets = [Target(event_id) for event_id in dict.fromkeys(request.event_ids)]
        return self.fetch(request, targets, progress)

    def fetch(self, request: EdrRequest, targets: Sequence[Target],
              progress: ProgressCallback | None = None) -> Batch:
        total = len(targets)
        if progress:
            progress(Progress(0, total, None))
        stop = threading.Event()  # set once the session is gone: further calls are pointless
        results: dict[int, EdrOutcome] = {}
        with ThreadPoolExecutor(max_workers=self.concurrency,
                                thread_name_prefix="edr-fetch") as pool:
            futures: dict[Future[Edr | EdrOutcome], int] = {
                pool.submit(self._fetch_one, target, stop): index
                for index, target in enumerate(targets)
            }
            # Rendering happens here, on the calling thread, while the pool keeps fetching.
            for done, future in enumerate(as_completed(futures), start=1):
                outcome = self._finish(future.result(), request)
                results[futures[future]] = outcome
                if progress:
                    progress(Progress(done, total, outcome))
        outcomes = tuple(results[i] for i in range(total))
        pdfs = [o.pdf for o in outcomes if o.pdf is not None]
        combined = render_combined(pdfs) if pdfs else None
        return Batch(request, outcomes, combined, _combined_name(request) if combined else None,
                     session_expired=stop.is_set())

    def _fetch_one(self, target: Target, stop: threading.Event) -> Edr | EdrOutcome:
        failed = partial(EdrOutcome, target.event_id, target.name, target.kind)
        if stop.is_set():
            return failed(reason="not fetched: the Retail Link session ended")
        try:
            return self.client.edr_report(target.event_id)
        except NotFound:
            return failed(reason="Retail Link has no event with this id")
        except (SessionExpired, Blocked) as exc:
            stop.set()
            return failed(reason=str(exc))
        except RetailLinkError as exc:
            return failed(reason=str(exc))

    def _finish(self, fetched: Edr | EdrOutcome, request: EdrRequest) -> EdrOutcome:
        if isinstance(fetched, EdrOutcome):
            return fetched
        edr = fetched
        kind = classify(codes.billing_type(edr.bill_type_code), codes.event_type(edr.class_code))
        club = edr.club(request.store)
        status = club.status_code if club and club.status_code is not None else edr.status_code
        if codes.is_cancelled(status) and not request.include_cancelled:
            where = f"at store {request.store}" if club else "by Walmart"
            return EdrOutcome(edr.demo_id, edr.name, kind, reason=f"cancelled {where}",
                              skipped=True)
        try:
            report = build_report(edr, request.store)
            pdf = render_edr(report)
        except Exception:  # a rendering bug must cost one event, not the batch
            log.exception("could not render EDR %s", edr.demo_id)
            return EdrOutcome(edr.demo_id, edr.name, kind,
                              reason="the PDF could not be rendered (bug logged)")
        return EdrOutcome(edr.demo_id, edr.name, kind, edr_filename(report), pdf)


def _combined_name(request: EdrRequest) -> str:
    if request.day is not None:
        return f"EDRs_{request.day.isoformat()}_{request.kind.value}_store{request.store}.pdf"
    return f"EDRs_{len(request.event_ids)}-events_store{request.store}.pdf"
