"""Preferred Walmart stores (a user's, a channel's) and the record of EDR batches posted to Slack.

As with the session store, every method takes the caller's unit of work (`db`) and never commits:
the boundary (a Slack request, a job) opens it with `bot.db.session_scope` and commits.
`PreferenceRepository` holds every query; the services validate and turn rows into plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import db_time
from bot.sessions.service import Clock
from bot.sessions.slack_models import (
    KIND_LENGTH,
    LABEL_LENGTH,
    STORE_MAX,
    STORE_MIN,
    BatchStatus,
    EdrBatch,
    PreferenceScope,
    StorePreference,
)

__all__ = [
    "Batch", "BatchFile", "BatchRecordService", "BatchStatus", "InvalidStore",
    "PreferenceRepository", "PreferenceScope", "PreferenceService", "StoreSource", "check_store",
]

P = StorePreference
B = EdrBatch
_NO_SYNC = {"synchronize_session": False}  # bulk statements; no loaded rows are reused
_FRESH = {"populate_existing": True}  # a row read again in one unit of work is read anew


# --- values handed out ---------------------------------------------------------------------------


class StoreSource(StrEnum):
    """Where a resolved store came from, worded to slot into a reply ("using your preference")."""

    USER = "your preference"
    CHANNEL = "this channel's"
    DEFAULT = "the bot's default"
    NONE = ""  # no store anywhere: the caller asks for one


class InvalidStore(ValueError):
    """A store number outside Walmart's 1–99999. `str(error)` is safe to show the user."""

    def __init__(self, store: object) -> None:
        self.store = store
        super().__init__(f"{store!r} is not a Walmart store number ({STORE_MIN}–{STORE_MAX}).")


@dataclass(frozen=True, slots=True)
class BatchFile:
    """One PDF uploaded into a batch's thread."""

    title: str
    permalink: str
    file_id: str


@dataclass(frozen=True, slots=True)
class Batch:
    id: int
    team_id: str
    user_id: str
    channel_id: str
    thread_ts: str | None  # None until the parent message is posted
    label: str
    store: int
    day: date | None
    kind: str
    created_at: datetime  # aware, UTC
    status: BatchStatus
    files_ok: int
    files_failed: int
    files: tuple[BatchFile, ...]  # empty until the batch finishes


def check_store(store: int) -> int:
    """The store number, or InvalidStore. A bool is refused although Python counts it an int."""
    if isinstance(store, bool) or not isinstance(store, int) or not STORE_MIN <= store <= STORE_MAX:
        raise InvalidStore(store)
    return store


def _required(name: str, value: str) -> str:
    if not value:
        raise ValueError(f"{name} is required")
    return value


# --- queries -------------------------------------------------------------------------------------


class PreferenceRepository:
    """Queries on store preferences and batch records for one unit of work (`db`)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def _upsert(self, model: type[Any]) -> Any:
        dialect = self.db.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)

    # --- store preferences -----------------------------------------------------------------------

    def put_store(self, team_id: str, scope: PreferenceScope, scope_id: str, store: int, *,
                  at: datetime | None) -> None:
        # One INSERT … ON CONFLICT: two people setting the same channel at once never collide.
        values = {"store": store, "updated_at": db_time(at)}
        stmt = self._upsert(P).values(
            team_id=team_id, scope=scope.value, scope_id=scope_id, **values
        ).on_conflict_do_update(index_elements=[P.team_id, P.scope, P.scope_id], set_=values)
        self.db.execute(stmt)

    def delete_store(self, team_id: str, scope: PreferenceScope, scope_id: str) -> bool:
        stmt = delete(P).where(
            P.team_id == team_id, P.scope == scope.value, P.scope_id == scope_id
        ).execution_options(**_NO_SYNC)
        return self.db.execute(stmt).rowcount > 0

    def stores_for(self, team_id: str, user_id: str,
                   channel_id: str | None) -> dict[PreferenceScope, int]:
        """The user's and the channel's stores, in one statement."""
        mine = and_(P.scope == PreferenceScope.USER.value, P.scope_id == user_id)
        wanted = mine
        if channel_id:
            wanted = or_(mine, and_(P.scope == PreferenceScope.CHANNEL.value,
                                    P.scope_id == channel_id))
        rows = self.db.execute(select(P.scope, P.store).where(P.team_id == team_id, wanted)).all()
        return {PreferenceScope(scope): store for scope, store in rows}

    # --- batches ---------------------------------------------------------------------------------

    def add_batch(self, values: dict[str, Any], *, at: datetime | None) -> int:
        stmt = insert(B).values(created_at=db_time(at), status=BatchStatus.RUNNING.value,
                                files_ok=0, files_failed=0, **values).returning(B.id)
        return self.db.execute(stmt).scalar_one()

    def set_thread(self, batch_id: int, channel_id: str, thread_ts: str) -> bool:
        stmt = (update(B).where(B.id == batch_id)
                .values(channel_id=channel_id, thread_ts=thread_ts)
                .execution_options(**_NO_SYNC))
        return self.db.execute(stmt).rowcount > 0

    def finish(self, batch_id: int, status: BatchStatus, files_ok: int, files_failed: int,
               files: list[dict[str, str]]) -> bool:
        # Only a running batch finishes: a late or repeated call cannot rewrite a final record.
        stmt = (update(B).where(B.id == batch_id, B.status == BatchStatus.RUNNING.value)
                .values(status=status.value, files_ok=files_ok, files_failed=files_failed,
                        files=files)
                .execution_options(**_NO_SYNC))
        return self.db.execute(stmt).rowcount > 0

    def fail_running_before(self, cutoff: Any) -> int:
        stmt = (update(B).where(B.status == BatchStatus.RUNNING.value, B.created_at < cutoff)
                .values(status=BatchStatus.FAILED.value).execution_options(**_NO_SYNC))
        return self.db.execute(stmt).rowcount

    def recent(self, team_id: str, user_id: str, limit: int) -> Sequence[EdrBatch]:
        # id breaks ties: PostgreSQL's now() is the transaction's start, so one unit of work
        # that starts two batches gives both the same created_at.
        return self.db.execute(
            select(B).where(B.team_id == team_id, B.user_id == user_id)
            .order_by(B.created_at.desc(), B.id.desc()).limit(limit)
            .execution_options(**_FRESH)
        ).scalars().all()

    def get(self, team_id: str, batch_id: int) -> EdrBatch | None:
        return self.db.execute(
            select(B).where(B.id == batch_id, B.team_id == team_id)
            .execution_options(**_FRESH)
        ).scalar_one_or_none()


# --- services ------------------------------------------------------------------------------------


class PreferenceService:
    """Which store an EDR is for: the user's preference, else the channel's, else the default."""

    def __init__(self, clock: Clock | None = None) -> None:
        # None: the database's clock (what production uses); tests pass a FakeClock.
        self.clock = clock

    def set_store(self, db: Session, team_id: str, scope: PreferenceScope | str, scope_id: str,
                  store: int) -> None:
        """Remember the store for a user or a channel, replacing any earlier one."""
        checked = check_store(store)
        PreferenceRepository(db).put_store(
            _required("team_id", team_id), PreferenceScope(scope), _required("scope_id", scope_id),
            checked, at=self.clock() if self.clock else None,
        )

    def clear_store(self, db: Session, team_id: str, scope: PreferenceScope | str,
                    scope_id: str) -> bool:
        """Forget the store for a user or a channel; False when none was set."""
        return PreferenceRepository(db).delete_store(team_id, PreferenceScope(scope), scope_id)

    def resolve_store(self, db: Session, team_id: str, user_id: str, channel_id: str | None,
                      default: int | None) -> tuple[int | None, StoreSource]:
        """The store to use and where it came from; (None, StoreSource.NONE) when nowhere.

        `default` is the bot's (Settings.WALMART_STORE_NUMBER); `channel_id` None (App Home, a
        shortcut without a channel) skips the channel's store.
        """
        stores = PreferenceRepository(db).stores_for(team_id, user_id, channel_id)
        if PreferenceScope.USER in stores:
            return stores[PreferenceScope.USER], StoreSource.USER
        if PreferenceScope.CHANNEL in stores:
            return stores[PreferenceScope.CHANNEL], StoreSource.CHANNEL
        if default is not None:
            return check_store(default), StoreSource.DEFAULT
        return None, StoreSource.NONE


class BatchRecordService:
    """The EDR batches posted to Slack: App Home's recent list and "Share to channel…"."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock

    def start_batch(self, db: Session, *, team_id: str, user_id: str, channel_id: str,
                    label: str, store: int, kind: str, day: date | None = None,
                    thread_ts: str | None = None) -> int:
        """Record a batch as running (before its parent message is posted); returns its id."""
        kind = _required("kind", kind)
        if len(kind) > KIND_LENGTH:
            raise ValueError(f"kind is at most {KIND_LENGTH} characters")
        # The label is display text the bot builds: shorten it rather than fail a batch over it.
        label = label.strip()
        if len(label) > LABEL_LENGTH:
            label = label[:LABEL_LENGTH - 1] + "…"
        values = {
            "team_id": _required("team_id", team_id), "user_id": _required("user_id", user_id),
            "channel_id": _required("channel_id", channel_id), "thread_ts": thread_ts,
            "label": label, "store": check_store(store), "day": day, "kind": kind,
        }
        return PreferenceRepository(db).add_batch(values, at=self.clock() if self.clock else None)

    def set_thread(self, db: Session, batch_id: int, channel_id: str, thread_ts: str) -> bool:
        """Where the parent message landed (its channel may differ, e.g. a DM); False if no batch."""
        return PreferenceRepository(db).set_thread(batch_id, _required("channel_id", channel_id),
                                                   _required("thread_ts", thread_ts))

    def finish_batch(self, db: Session, batch_id: int, status: BatchStatus | str, files_ok: int,
                     files_failed: int, files: Iterable[BatchFile] = ()) -> bool:
        """Running → done or failed, with the counts and uploaded files. False when the batch is
        missing or already finished (the first finish stands)."""
        final = BatchStatus(status)
        if final is BatchStatus.RUNNING:
            raise ValueError("a batch finishes as done or failed, not running")
        if files_ok < 0 or files_failed < 0:
            raise ValueError("file counts cannot be negative")
        listed = [dataclasses.asdict(f) for f in files]
        return PreferenceRepository(db).finish(batch_id, final, files_ok, files_failed, listed)

    def fail_interrupted(self, db: Session, older_than_seconds: int = 3600) -> int:
        """Batches still "running" long after any batch could finish belonged to a process that
        died; mark them failed so App Home stops showing them as running. Returns how many."""
        at = self.clock() if self.clock else None
        return PreferenceRepository(db).fail_running_before(db_time(at, -older_than_seconds))

    def recent_batches(self, db: Session, team_id: str, user_id: str,
                       limit: int = 5) -> list[Batch]:
        """The user's latest batches in this workspace, newest first."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return [_batch(row) for row in PreferenceRepository(db).recent(team_id, user_id, limit)]

    def get_batch(self, db: Session, team_id: str, batch_id: int) -> Batch | None:
        """One batch of this workspace; None for an unknown id or another workspace's batch
        (a button's value is user-supplied, so the team check is the access check)."""
        row = PreferenceRepository(db).get(team_id, batch_id)
        return None if row is None else _batch(row)


def _batch(row: EdrBatch) -> Batch:
    files = tuple(BatchFile(str(f["title"]), str(f["permalink"]), str(f["file_id"]))
                  for f in row.files or ())
    return Batch(
        id=row.id, team_id=row.team_id, user_id=row.user_id, channel_id=row.channel_id,
        thread_ts=row.thread_ts, label=row.label, store=row.store, day=row.day, kind=row.kind,
        created_at=row.created_at, status=BatchStatus(row.status), files_ok=row.files_ok,
        files_failed=row.files_failed, files=files,
    )
