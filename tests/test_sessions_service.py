"""The session store on SQLite and PostgreSQL: sign-in, sliding expiry, warnings, bad input, accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.scheduler import run_sweep
from bot.sessions.crypto import Cipher
from bot.sessions.models import (
    EndReason,
    OperationRecord,
    RetailLinkAccount,
    RetailLinkSession,
    SessionState,
)
from bot.sessions.notifier import RecordingNotifier
from bot.sessions.service import (
    CODE_TTL_SECONDS,
    AccountCredentials,
    AlreadySignedIn,
    NoAccount,
    NoSignInStarted,
    NotSignedIn,
    PendingCodeExpired,
    SessionService,
    UnreadableSession,
)
from tests.sessions_fixtures import (
    IDLE,
    T0,
    WARNING,
    FakeClock,
    sign_in,
)

Factory = sessionmaker[Session]


def row_of(factory: Factory, team: str = "T1", user: str = "U1") -> RetailLinkSession | None:
    with session_scope(factory) as db:
        return db.execute(select(RetailLinkSession).where(
            RetailLinkSession.team_id == team, RetailLinkSession.user_id == user)).scalar_one_or_none()


def snapshot(factory: Factory) -> list[tuple]:
    """Every session and account column, to prove a refusal wrote nothing."""
    with session_scope(factory) as db:
        sessions = db.execute(select(RetailLinkSession.__table__).order_by("id")).all()
        accounts = db.execute(select(RetailLinkAccount.__table__).order_by("id")).all()
    return [tuple(r) for r in sessions] + [tuple(r) for r in accounts]


# --- sign-in ---------------------------------------------------------------------------------------


def test_sign_in_then_use_returns_the_completed_state(factory: Factory,
                                                      service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1", b"the-state")
    with session_scope(factory) as db:
        active = service.use(db, "T1", "U1")
    assert active.client_state == b"the-state"
    assert active.expires_at == T0 + timedelta(seconds=IDLE)
    assert active.expires_at.tzinfo is not None and active.expires_at.utcoffset() == timedelta(0)


def test_pending_state_is_available_to_another_unit_of_work(factory: Factory,
                                                            service: SessionService) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"half-made")
    with session_scope(factory) as db:
        pending = service.get_pending(db, "T1", "U1")
    assert pending.client_state == b"half-made"
    assert pending.code_sent_at == T0
    assert "half-made" not in repr(pending)


def test_second_begin_replaces_a_pending_sign_in(factory: Factory, service: SessionService,
                                                 clock: FakeClock) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"first")
        service.record_wrong_code(db, "T1", "U1")
    clock.advance(30)
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"second")
    with session_scope(factory) as db:
        pending = service.get_pending(db, "T1", "U1")
    assert (pending.client_state, pending.wrong_code_count) == (b"second", 0)
    assert pending.code_sent_at == T0 + timedelta(seconds=30)


def test_wrong_codes_are_counted_and_keep_the_newer_state(factory: Factory,
                                                          service: SessionService) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"v0")
    with session_scope(factory) as db:
        assert service.record_wrong_code(db, "T1", "U1", b"v1") == 1
        assert service.record_wrong_code(db, "T1", "U1") == 2
    with session_scope(factory) as db:
        pending = service.get_pending(db, "T1", "U1")
    assert (pending.client_state, pending.wrong_code_count) == (b"v1", 2)


def test_sessions_are_kept_apart_by_team_and_user(factory: Factory, service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1", b"a")
    sign_in(factory, service, "T2", "U1", b"b")
    sign_in(factory, service, "terminal", "alice", b"c")
    with session_scope(factory) as db:
        assert service.use(db, "T1", "U1").client_state == b"a"
        assert service.use(db, "T2", "U1").client_state == b"b"
        assert service.use(db, "terminal", "alice").client_state == b"c"


# --- bad input: a typed outcome and nothing half-written ----------------------------------------


def test_unknown_user_is_not_signed_in(factory: Factory, service: SessionService) -> None:
    with session_scope(factory) as db:
        with pytest.raises(NotSignedIn) as caught:
            service.use(db, "T1", "nobody")
        assert caught.value.reason == "none"
        assert service.time_left(db, "T1", "nobody") is None
        assert service.status(db, "T1", "nobody").state is None
        assert service.end(db, "T1", "nobody", EndReason.LOGOUT) is False
        assert service.save_state(db, "T1", "nobody", b"x") is False
        with pytest.raises(NoAccount):
            service.account_for(db, "T1", "nobody")
    assert snapshot(factory) == []


def test_double_sign_in_is_refused_and_keeps_the_live_session(factory: Factory,
                                                               service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1", b"live")
    before = snapshot(factory)
    with pytest.raises(AlreadySignedIn) as caught, session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"intruder")
    assert caught.value.expires_at == T0 + timedelta(seconds=IDLE)
    assert snapshot(factory) == before
    with session_scope(factory) as db:
        assert service.use(db, "T1", "U1").client_state == b"live"


def test_begin_with_replace_starts_over_while_signed_in(factory: Factory,
                                                        service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1")
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"again", replace=True)
    with session_scope(factory) as db:
        assert service.status(db, "T1", "U1").state is SessionState.PENDING_CODE
        with pytest.raises(NotSignedIn) as caught:
            service.use(db, "T1", "U1")
    assert caught.value.reason == "pending_code"


def test_completing_a_sign_in_never_started_is_refused(factory: Factory,
                                                       service: SessionService) -> None:
    with pytest.raises(NoSignInStarted), session_scope(factory) as db:
        service.complete_sign_in(db, "T1", "U1", b"state")
    with pytest.raises(NoSignInStarted), session_scope(factory) as db:
        service.get_pending(db, "T1", "U1")
    with pytest.raises(NoSignInStarted), session_scope(factory) as db:
        service.record_wrong_code(db, "T1", "U1")
    assert snapshot(factory) == []


def test_completing_twice_says_already_signed_in(factory: Factory, service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1")
    before = snapshot(factory)
    with pytest.raises(AlreadySignedIn), session_scope(factory) as db:
        service.complete_sign_in(db, "T1", "U1", b"again")
    assert snapshot(factory) == before


def test_an_expired_pending_code_cannot_be_completed(factory: Factory, service: SessionService,
                                                     clock: FakeClock) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"pending")
    clock.advance(CODE_TTL_SECONDS - 1)
    with session_scope(factory) as db:
        assert service.get_pending(db, "T1", "U1").client_state == b"pending"
    clock.advance(1)
    before = snapshot(factory)
    for attempt in (service.complete_sign_in, service.record_wrong_code):
        with pytest.raises(PendingCodeExpired), session_scope(factory) as db:
            attempt(db, "T1", "U1", b"signed")
    with pytest.raises(PendingCodeExpired), session_scope(factory) as db:
        service.get_pending(db, "T1", "U1")
    assert snapshot(factory) == before
    with session_scope(factory) as db:
        assert service.status(db, "T1", "U1").state is SessionState.PENDING_CODE


def test_the_sweep_drops_abandoned_sign_ins_without_notice(factory: Factory,
                                                           service: SessionService,
                                                           clock: FakeClock) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"pending")
    clock.advance(CODE_TTL_SECONDS)
    notifier = RecordingNotifier()
    assert run_sweep(factory, service, notifier).abandoned == 1
    assert (notifier.expired, notifier.expiring) == ([], [])
    row = row_of(factory)
    assert row and (row.state, row.end_reason, row.client_state_encrypted) == (
        "ended", "code_expired", None)


# --- sliding expiry with a controllable clock ------------------------------------------------------


def test_use_slides_the_expiry_from_the_moment_of_use(factory: Factory, service: SessionService,
                                                      clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1")
    for _ in range(5):  # 5 × 500 s: far past one idle timeout, alive because it is used
        clock.advance(IDLE - 100)
        with session_scope(factory) as db:
            assert service.use(db, "T1", "U1").expires_at == clock.now + timedelta(seconds=IDLE)
    with session_scope(factory) as db:
        assert service.time_left(db, "T1", "U1") == timedelta(seconds=IDLE)
        clock.advance(IDLE - 1)
        assert service.time_left(db, "T1", "U1") == timedelta(seconds=1)


def test_idleness_expires_the_session_at_exactly_the_timeout(factory: Factory,
                                                             service: SessionService,
                                                             clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1")
    clock.advance(IDLE)
    with session_scope(factory) as db:
        with pytest.raises(NotSignedIn) as caught:
            service.use(db, "T1", "U1")
        assert caught.value.reason == "expired"
        assert service.time_left(db, "T1", "U1") is None
    row = row_of(factory)
    assert row and row.expires_at == T0 + timedelta(seconds=IDLE)  # a refused use does not slide


def test_an_expired_session_can_be_signed_in_again(factory: Factory, service: SessionService,
                                                   clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1", b"old")
    clock.advance(IDLE + 5)
    sign_in(factory, service, "T1", "U1", b"new")
    with session_scope(factory) as db:
        assert service.use(db, "T1", "U1").client_state == b"new"


def test_the_warning_fires_once_per_idle_period(factory: Factory, service: SessionService,
                                                clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1")
    notifier = RecordingNotifier()
    clock.advance(IDLE - WARNING - 1)
    run_sweep(factory, service, notifier)
    assert notifier.expiring == []  # not yet inside the warning window
    clock.advance(1)
    run_sweep(factory, service, notifier)
    clock.advance(30)
    run_sweep(factory, service, notifier)
    assert [n.expires_at for n in notifier.expiring] == [T0 + timedelta(seconds=IDLE)]

    with session_scope(factory) as db:  # use re-arms it for the next idle period
        service.use(db, "T1", "U1")
    used_at = clock.now
    clock.advance(IDLE - WARNING)
    run_sweep(factory, service, notifier)
    run_sweep(factory, service, notifier)
    assert [n.expires_at for n in notifier.expiring] == [
        T0 + timedelta(seconds=IDLE), used_at + timedelta(seconds=IDLE)]

    clock.advance(WARNING)
    result = run_sweep(factory, service, notifier)
    assert [(n.team_id, n.user_id) for n in result.expired] == [("T1", "U1")]
    assert len(notifier.expiring) == 2 and len(notifier.expired) == 1
    run_sweep(factory, service, notifier)
    assert len(notifier.expired) == 1


def test_sweep_ends_only_expired_sessions_and_wipes_their_state(factory: Factory,
                                                                service: SessionService,
                                                                clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "idle")
    clock.advance(300)
    sign_in(factory, service, "T1", "busy")
    clock.advance(IDLE - 300)
    notifier = RecordingNotifier()
    run_sweep(factory, service, notifier)
    assert [n.user_id for n in notifier.expired] == ["idle"]
    idle = row_of(factory, "T1", "idle")
    assert idle and idle.state == "ended" and idle.end_reason == "expired"
    assert idle.client_state_encrypted is None and idle.end_notified_at == clock.now
    with session_scope(factory) as db:
        assert service.use(db, "T1", "busy")
        with pytest.raises(NotSignedIn) as caught:
            service.use(db, "T1", "idle")
    assert caught.value.reason == "expired"


def test_the_database_clock_is_the_default(factory: Factory, cipher: Cipher) -> None:
    real = SessionService(cipher, idle_timeout_seconds=IDLE)  # no clock: the database's now()
    sign_in(factory, real, "T1", "U1")
    with session_scope(factory) as db:
        left = real.time_left(db, "T1", "U1")
    assert left is not None and timedelta(seconds=IDLE - 60) < left <= timedelta(seconds=IDLE)


# --- saving and ending ----------------------------------------------------------------------------


def test_save_state_keeps_refreshed_cookies(factory: Factory, service: SessionService) -> None:
    sign_in(factory, service, "T1", "U1", b"v1")
    with session_scope(factory) as db:
        assert service.save_state(db, "T1", "U1", b"v2") is True
    with session_scope(factory) as db:
        assert service.use(db, "T1", "U1").client_state == b"v2"


@pytest.mark.parametrize("reason", list(EndReason))
def test_end_wipes_the_state_and_says_why(factory: Factory, service: SessionService,
                                          reason: EndReason) -> None:
    sign_in(factory, service, "T1", "U1")
    with session_scope(factory) as db:
        assert service.end(db, "T1", "U1", reason) is True
        assert service.end(db, "T1", "U1", reason) is False
    row = row_of(factory)
    assert row and (row.state, row.end_reason, row.client_state_encrypted) == (
        "ended", reason.value, None)
    with session_scope(factory) as db:
        with pytest.raises(NotSignedIn) as caught:
            service.use(db, "T1", "U1")
        assert service.save_state(db, "T1", "U1", b"late") is False  # a logout is not undone
    assert caught.value.reason == reason.value


def test_a_session_that_does_not_decrypt_is_ended_not_crashed_on(factory: Factory,
                                                                 service: SessionService,
                                                                 clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1")
    rekeyed = SessionService(Cipher([Fernet.generate_key()]), idle_timeout_seconds=IDLE,
                             clock=clock)
    with pytest.raises(UnreadableSession) as caught, session_scope(factory) as db:
        rekeyed.use(db, "T1", "U1")
    assert "encryption key" in str(caught.value)
    row = row_of(factory)
    assert row and (row.state, row.end_reason, row.client_state_encrypted) == (
        "ended", "unreadable", None)


def test_a_rotated_key_still_reads_old_sessions(factory: Factory, service: SessionService,
                                                clock: FakeClock) -> None:
    old_key = Fernet.generate_key()
    before = SessionService(Cipher([old_key]), clock=clock)
    sign_in(factory, before, "T1", "U1", b"state")
    after = SessionService(Cipher([Fernet.generate_key(), old_key]), clock=clock)
    with session_scope(factory) as db:
        assert after.use(db, "T1", "U1").client_state == b"state"


# --- accounts and the audit trail --------------------------------------------------------------


def test_saved_accounts_round_trip_and_mask_their_repr(factory: Factory,
                                                       service: SessionService) -> None:
    with session_scope(factory) as db:
        service.save_account(db, "T1", "U1", username="ann@example.com", password="pa55word",
                             credential_id="5550001")
    with session_scope(factory) as db:
        account = service.account_for(db, "T1", "U1")
    assert (account.username, account.password, account.credential_id) == (
        "ann@example.com", "pa55word", "5550001")
    assert "pa55word" not in repr(account) and "5550001" not in repr(account)
    with session_scope(factory) as db:
        raw = db.execute(select(RetailLinkAccount)).scalar_one()
    assert "ann@example.com" not in (raw.username_encrypted or "")


def test_the_default_account_comes_from_the_environment(factory: Factory, cipher: Cipher,
                                                        clock: FakeClock) -> None:
    default = AccountCredentials("env@example.com", "env-pass", "555", is_default=True)
    with_default = SessionService(cipher, default_account=default, clock=clock)
    without = SessionService(cipher, clock=clock)
    with session_scope(factory) as db:
        with_default.save_account(db, "T1", "U1", username="a", password="b", credential_id="c")
        with_default.use_default_account(db, "T1", "U1")  # replaces the saved login
    with session_scope(factory) as db:
        assert with_default.account_for(db, "T1", "U1") is default
        with pytest.raises(NoAccount, match="No default"):
            without.account_for(db, "T1", "U1")
        raw = db.execute(select(RetailLinkAccount)).scalar_one()
        assert raw.password_encrypted is None
        assert with_default.forget_account(db, "T1", "U1") is True
    with session_scope(factory) as db, pytest.raises(NoAccount):
        with_default.account_for(db, "T1", "U1")


def test_operations_are_audited_without_secrets(factory: Factory, service: SessionService,
                                                clock: FakeClock) -> None:
    with session_scope(factory) as db:
        service.record_operation(db, "T1", "U1", "edr", [547955, "548230"], "ok")
        clock.advance(5)
        service.record_operation(db, "T1", "U1", "sign_in", (), "WrongCode")
    with session_scope(factory) as db:
        rows = db.execute(select(OperationRecord).order_by(OperationRecord.id)).scalars().all()
        assert db.execute(select(func.count()).select_from(OperationRecord)).scalar() == 2
    assert [(r.operation, r.event_ids, r.outcome, r.occurred_at) for r in rows] == [
        ("edr", [547955, 548230], "ok", T0),
        ("sign_in", [], "WrongCode", T0 + timedelta(seconds=5)),
    ]


def test_a_sweep_claims_at_most_its_limit(factory: Factory, service: SessionService,
                                          clock: FakeClock) -> None:
    for i in range(12):
        sign_in(factory, service, "T1", f"U{i}")
    clock.advance(IDLE)
    sizes = [len(run_sweep(factory, service, RecordingNotifier(), limit=5).expired)
             for _ in range(4)]
    assert sizes == [5, 5, 2, 0]


def test_a_pending_sign_in_that_does_not_decrypt_is_ended(factory: Factory, clock: FakeClock,
                                                          service: SessionService) -> None:
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", b"half-made")
    rekeyed = SessionService(Cipher([Fernet.generate_key()]), clock=clock)
    with pytest.raises(UnreadableSession), session_scope(factory) as db:
        rekeyed.get_pending(db, "T1", "U1")
    row = row_of(factory)
    assert row and (row.state, row.end_reason) == ("ended", "unreadable")
