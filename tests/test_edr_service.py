"""The EDR batch service against the sandbox: selection, concurrency, progress, partial failure."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from bot.edr.kinds import Kind, NoSupervisorEvents
from bot.edr.service import EdrRequest, EdrService, Progress
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

DAY = date(2024, 10, 5)
CORE_IDS = [547812, 547955, 548021, 548104, 548466, 548512]  # 6 Hour, not cancelled, listing order


def service(sandbox: SandboxServer, concurrency: int = 6) -> EdrService:
    client = RetailLinkClient(sandbox.url, sandbox.url, concurrency=concurrency)
    client.start_login(DEFAULT_ACCOUNT.username, DEFAULT_ACCOUNT.password, DEFAULT_ACCOUNT.credid)
    client.complete_login(sandbox.last_code(DEFAULT_ACCOUNT.username) or "")
    return EdrService(client, concurrency=concurrency)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split())
                    for page in PdfReader(io.BytesIO(data)).pages)


def test_core_day_gives_one_pdf_per_core_event_in_listing_order(sandbox: SandboxServer) -> None:
    batch = service(sandbox).run(EdrRequest(8135, DAY, Kind.CORE))
    assert [o.event_id for o in batch.outcomes] == CORE_IDS
    assert all(o.ok and o.kind is Kind.CORE for o in batch.outcomes)
    for outcome in batch.outcomes:
        assert (outcome.filename or "").startswith(f"EDR_2024-10-05_{outcome.event_id}_")
        assert str(outcome.event_id) in pdf_text(outcome.pdf or b"")
    assert batch.combined is not None and batch.combined_filename
    combined = PdfReader(io.BytesIO(batch.combined))
    assert len(combined.pages) == sum(len(PdfReader(io.BytesIO(o.pdf or b"")).pages)
                                      for o in batch.outcomes)
    first_page = " ".join((combined.pages[0].extract_text() or "").split())
    assert str(CORE_IDS[0]) in first_page


def test_all_kinds_leave_out_the_cancelled_event_unless_asked(sandbox: SandboxServer) -> None:
    svc = service(sandbox)
    everything = svc.run(EdrRequest(8135, DAY))
    assert len(everything.outcomes) == 11 and 548150 not in [o.event_id for o in everything.outcomes]
    kinds = {o.event_id: o.kind for o in everything.outcomes}
    assert kinds[548230] is Kind.JUICER and kinds[548301] is Kind.DIGITAL
    assert kinds[548345] is Kind.FREEOSK and kinds[548402] is Kind.OTHER
    with_cancelled = svc.run(EdrRequest(8135, DAY, Kind.CORE, include_cancelled=True))
    assert 548150 in [o.event_id for o in with_cancelled.files]


def test_cancelled_event_asked_by_id_is_skipped_with_a_reason(sandbox: SandboxServer) -> None:
    batch = service(sandbox).run(EdrRequest(8135, event_ids=(548150, 547812)))
    skipped, ok = batch.outcomes
    assert skipped.skipped and not skipped.ok and "cancelled at store 8135" in (skipped.reason or "")
    assert ok.ok and batch.failures == []


def test_supervisor_is_explained_before_any_walmart_call(sandbox: SandboxServer) -> None:
    svc = service(sandbox)
    before = len(sandbox.requests_seen)
    with pytest.raises(NoSupervisorEvents) as caught:
        svc.run(EdrRequest(8135, DAY, Kind.SUPERVISOR))
    assert "no supervisor events" in str(caught.value)
    assert len(sandbox.requests_seen) == before


def test_ids_keep_order_and_one_unknown_id_does_not_sink_the_batch(sandbox: SandboxServer) -> None:
    batch = service(sandbox).run(EdrRequest(8135, event_ids=(548390, 999999, 547955)))
    assert [o.event_id for o in batch.outcomes] == [548390, 999999, 547955]
    assert [o.ok for o in batch.outcomes] == [True, False, True]
    assert "no event" in (batch.outcomes[1].reason or "")
    assert len(PdfReader(io.BytesIO(batch.outcomes[0].pdf or b"")).pages) > 1


def test_token_expiry_mid_batch_fails_the_rest_and_says_so(sandbox: SandboxServer) -> None:
    svc = service(sandbox, concurrency=1)
    sandbox.expire_tokens_after(3)  # the listing call, then two EDRs
    batch = svc.run(EdrRequest(8135, DAY, Kind.CORE))
    assert [o.ok for o in batch.outcomes] == [True, True, False, False, False, False]
    assert batch.session_expired
    assert all("session" in (o.reason or "").lower() for o in batch.failures)
    # After the first refusal nothing else is sent to Walmart.
    edr_calls = [r for r in sandbox.requests_seen if r.path.endswith("/edrReport")]
    assert len(edr_calls) == 3


def test_server_errors_cost_only_the_event_they_hit(sandbox: SandboxServer) -> None:
    svc = service(sandbox, concurrency=1)
    sandbox.fail_next(4, status=500, path_prefix="/EventManagement/api/edrReport")
    batch = svc.run(EdrRequest(8135, DAY, Kind.CORE))
    assert [o.ok for o in batch.outcomes] == [False, True, True, True, True, True]
    assert "HTTP 500" in (batch.outcomes[0].reason or "")
    assert batch.outcomes[0].kind is Kind.CORE  # known from the listing even without the EDR


def test_rate_limit_during_a_batch_is_waited_out(sandbox: SandboxServer) -> None:
    svc = service(sandbox, concurrency=2)
    sandbox.rate_limit_next(2, retry_after=1, path_prefix="/EventManagement/api/edrReport")
    batch = svc.run(EdrRequest(8135, DAY, Kind.CORE))
    assert batch.failures == [] and len(batch.files) == len(CORE_IDS)


def test_at_most_concurrency_requests_are_in_flight(sandbox: SandboxServer) -> None:
    svc = service(sandbox, concurrency=3)
    sandbox.latency_seconds = 0.05
    sandbox.reset_stats()
    svc.run(EdrRequest(8135, DAY))
    assert sandbox.max_in_flight == 3


def test_progress_reports_every_event(sandbox: SandboxServer) -> None:
    seen: list[Progress] = []
    service(sandbox).run(EdrRequest(8135, DAY, Kind.CORE), progress=seen.append)
    assert [p.done for p in seen] == list(range(len(CORE_IDS) + 1))
    assert {p.total for p in seen} == {len(CORE_IDS)}
    assert seen[0].last is None and all(p.last is not None for p in seen[1:])


def test_a_day_without_events_of_that_kind_is_an_empty_batch(sandbox: SandboxServer) -> None:
    batch = service(sandbox).run(EdrRequest(8135, date(2024, 10, 7), Kind.JUICER))
    assert batch.outcomes == () and batch.combined is None
