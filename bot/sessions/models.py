"""Tables for Retail Link accounts, per-user sessions and the operation audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime

# Slack ids are short (T0123ABCD / U0123ABCD); the terminal uses "terminal" + the OS user name.
ID_LENGTH = 64


class SessionState(StrEnum):
    PENDING_CODE = "pending_code"  # the password was accepted and an SMS code sent
    SIGNED_IN = "signed_in"
    ENDED = "ended"


class EndReason(StrEnum):
    LOGOUT = "logout"
    EXPIRED = "expired"  # idle past SESSION_IDLE_TIMEOUT_SECONDS
    WALMART_EXPIRED = "walmart_expired"  # Retail Link said the session is gone
    LOCKED = "locked"  # Retail Link locked the account
    UNREADABLE = "unreadable"  # stored state could not be decrypted (key changed)
    CODE_EXPIRED = "code_expired"  # a pending code was never entered


def _check_in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class RetailLinkAccount(Base):
    """The Retail Link account a user signs in with: saved credentials or the environment's."""

    __tablename__ = "retail_link_accounts"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        CheckConstraint(
            "use_default OR (username_encrypted IS NOT NULL AND password_encrypted IS NOT NULL"
            " AND credential_id_encrypted IS NOT NULL)",
            name="has_credentials",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    use_default: Mapped[bool] = mapped_column(default=False)
    # Fernet tokens (text). Stored as text, not bytes, so a dump shows exactly what is at rest.
    username_encrypted: Mapped[str | None] = mapped_column(Text)
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    credential_id_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        return f"<RetailLinkAccount {self.team_id}/{self.user_id} default={self.use_default}>"


class RetailLinkSession(Base):
    """One person's Retail Link sign-in (at most one row per team + user, reused by each sign-in)."""

    __tablename__ = "retail_link_sessions"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        CheckConstraint(_check_in("state", SessionState), name="state"),
        CheckConstraint(f"state != '{SessionState.SIGNED_IN.value}' OR expires_at IS NOT NULL",
                        name="signed_in_expires"),
        Index(None, "state", "expires_at"),  # the sweep's claim
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    state: Mapped[str] = mapped_column(String(16))
    # The Retail Link client's exported state (cookies, bearer), Fernet-encrypted; NULL once ended.
    client_state_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when this sign-in began
    code_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    wrong_code_count: Mapped[int] = mapped_column(Integer, default=0)
    signed_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The "expires soon" notice of the current idle period was handed off; `use` clears it.
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # The sweep handed the "expired" notice off (set in the same statement that ends the row).
    end_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:  # never the client state
        return f"<RetailLinkSession {self.team_id}/{self.user_id} {self.state}>"


class OperationRecord(Base):
    """An audit line per Retail Link operation: who, what, which events, when, how it went."""

    __tablename__ = "retail_link_operations"
    __table_args__ = (Index(None, "team_id", "user_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    operation: Mapped[str] = mapped_column(String(32))  # sign_in, edr, listing, logout, ...
    event_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(64))  # ok, or an error class name
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        return f"<OperationRecord {self.team_id}/{self.user_id} {self.operation} {self.outcome}>"
