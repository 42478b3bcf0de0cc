"""What a person can do with Retail Link — sign in, sign out, status, EDR batches — for any front end.

Slack and the terminal both call this; it joins the session store (one unit of work per step,
committed here, at the boundary) with the Retail Link client and the EDR service. Nothing here
knows about Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.db import make_engine, session_factory, session_scope
from bot.edr.service import Batch, EdrRequest, EdrService, ProgressCallback
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.errors import AccountLocked, CodeExpired, SessionExpired, WrongCode
from bot.sessions.models import EndReason
from bot.sessions.service import (
    AccountCredentials,
    ActiveSession,
    AlreadySignedIn,
    NoAccount,
    SessionService,
    SessionStatus,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserKey:
    """Who is acting: sessions belong to one Slack user of one workspace (or one terminal user)."""

    team_id: str
    user_id: str


class Operations:
    """Retail Link work on behalf of one user at a time; safe to call from many threads."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session],
                 store: SessionService) -> None:
        self.settings = settings
        self.factory = factory
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings, store: SessionService | None = None) -> Operations:
        factory = session_factory(make_engine(settings.DATABASE_URL))
        return cls(settings, factory, store or SessionService.from_settings(settings))

    # --- clients ---------------------------------------------------------------------------------

    def new_client(self) -> RetailLinkClient:
        return RetailLinkClient.from_settings(self.settings)  # URLs, concurrency, login mode

    def restore_client(self, state: bytes) -> RetailLinkClient:
        return RetailLinkClient.from_settings(self.settings, state=state)

    # --- accounts and sign-in -------------------------------------------------------------------

    def account(self, who: UserKey) -> AccountCredentials:
        """The user's saved login, else the environment's default; NoAccount when neither."""
        with session_scope(self.factory) as db:
            try:
                return self.store.account_for(db, who.team_id, who.user_id)
            except NoAccount:
                if self.store.default_account is None:
                    raise
                return self.store.default_account

    def save_account(self, who: UserKey, username: str, password: str, credential_id: str) -> None:
        with session_scope(self.factory) as db:
            self.store.save_account(db, who.team_id, who.user_id, username=username,
                                    password=password, credential_id=credential_id)

    def use_default_account(self, who: UserKey) -> None:
        with session_scope(self.factory) as db:
            self.store.use_default_account(db, who.team_id, who.user_id)

    def start_sign_in(self, who: UserKey, *, replace: bool = False) -> AccountCredentials:
        """Password + send-code with the user's account; the pending state goes to the store so
        the code may be entered in another process. Raises AlreadySignedIn unless `replace`."""
        account = self.account(who)
        if not replace:
            current = self.status(who)  # refuse before Walmart texts a code for nothing
            if current.time_left is not None:
                raise AlreadySignedIn(current.expires_at)
        client = self.new_client()
        try:
            client.start_login(account.username, account.password, account.credential_id)
            with session_scope(self.factory) as db:
                self.store.begin_sign_in(db, who.team_id, who.user_id, client.export_state(),
                                         replace=True)
                self.store.record_operation(db, who.team_id, who.user_id, "sign_in_code_sent")
        finally:
            client.close()
        return account

    def finish_sign_in(self, who: UserKey, code: str) -> ActiveSession:
        """Check the SMS code; on success the session starts its idle clock.

        WrongCode keeps the sign-in pending (retry with another code); AccountLocked and
        CodeExpired end it.
        """
        with session_scope(self.factory) as db:
            pending = self.store.get_pending(db, who.team_id, who.user_id)
        client = self.restore_client(pending.client_state)
        try:
            client.complete_login(code)
        except WrongCode:
            with session_scope(self.factory) as db:
                self.store.record_wrong_code(db, who.team_id, who.user_id, client.export_state())
            raise
        except AccountLocked:
            self._end(who, EndReason.LOCKED, "sign_in_locked")
            raise
        except CodeExpired:
            self._end(who, EndReason.CODE_EXPIRED, "sign_in_code_expired")
            raise
        finally:
            client.close()
        with session_scope(self.factory) as db:
            active = self.store.complete_sign_in(db, who.team_id, who.user_id,
                                                 client.export_state())
            self.store.record_operation(db, who.team_id, who.user_id, "sign_in")
        return active

    def sign_out(self, who: UserKey) -> bool:
        """End the session and wipe its state; False when there was none."""
        return self._end(who, EndReason.LOGOUT, "sign_out")

    def status(self, who: UserKey) -> SessionStatus:
        with session_scope(self.factory) as db:
            return self.store.status(db, who.team_id, who.user_id)

    def stay_signed_in(self, who: UserKey) -> timedelta:
        """Slide the idle clock without touching Walmart; NotSignedIn when it already ended."""
        with session_scope(self.factory) as db:
            self.store.use(db, who.team_id, who.user_id)
            return self.store.time_left(db, who.team_id, who.user_id) or timedelta(0)

    # --- EDRs -----------------------------------------------------------------------------------

    def run_edr(self, who: UserKey, request: EdrRequest,
                progress: ProgressCallback | None = None) -> Batch:
        """One EDR batch with the user's session (sliding it). NotSignedIn when there is none;
        SessionExpired (after ending the session) when Walmart refused it before any EDR came
        back; a session lost mid-batch ends it too, and the batch names what was not fetched."""
        with session_scope(self.factory) as db:
            active = self.store.use(db, who.team_id, who.user_id)
        client = self.restore_client(active.client_state)
        try:
            batch = EdrService(client, concurrency=self.settings.EDR_CONCURRENCY).run(
                request, progress)
        except SessionExpired:
            self._end(who, EndReason.WALMART_EXPIRED, "edr", outcome="session_expired")
            raise
        finally:
            client.close()
        if batch.session_expired and not batch.files:
            # Nothing was fetched: the same as being refused before the batch.
            self._end(who, EndReason.WALMART_EXPIRED, "edr", outcome="session_expired")
            raise SessionExpired()
        ids = [o.event_id for o in batch.outcomes]
        outcome = "ok" if not batch.failures else f"{len(batch.failures)} failed"
        with session_scope(self.factory) as db:
            if batch.session_expired:
                self.store.end(db, who.team_id, who.user_id, EndReason.WALMART_EXPIRED)
                outcome = "session_expired"
            else:
                self.store.save_state(db, who.team_id, who.user_id, client.export_state())
            self.store.record_operation(db, who.team_id, who.user_id, "edr", ids, outcome)
        return batch

    def _end(self, who: UserKey, reason: EndReason, operation: str, outcome: str = "ok") -> bool:
        with session_scope(self.factory) as db:
            ended = self.store.end(db, who.team_id, who.user_id, reason)
            self.store.record_operation(db, who.team_id, who.user_id, operation, (), outcome)
        return ended
