"""Tables for the Slack app's memory: preferred Walmart stores and the EDR batches it posted."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, db_time
from bot.sessions.models import ID_LENGTH, _check_in

# Walmart club numbers (the `store` of an EDR) are 1–99999; the database refuses anything else too.
STORE_MIN = 1
STORE_MAX = 99999
LABEL_LENGTH = 200
KIND_LENGTH = 16  # bot.edr.kinds.Kind values; free text here so a new kind needs no migration
# A Slack message ts is "1712345678.123456"; 32 leaves room without being unbounded.
TS_LENGTH = 32
_STORE_RANGE = f"BETWEEN {STORE_MIN} AND {STORE_MAX}"


class PreferenceScope(StrEnum):
    USER = "user"  # scope_id is a Slack user id
    CHANNEL = "channel"  # scope_id is a Slack channel id: the channel's default store


class BatchStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StorePreference(Base):
    """The store a user prefers, or a channel's default store (one row per team + scope + id)."""

    __tablename__ = "store_preferences"
    __table_args__ = (
        UniqueConstraint("team_id", "scope", "scope_id"),
        CheckConstraint(_check_in("scope", PreferenceScope), name="scope"),
        CheckConstraint(f"store {_STORE_RANGE}", name="store_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    store: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=db_time())

    def __repr__(self) -> str:
        return f"<StorePreference {self.team_id}/{self.scope}:{self.scope_id} store={self.store}>"


class EdrBatch(Base):
    """One EDR batch the Slack app posted: its thread, what it asked for and the files it uploaded.

    App Home lists a user's latest rows; "Share to channel…" reads one back by id (team-scoped).
    """

    __tablename__ = "edr_batches"
    __table_args__ = (
        CheckConstraint(_check_in("status", BatchStatus), name="status"),
        CheckConstraint(f"store {_STORE_RANGE}", name="store_range"),
        CheckConstraint("files_ok >= 0 AND files_failed >= 0", name="file_counts"),
        Index(None, "team_id", "user_id", "created_at"),  # App Home: a user's newest batches
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # The parent message's ts; NULL between starting the batch and posting that message.
    thread_ts: Mapped[str | None] = mapped_column(String(TS_LENGTH))
    label: Mapped[str] = mapped_column(String(LABEL_LENGTH))  # "Sat Oct 5 · Core · store 8135"
    store: Mapped[int] = mapped_column(Integer)
    day: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    # A client-side SQL default: the database's clock, in the one format UtcDateTime compares.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=db_time())
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.RUNNING.value)
    files_ok: Mapped[int] = mapped_column(Integer, default=0)
    files_failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"title", "permalink", "file_id"}, ...]; NULL until the batch finishes.
    files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<EdrBatch {self.id} {self.team_id}/{self.user_id} {self.status}>"
