"""The session store: sign-ins, the sliding idle expiry, saved accounts, the audit trail, the sweep.

Every method takes the caller's unit of work (`db`) and never commits: the boundary (a Slack
request, the scheduler job, a terminal run) opens it with `bot.db.session_scope` and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import CommitAndRaise
from bot.sessions.crypto import Cipher, Undecryptable, cipher_from_settings
from bot.sessions.models import EndReason, RetailLinkSession, SessionState
from bot.sessions.notifier import SessionNotice
from bot.sessions.repository import SessionRepository

log = logging.getLogger(__name__)

# The original assumed an SMS code lives 5 minutes (PROTOCOL.md §7, not verified); a pending
# sign-in older than this is refused here and dropped by the sweep.
CODE_TTL_SECONDS = 300

Clock = Callable[[], datetime]


# --- outcomes ------------------------------------------------------------------------------------


class SessionStoreError(Exception):
    """Base of the store's refusals. `str(error)` is safe to show the user."""


class NotSignedIn(SessionStoreError):
    """No live signed-in session. `reason`: none, pending_code, expired, or an EndReason value."""

    def __init__(self, reason: str = "none") -> None:
        self.reason = reason
        messages = {
            "pending_code": "Your Retail Link sign-in is waiting for the SMS code.",
            EndReason.EXPIRED.value: "Your Retail Link session expired. Sign in again.",
            EndReason.LOCKED.value: "Your Retail Link account was locked. Sign in again.",
            EndReason.WALMART_EXPIRED.value: "Retail Link ended your session. Sign in again.",
            EndReason.UNREADABLE.value: (
                "Your saved Retail Link session could not be read (the bot's encryption key "
                "changed). Sign in again."
            ),
        }
        super().__init__(messages.get(reason, "You are not signed in to Retail Link."))


class UnreadableSession(NotSignedIn, CommitAndRaise):
    """The stored state did not decrypt; the session has been ended (and that end is kept)."""

    def __init__(self) -> None:
        super().__init__(EndReason.UNREADABLE.value)


class AlreadySignedIn(SessionStoreError):
    def __init__(self, expires_at: datetime | None) -> None:
        self.expires_at = expires_at
        super().__init__("You are already signed in to Retail Link.")


class NoSignInStarted(SessionStoreError):
    def __init__(self) -> None:
        super().__init__("No Retail Link sign-in is waiting for a code. Start a new sign-in.")


class PendingCodeExpired(SessionStoreError):
    def __init__(self) -> None:
        super().__init__("The SMS code has expired. Start a new sign-in to get another one.")


class NoAccount(SessionStoreError):
    def __init__(self, message: str = "No Retail Link account is set up for you yet.") -> None:
        super().__init__(message)


# --- values handed out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveSession:
    team_id: str
    user_id: str
    client_state: bytes = field(repr=False)  # RetailLinkClient.from_state(...) input
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    team_id: str
    user_id: str
    client_state: bytes = field(repr=False)
    code_sent_at: datetime
    wrong_code_count: int


@dataclass(frozen=True, slots=True)
class SessionStatus:
    state: SessionState | None  # None: never signed in
    expires_at: datetime | None
    time_left: timedelta | None  # only while signed in and not yet expired
    end_reason: str | None


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    """A Retail Link login. The repr masks everything but the username."""

    username: str
    password: str = field(repr=False)
    credential_id: str = field(repr=False)
    is_default: bool = False

    def __repr__(self) -> str:
        return (f"AccountCredentials(username={self.username!r}, password='**********', "
                f"credential_id='****', is_default={self.is_default})")


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired: list[SessionNotice]
    expiring: list[SessionNotice]
    abandoned: int  # pending sign-ins whose code ran out


# --- the service ---------------------------------------------------------------------------------


class SessionService:
    """Per-user Retail Link sessions keyed by (team_id, user_id); the terminal uses ("terminal", user).

    Time: with `clock=None` (production) every instant is the database's clock, read inside the
    statement that uses it, so instances with skewed clocks never disagree about who is expired.
    Tests pass `clock`; its reading is bound as a parameter into the very same SQL arithmetic, so
    expiry is tested without sleeping and without a second code path.
    """

    def __init__(self, cipher: Cipher, *, idle_timeout_seconds: int = 600,
                 warning_seconds: int = 60, code_ttl_seconds: int = CODE_TTL_SECONDS,
                 default_account: AccountCredentials | None = None,
                 clock: Clock | None = None) -> None:
        self.cipher = cipher
        self.idle_timeout = idle_timeout_seconds
        self.warning = warning_seconds
        self.code_ttl = code_ttl_seconds
        self.default_account = default_account
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, cipher: Cipher | None = None,
                      clock: Clock | None = None) -> SessionService:
        default = None
        if not settings.missing_credentials():
            assert settings.WALMART_EDR_USERNAME and settings.WALMART_EDR_PASSWORD
            assert settings.WALMART_EDR_MFA_CREDENTIAL_ID
            default = AccountCredentials(
                settings.WALMART_EDR_USERNAME, settings.WALMART_EDR_PASSWORD.get_secret_value(),
                settings.WALMART_EDR_MFA_CREDENTIAL_ID, is_default=True,
            )
        return cls(
            cipher or cipher_from_settings(settings),
            idle_timeout_seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS,
            warning_seconds=settings.EXPIRY_WARNING_SECONDS, default_account=default, clock=clock,
        )

    def _at(self, now: datetime | None = None) -> datetime | None:
        return now if now is not None else (self.clock() if self.clock else None)

    # --- sign-in -------------------------------------------------------------------------------

    def begin_sign_in(self, db: Session, team_id: str, user_id: str, client_state: bytes, *,
                      replace: bool = False) -> None:
        """Record a sign-in waiting for its SMS code (after `RetailLinkClient.start_login`).

        Replaces a pending or ended one. A live signed-in session raises AlreadySignedIn unless
        `replace`: check `status()` before texting a code to avoid sending one for nothing.
        """
        repo = SessionRepository(db)
        token = self.cipher.encrypt(client_state)
        if not repo.begin(team_id, user_id, token, at=self._at(), replace=replace):
            row, _ = repo.get_with_now(team_id, user_id, self._at())
            raise AlreadySignedIn(row.expires_at if row else None)

    def get_pending(self, db: Session, team_id: str, user_id: str) -> PendingSignIn:
        """The half-made client state, for `complete_login` in whichever process got the code."""
        repo = SessionRepository(db)
        row = repo.pending(team_id, user_id, self._at(), self.code_ttl)
        if row is None:
            raise self._why_not_pending(repo, team_id, user_id)
        assert row.code_sent_at is not None
        return PendingSignIn(team_id, user_id, self._decrypt(repo, row), row.code_sent_at,
                             row.wrong_code_count)

    def record_wrong_code(self, db: Session, team_id: str, user_id: str,
                          client_state: bytes | None = None) -> int:
        """Count a refused code (and keep the client's newer state); returns the count so far."""
        repo = SessionRepository(db)
        token = self.cipher.encrypt(client_state) if client_state is not None else None
        count = repo.add_wrong_code(team_id, user_id, token, at=self._at(), code_ttl=self.code_ttl)
        if count is None:
            raise self._why_not_pending(repo, team_id, user_id)
        return count

    def complete_sign_in(self, db: Session, team_id: str, user_id: str,
                         client_state: bytes) -> ActiveSession:
        """Pending → signed in (after `complete_login`); expiry = now + the idle timeout."""
        repo = SessionRepository(db)
        expires_at = repo.complete(team_id, user_id, self.cipher.encrypt(client_state),
                                   at=self._at(), code_ttl=self.code_ttl, idle=self.idle_timeout)
        if expires_at is None:
            raise self._why_not_pending(repo, team_id, user_id)
        return ActiveSession(team_id, user_id, client_state, expires_at)

    def _why_not_pending(self, repo: SessionRepository, team_id: str,
                         user_id: str) -> SessionStoreError:
        row, now = repo.get_with_now(team_id, user_id, self._at())
        if row is not None and row.state == SessionState.PENDING_CODE:
            return PendingCodeExpired()
        live = row is not None and row.state == SessionState.SIGNED_IN
        if live and row.expires_at is not None and row.expires_at > now:
            return AlreadySignedIn(row.expires_at)
        return NoSignInStarted()

    # --- the signed-in session -------------------------------------------------------------------

    def use(self, db: Session, team_id: str, user_id: str) -> ActiveSession:
        """The live session's client state; slides its expiry to now + idle timeout atomically."""
        repo = SessionRepository(db)
        row = repo.slide(team_id, user_id, at=self._at(), idle=self.idle_timeout)
        if row is None:
            current, _ = repo.get_with_now(team_id, user_id, self._at())
            raise NotSignedIn(_reason(current))
        token, expires_at = row
        try:
            state = self.cipher.decrypt(token)
        except Undecryptable:
            self._end_unreadable(repo, team_id, user_id)
            raise UnreadableSession() from None
        return ActiveSession(team_id, user_id, state, expires_at)

    def save_state(self, db: Session, team_id: str, user_id: str, client_state: bytes) -> bool:
        """Keep the client's refreshed cookies after an operation. False if the session ended
        meanwhile (a logout during a batch is not undone)."""
        return SessionRepository(db).save_state(team_id, user_id, self.cipher.encrypt(client_state))

    def end(self, db: Session, team_id: str, user_id: str, reason: EndReason) -> bool:
        """Log out / Walmart expired it / locked: end it and wipe the state. False if none open."""
        return SessionRepository(db).end(team_id, user_id, EndReason(reason), at=self._at())

    def status(self, db: Session, team_id: str, user_id: str) -> SessionStatus:
        row, now = SessionRepository(db).get_with_now(team_id, user_id, self._at())
        if row is None:
            return SessionStatus(None, None, None, None)
        state = SessionState(row.state)
        left = None
        if state is SessionState.SIGNED_IN and row.expires_at and row.expires_at > now:
            left = row.expires_at - now
        return SessionStatus(state, row.expires_at, left, row.end_reason)

    def time_left(self, db: Session, team_id: str, user_id: str) -> timedelta | None:
        """How long the session lives without use; None when not signed in."""
        return self.status(db, team_id, user_id).time_left

    def _decrypt(self, repo: SessionRepository, row: RetailLinkSession) -> bytes:
        try:
            return self.cipher.decrypt(row.client_state_encrypted or "")
        except Undecryptable:
            self._end_unreadable(repo, row.team_id, row.user_id)
            raise UnreadableSession() from None

    def _end_unreadable(self, repo: SessionRepository, team_id: str, user_id: str) -> None:
        log.warning("session of %s/%s does not decrypt with the configured keys; ended",
                    team_id, user_id)
        repo.end(team_id, user_id, EndReason.UNREADABLE, at=self._at())

    # --- accounts --------------------------------------------------------------------------------

    def save_account(self, db: Session, team_id: str, user_id: str, *, username: str,
                     password: str, credential_id: str) -> None:
        """Remember the user's own Retail Link login, every field encrypted."""
        if not (username and password and credential_id):
            raise ValueError("username, password and credential id are all required")
        enc = self.cipher.encrypt_text
        SessionRepository(db).put_account(
            team_id, user_id, use_default=False, username=enc(username), password=enc(password),
            credential_id=enc(credential_id), at=self._at(),
        )

    def use_default_account(self, db: Session, team_id: str, user_id: str) -> None:
        """The user signs in with the account from the environment (WALMART_EDR_*)."""
        SessionRepository(db).put_account(team_id, user_id, use_default=True, username=None,
                                          password=None, credential_id=None, at=self._at())

    def forget_account(self, db: Session, team_id: str, user_id: str) -> bool:
        return SessionRepository(db).delete_account(team_id, user_id)

    def account_for(self, db: Session, team_id: str, user_id: str) -> AccountCredentials:
        """The login to use for this user; NoAccount when none is set up (or none configured)."""
        row = SessionRepository(db).get_account(team_id, user_id)
        if row is None:
            raise NoAccount()
        if row.use_default:
            if self.default_account is None:
                raise NoAccount("No default Retail Link account is configured "
                                "(WALMART_EDR_USERNAME / _PASSWORD / _MFA_CREDENTIAL_ID).")
            return self.default_account
        try:
            dec = self.cipher.decrypt_text
            assert row.username_encrypted and row.password_encrypted
            assert row.credential_id_encrypted
            return AccountCredentials(dec(row.username_encrypted), dec(row.password_encrypted),
                                      dec(row.credential_id_encrypted))
        except Undecryptable:
            raise NoAccount("Your saved Retail Link login could not be read (the bot's "
                            "encryption key changed). Save it again.") from None

    # --- audit -----------------------------------------------------------------------------------

    def record_operation(self, db: Session, team_id: str, user_id: str, operation: str,
                         event_ids: Iterable[int | str] = (), outcome: str = "ok") -> None:
        """One audit line: who did what to which events, and how it went. Never pass secrets."""
        SessionRepository(db).add_operation(team_id, user_id, operation[:32],
                                            [_event_id(e) for e in event_ids], outcome[:64],
                                            at=self._at())

    # --- the sweep -------------------------------------------------------------------------------

    def sweep(self, db: Session, *, now: datetime | None = None,
              limit: int | None = None) -> SweepResult:
        """Claim expired sessions (ending them) and sessions about to expire (marking them warned).

        Returns the notices to hand to a Notifier *after* the caller commits (see
        `bot.scheduler.run_sweep`): each row is claimed by exactly one sweeper, however many run.
        """
        repo = SessionRepository(db)
        at = self._at(now)
        expired = [SessionNotice(*row) for row in repo.claim_expired(at=at, limit=limit)]
        expiring: list[SessionNotice] = []
        if self.warning > 0:
            expiring = [SessionNotice(*row) for row in
                        repo.claim_expiring(at=at, within=self.warning, limit=limit)]
        abandoned = repo.end_abandoned(at=at, code_ttl=self.code_ttl)
        return SweepResult(expired, expiring, abandoned)


def _reason(row: RetailLinkSession | None) -> str:
    if row is None:
        return "none"
    if row.state == SessionState.PENDING_CODE:
        return "pending_code"
    if row.state == SessionState.SIGNED_IN:
        return EndReason.EXPIRED.value  # signed in, past expiry, not yet swept
    return row.end_reason or "none"


def _event_id(value: int | str) -> int | str:
    text = str(value).strip()
    return int(text) if text.isdigit() else text[:32]
