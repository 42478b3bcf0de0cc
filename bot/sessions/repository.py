"""Every query on accounts, sessions and the audit trail. Times are `db_time(at)`: the database's clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, insert, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import db_time
from bot.sessions.models import (
    EndReason,
    OperationRecord,
    RetailLinkAccount,
    RetailLinkSession,
    SessionState,
)

S = RetailLinkSession
_NO_SYNC = {"synchronize_session": False}  # bulk statements; the service never reuses loaded rows
_FRESH = {"populate_existing": True}  # a row read twice in one unit of work is read again


class SessionRepository:
    """Queries for one unit of work (`db`). `at` None means the database's own clock."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def _upsert(self, model: type[Any]) -> Any:
        dialect = self.db.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)

    # --- reading ---------------------------------------------------------------------------------

    def now(self, at: datetime | None) -> datetime:
        return self.db.execute(select(db_time(at))).scalar_one()

    def get_with_now(self, team_id: str, user_id: str,
                     at: datetime | None) -> tuple[RetailLinkSession | None, datetime]:
        """The row (if any) and the clock reading, in one statement, to explain a refusal."""
        row = self.db.execute(
            select(S, db_time(at)).where(S.team_id == team_id, S.user_id == user_id)
            .execution_options(**_FRESH)
        ).one_or_none()
        if row is None:
            return None, self.now(at)
        return row[0], row[1]

    def pending(self, team_id: str, user_id: str, at: datetime | None,
                code_ttl: float) -> RetailLinkSession | None:
        return self.db.execute(
            select(S).where(
                S.team_id == team_id, S.user_id == user_id, S.state == SessionState.PENDING_CODE,
                S.code_sent_at > db_time(at, -code_ttl),
            ).execution_options(**_FRESH)
        ).scalar_one_or_none()

    # --- session lifecycle -----------------------------------------------------------------------

    def begin(self, team_id: str, user_id: str, token: str, *, at: datetime | None,
              replace: bool) -> bool:
        """Start (or restart) a sign-in; False when a live signed-in session is in the way."""
        now = db_time(at)
        fresh: dict[str, Any] = {
            "state": SessionState.PENDING_CODE.value, "client_state_encrypted": token,
            "created_at": now, "code_sent_at": now, "wrong_code_count": 0,
            "signed_in_at": None, "last_activity_at": now, "expires_at": None,
            "warned_at": None, "ended_at": None, "end_reason": None, "end_notified_at": None,
        }
        stmt = self._upsert(S).values(team_id=team_id, user_id=user_id, **fresh)
        live = and_(S.state == SessionState.SIGNED_IN, S.expires_at > now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[S.team_id, S.user_id], set_=fresh,
            where=None if replace else not_(live),
        ).returning(S.id)
        return self.db.execute(stmt).first() is not None

    def complete(self, team_id: str, user_id: str, token: str, *, at: datetime | None,
                 code_ttl: float, idle: float) -> datetime | None:
        """Pending → signed in, if the code was sent within `code_ttl`; returns the new expiry."""
        stmt = (
            update(S)
            .where(S.team_id == team_id, S.user_id == user_id,
                   S.state == SessionState.PENDING_CODE, S.code_sent_at > db_time(at, -code_ttl))
            .values(state=SessionState.SIGNED_IN.value, client_state_encrypted=token,
                    signed_in_at=db_time(at), last_activity_at=db_time(at),
                    expires_at=db_time(at, idle), warned_at=None)
            .returning(S.expires_at)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).scalar_one_or_none()

    def add_wrong_code(self, team_id: str, user_id: str, token: str | None, *,
                       at: datetime | None, code_ttl: float) -> int | None:
        values: dict[str, Any] = {"wrong_code_count": S.wrong_code_count + 1,
                                  "last_activity_at": db_time(at)}
        if token is not None:
            values["client_state_encrypted"] = token
        stmt = (
            update(S)
            .where(S.team_id == team_id, S.user_id == user_id,
                   S.state == SessionState.PENDING_CODE, S.code_sent_at > db_time(at, -code_ttl))
            .values(**values)
            .returning(S.wrong_code_count)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).scalar_one_or_none()

    def slide(self, team_id: str, user_id: str, *, at: datetime | None,
              idle: float) -> Row[Any] | None:
        """The `use` statement: push expiry to now + idle, re-arm the warning, return the state.

        One statement, one clock reading: a session either is live and slides, or is not and
        stays exactly as the sweep will find it.
        """
        stmt = (
            update(S)
            .where(S.team_id == team_id, S.user_id == user_id,
                   S.state == SessionState.SIGNED_IN, S.expires_at > db_time(at))
            .values(expires_at=db_time(at, idle), last_activity_at=db_time(at), warned_at=None)
            .returning(S.client_state_encrypted, S.expires_at)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).one_or_none()

    def save_state(self, team_id: str, user_id: str, token: str) -> bool:
        stmt = (
            update(S)
            .where(S.team_id == team_id, S.user_id == user_id, S.state == SessionState.SIGNED_IN)
            .values(client_state_encrypted=token)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).rowcount > 0

    def end(self, team_id: str, user_id: str, reason: EndReason, *, at: datetime | None) -> bool:
        """End whatever is open and wipe the client state; False when nothing was open."""
        stmt = (
            update(S)
            .where(S.team_id == team_id, S.user_id == user_id, S.state != SessionState.ENDED)
            .values(state=SessionState.ENDED.value, client_state_encrypted=None,
                    ended_at=db_time(at), end_reason=reason.value)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).rowcount > 0

    # --- the sweep's claims ------------------------------------------------------------------------
    # Each claim is one UPDATE … RETURNING whose WHERE re-checks the condition, over rows picked
    # with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite's single writer needs neither): two sweepers
    # never block on each other and a row changes hands once, so it is returned to one of them.

    def claim_expired(self, *, at: datetime | None, limit: int | None) -> Sequence[Row[Any]]:
        now = db_time(at)
        due = and_(S.state == SessionState.SIGNED_IN, S.expires_at <= now)
        stmt = (
            update(S)
            .where(S.id.in_(_pick(due, limit)), due)
            .values(state=SessionState.ENDED.value, client_state_encrypted=None, ended_at=now,
                    end_reason=EndReason.EXPIRED.value, end_notified_at=now)
            .returning(S.team_id, S.user_id, S.expires_at)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).all()

    def claim_expiring(self, *, at: datetime | None, within: float,
                       limit: int | None) -> Sequence[Row[Any]]:
        now = db_time(at)
        due = and_(S.state == SessionState.SIGNED_IN, S.warned_at.is_(None),
                   S.expires_at > now, S.expires_at <= db_time(at, within))
        stmt = (
            update(S)
            .where(S.id.in_(_pick(due, limit)), due)
            .values(warned_at=now)
            .returning(S.team_id, S.user_id, S.expires_at)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).all()

    def end_abandoned(self, *, at: datetime | None, code_ttl: float) -> int:
        """Pending sign-ins whose code can no longer be entered: drop their half-made state."""
        stmt = (
            update(S)
            .where(S.state == SessionState.PENDING_CODE, S.code_sent_at <= db_time(at, -code_ttl))
            .values(state=SessionState.ENDED.value, client_state_encrypted=None,
                    ended_at=db_time(at), end_reason=EndReason.CODE_EXPIRED.value)
            .execution_options(**_NO_SYNC)
        )
        return self.db.execute(stmt).rowcount

    # --- accounts ----------------------------------------------------------------------------------

    def get_account(self, team_id: str, user_id: str) -> RetailLinkAccount | None:
        return self.db.execute(
            select(RetailLinkAccount)
            .where(RetailLinkAccount.team_id == team_id, RetailLinkAccount.user_id == user_id)
            .execution_options(**_FRESH)
        ).scalar_one_or_none()

    def put_account(self, team_id: str, user_id: str, *, use_default: bool,
                    username: str | None, password: str | None, credential_id: str | None,
                    at: datetime | None) -> None:
        values: dict[str, Any] = {
            "use_default": use_default, "username_encrypted": username,
            "password_encrypted": password, "credential_id_encrypted": credential_id,
            "updated_at": db_time(at),
        }
        stmt = self._upsert(RetailLinkAccount).values(
            team_id=team_id, user_id=user_id, created_at=db_time(at), **values
        ).on_conflict_do_update(
            index_elements=[RetailLinkAccount.team_id, RetailLinkAccount.user_id], set_=values,
        )
        self.db.execute(stmt)

    def delete_account(self, team_id: str, user_id: str) -> bool:
        stmt = delete(RetailLinkAccount).where(
            RetailLinkAccount.team_id == team_id, RetailLinkAccount.user_id == user_id
        ).execution_options(**_NO_SYNC)
        return self.db.execute(stmt).rowcount > 0

    # --- audit -------------------------------------------------------------------------------------

    def add_operation(self, team_id: str, user_id: str, operation: str, event_ids: list[Any],
                      outcome: str, *, at: datetime | None) -> None:
        self.db.execute(insert(OperationRecord).values(
            team_id=team_id, user_id=user_id, operation=operation, event_ids=event_ids,
            outcome=outcome, occurred_at=db_time(at),
        ))

    def operations(self, team_id: str, user_id: str) -> Sequence[OperationRecord]:
        return self.db.execute(
            select(OperationRecord)
            .where(OperationRecord.team_id == team_id, OperationRecord.user_id == user_id)
            .order_by(OperationRecord.occurred_at, OperationRecord.id)
        ).scalars().all()


def _pick(due: Any, limit: int | None) -> Any:
    """Up to `limit` due rows, locked for this transaction, skipping rows another one holds.

    A MATERIALIZED CTE, not a plain `IN (SELECT … LIMIT n FOR UPDATE)`: PostgreSQL may re-run
    such a sub-select for every row it updates, and as its own updates drop out of it, LIMIT
    stops limiting. The CTE runs once.
    """
    picked = (select(S.id).where(due).order_by(S.expires_at).limit(limit)
              .with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED"))
    return select(picked.c.id)
