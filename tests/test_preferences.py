"""Store preferences and EDR batch records on SQLite and PostgreSQL: resolution, validation, isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import db_time, make_engine, session_factory, session_scope, upgrade_head
from bot.sessions.preferences import (
    Batch,
    BatchFile,
    BatchRecordService,
    BatchStatus,
    InvalidStore,
    PreferenceService,
    StoreSource,
)
from bot.sessions.slack_models import EdrBatch, StorePreference
from tests.sessions_fixtures import (
    T0,
    FakeClock,
)

Factory = sessionmaker[Session]
DEFAULT = 4242


@pytest.fixture(name="prefs")
def prefs_fixture(clock: FakeClock) -> PreferenceService:
    return PreferenceService(clock=clock)


@pytest.fixture(name="batches")
def batches_fixture(clock: FakeClock) -> BatchRecordService:
    return BatchRecordService(clock=clock)


def resolve(factory: Factory, prefs: PreferenceService, team: str = "T1", user: str = "U1",
            channel: str | None = "C1", default: int | None = DEFAULT) -> tuple[int | None, str]:
    with session_scope(factory) as db:
        return prefs.resolve_store(db, team, user, channel, default)


def set_store(factory: Factory, prefs: PreferenceService, scope: str, scope_id: str, store: int,
              team: str = "T1") -> None:
    with session_scope(factory) as db:
        prefs.set_store(db, team, scope, scope_id, store)


def preference_rows(factory: Factory) -> list[tuple[str, str, str, int]]:
    with session_scope(factory) as db:
        return [tuple(r) for r in db.execute(
            select(StorePreference.team_id, StorePreference.scope, StorePreference.scope_id,
                   StorePreference.store).order_by(StorePreference.id)).all()]


def batch_count(factory: Factory) -> int:
    with session_scope(factory) as db:
        return db.execute(select(func.count()).select_from(EdrBatch)).scalar_one()


def start(factory: Factory, batches: BatchRecordService, team: str = "T1", user: str = "U1",
          label: str = "Sat Oct 5 · Core · store 8135", store: int = 8135) -> int:
    with session_scope(factory) as db:
        return batches.start_batch(db, team_id=team, user_id=user, channel_id="C1", label=label,
                                   store=store, kind="core", day=date(2024, 10, 5))


# --- store preferences ---------------------------------------------------------------------------


def test_resolution_prefers_user_then_channel_then_default_then_none(
        factory: Factory, prefs: PreferenceService) -> None:
    set_store(factory, prefs, "user", "U1", 8135)
    set_store(factory, prefs, "channel", "C1", 100)

    assert resolve(factory, prefs) == (8135, "your preference")
    with session_scope(factory) as db:
        assert prefs.clear_store(db, "T1", "user", "U1") is True
    assert resolve(factory, prefs) == (100, "this channel's")
    with session_scope(factory) as db:
        assert prefs.clear_store(db, "T1", "channel", "C1") is True
    assert resolve(factory, prefs) == (DEFAULT, "the bot's default")
    assert resolve(factory, prefs, default=None) == (None, StoreSource.NONE)
    assert StoreSource.NONE == ""


def test_a_channel_store_applies_only_in_that_channel(factory: Factory,
                                                      prefs: PreferenceService) -> None:
    set_store(factory, prefs, "channel", "C1", 100)
    assert resolve(factory, prefs, channel="C2") == (DEFAULT, StoreSource.DEFAULT)
    assert resolve(factory, prefs, channel=None) == (DEFAULT, StoreSource.DEFAULT)
    assert resolve(factory, prefs, user="U2") == (100, StoreSource.CHANNEL)


def test_preferences_are_kept_apart_by_team_and_user(factory: Factory,
                                                     prefs: PreferenceService) -> None:
    set_store(factory, prefs, "user", "U1", 8135, team="T1")
    set_store(factory, prefs, "channel", "C1", 100, team="T1")
    assert resolve(factory, prefs, team="T2") == (DEFAULT, StoreSource.DEFAULT)
    assert resolve(factory, prefs, user="U2", channel="C9") == (DEFAULT, StoreSource.DEFAULT)
    # A user id equal to a channel id must not be read as that channel's store, nor vice versa.
    set_store(factory, prefs, "channel", "X1", 300)
    assert resolve(factory, prefs, user="X1", channel="C9") == (DEFAULT, StoreSource.DEFAULT)


def test_setting_again_overwrites_in_place(factory: Factory, prefs: PreferenceService,
                                           clock: FakeClock) -> None:
    set_store(factory, prefs, "user", "U1", 8135)
    clock.advance(60)
    set_store(factory, prefs, "user", "U1", 1)
    assert resolve(factory, prefs) == (1, StoreSource.USER)
    assert preference_rows(factory) == [("T1", "user", "U1", 1)]
    with session_scope(factory) as db:
        updated = db.execute(select(StorePreference.updated_at)).scalar_one()
    assert updated == T0 + timedelta(seconds=60)


def test_clearing_what_was_never_set_says_so(factory: Factory, prefs: PreferenceService) -> None:
    set_store(factory, prefs, "user", "U1", 8135)
    with session_scope(factory) as db:
        assert prefs.clear_store(db, "T1", "channel", "U1") is False  # the scope matters
        assert prefs.clear_store(db, "T2", "user", "U1") is False  # so does the team
    assert preference_rows(factory) == [("T1", "user", "U1", 8135)]


@pytest.mark.parametrize("store", [0, 100000, -1, True, "8135", 81.35])
def test_an_out_of_range_store_is_refused_and_nothing_changes(
        factory: Factory, prefs: PreferenceService, store: object) -> None:
    set_store(factory, prefs, "user", "U1", 8135)
    with session_scope(factory) as db, pytest.raises(ValueError, match="1–99999") as raised:
        prefs.set_store(db, "T1", "channel", "C1", store)  # type: ignore[arg-type]
    assert isinstance(raised.value, InvalidStore)
    with session_scope(factory) as db, pytest.raises(InvalidStore):
        prefs.set_store(db, "T1", "user", "U1", store)  # type: ignore[arg-type]
    assert preference_rows(factory) == [("T1", "user", "U1", 8135)]


@pytest.mark.parametrize("store", [1, 99999])
def test_the_range_ends_are_stores(factory: Factory, prefs: PreferenceService, store: int) -> None:
    set_store(factory, prefs, "user", "U1", store)
    assert resolve(factory, prefs) == (store, StoreSource.USER)


def test_an_unknown_scope_is_refused(factory: Factory, prefs: PreferenceService) -> None:
    with session_scope(factory) as db, pytest.raises(ValueError):
        prefs.set_store(db, "T1", "team", "T1", 8135)
    assert preference_rows(factory) == []


def test_the_database_itself_refuses_a_bad_store_or_scope(factory: Factory) -> None:
    for values in ({"scope": "user", "store": 0}, {"scope": "user", "store": 100000},
                   {"scope": "team", "store": 8135}):
        with pytest.raises(IntegrityError), session_scope(factory) as db:
            db.execute(insert(StorePreference).values(team_id="T1", scope_id="U1", **values))
    assert preference_rows(factory) == []


def test_a_bad_default_store_is_refused_when_used(factory: Factory,
                                                  prefs: PreferenceService) -> None:
    with pytest.raises(InvalidStore):
        resolve(factory, prefs, default=0)
    set_store(factory, prefs, "user", "U1", 8135)
    assert resolve(factory, prefs, default=0) == (8135, StoreSource.USER)  # never reached


# --- batches -------------------------------------------------------------------------------------


def test_a_batch_goes_from_started_to_threaded_to_finished(factory: Factory,
                                                           batches: BatchRecordService) -> None:
    batch_id = start(factory, batches)
    with session_scope(factory) as db:
        started = batches.get_batch(db, "T1", batch_id)
    assert started == Batch(
        id=batch_id, team_id="T1", user_id="U1", channel_id="C1", thread_ts=None,
        label="Sat Oct 5 · Core · store 8135", store=8135, day=date(2024, 10, 5), kind="core",
        created_at=T0, status=BatchStatus.RUNNING, files_ok=0, files_failed=0, files=(),
    )

    with session_scope(factory) as db:
        assert batches.set_thread(db, batch_id, "D1", "1728140400.000100") is True
    files = [BatchFile("EDR 123 Demo.pdf", "https://x.slack.com/files/U1/F1/edr.pdf", "F1")]
    with session_scope(factory) as db:
        assert batches.finish_batch(db, batch_id, "done", 1, 2, files) is True

    with session_scope(factory) as db:
        done = batches.get_batch(db, "T1", batch_id)
    assert done is not None
    assert (done.channel_id, done.thread_ts) == ("D1", "1728140400.000100")
    assert (done.status, done.files_ok, done.files_failed) == (BatchStatus.DONE, 1, 2)
    assert done.files == tuple(files)
    assert done.created_at == T0 and done.created_at.tzinfo is not None


def test_recent_batches_are_newest_first_and_limited(factory: Factory,
                                                     batches: BatchRecordService,
                                                     clock: FakeClock) -> None:
    ids = []
    for n in range(7):
        ids.append(start(factory, batches, label=f"batch {n}"))
        clock.advance(60)
    start(factory, batches, user="U2")  # someone else's, and the newest of all

    with session_scope(factory) as db:
        recent = batches.recent_batches(db, "T1", "U1")
        three = batches.recent_batches(db, "T1", "U1", limit=3)
    assert [b.id for b in recent] == ids[::-1][:5]
    assert [b.label for b in three] == ["batch 6", "batch 5", "batch 4"]
    assert [b.created_at for b in three] == [T0 + timedelta(minutes=m) for m in (6, 5, 4)]
    with session_scope(factory) as db, pytest.raises(ValueError):
        batches.recent_batches(db, "T1", "U1", limit=0)


def test_batches_started_in_one_unit_of_work_keep_their_order(factory: Factory) -> None:
    # The database's clock: PostgreSQL's now() is the same for the whole transaction.
    batches = BatchRecordService()
    before = datetime.now(UTC) - timedelta(minutes=5)
    with session_scope(factory) as db:
        ids = [batches.start_batch(db, team_id="T1", user_id="U1", channel_id="C1",
                                   label=f"b{n}", store=8135, kind="all") for n in range(3)]
    with session_scope(factory) as db:
        recent = batches.recent_batches(db, "T1", "U1")
    assert [b.id for b in recent] == ids[::-1]
    assert all(b.created_at.tzinfo is not None and b.created_at > before for b in recent)


def test_another_workspace_never_sees_a_batch(factory: Factory,
                                              batches: BatchRecordService) -> None:
    batch_id = start(factory, batches, team="T1", user="U1")
    with session_scope(factory) as db:
        assert batches.get_batch(db, "T2", batch_id) is None
        assert batches.recent_batches(db, "T2", "U1") == []  # same user id, other team
        assert batches.get_batch(db, "T1", batch_id + 1000) is None
        mine = batches.get_batch(db, "T1", batch_id)
    assert mine is not None and mine.team_id == "T1"


def test_uploaded_files_round_trip_through_json(factory: Factory,
                                                batches: BatchRecordService) -> None:
    files = [BatchFile(f"EDR {n} — Café «Démo» 試食.pdf", f"https://x.slack.com/files/F{n}", f"F{n}")
             for n in range(4)]
    batch_id = start(factory, batches)
    with session_scope(factory) as db:
        batches.finish_batch(db, batch_id, BatchStatus.FAILED, 4, 1, files)
    with session_scope(factory) as db:
        stored = db.execute(select(EdrBatch.files)).scalar_one()
        got = batches.get_batch(db, "T1", batch_id)
    assert stored == [{"title": f.title, "permalink": f.permalink, "file_id": f.file_id}
                      for f in files]
    assert got is not None and got.files == tuple(files) and got.status is BatchStatus.FAILED


def test_a_batch_finishes_once(factory: Factory, batches: BatchRecordService) -> None:
    batch_id = start(factory, batches)
    with session_scope(factory) as db:
        assert batches.finish_batch(db, batch_id, "failed", 0, 3) is True
    with session_scope(factory) as db:
        assert batches.finish_batch(db, batch_id, "done", 3, 0, [BatchFile("a", "b", "c")]) is False
        assert batches.finish_batch(db, batch_id + 1000, "done", 0, 0) is False
        assert batches.set_thread(db, batch_id + 1000, "C1", "1.2") is False
    with session_scope(factory) as db:
        got = batches.get_batch(db, "T1", batch_id)
    assert got is not None
    assert (got.status, got.files_ok, got.files_failed, got.files) == (BatchStatus.FAILED, 0, 3, ())


@pytest.mark.parametrize(("status", "ok", "failed"),
                         [("running", 0, 0), ("weird", 0, 0), ("done", -1, 0), ("done", 0, -1)])
def test_a_bad_finish_is_refused_and_the_batch_stays_running(
        factory: Factory, batches: BatchRecordService, status: str, ok: int, failed: int) -> None:
    batch_id = start(factory, batches)
    with session_scope(factory) as db, pytest.raises(ValueError):
        batches.finish_batch(db, batch_id, status, ok, failed)
    with session_scope(factory) as db:
        got = batches.get_batch(db, "T1", batch_id)
    assert got is not None and got.status is BatchStatus.RUNNING


@pytest.mark.parametrize("store", [0, 100000])
def test_a_batch_for_an_impossible_store_is_not_recorded(
        factory: Factory, batches: BatchRecordService, store: int) -> None:
    with pytest.raises(InvalidStore):
        start(factory, batches, store=store)
    assert batch_count(factory) == 0


def test_a_long_label_is_shortened_not_refused(factory: Factory,
                                               batches: BatchRecordService) -> None:
    batch_id = start(factory, batches, label="x" * 500)
    with session_scope(factory) as db:
        got = batches.get_batch(db, "T1", batch_id)
    assert got is not None and len(got.label) == 200 and got.label.endswith("…")


def test_the_database_itself_refuses_a_bad_batch_status(factory: Factory) -> None:
    with pytest.raises(IntegrityError), session_scope(factory) as db:
        db.execute(insert(EdrBatch).values(
            team_id="T1", user_id="U1", channel_id="C1", label="x", store=8135, kind="core",
            status="lost", files_ok=0, files_failed=0, created_at=db_time()))
    assert batch_count(factory) == 0


# --- on the migrated schema ----------------------------------------------------------------------


def test_everything_works_on_the_schema_the_migrations_build(database_url: str) -> None:
    upgrade_head(database_url)  # not create_all: the tables exactly as production has them
    engine = make_engine(database_url)
    try:
        factory = session_factory(engine)
        prefs, batches = PreferenceService(), BatchRecordService()
        set_store(factory, prefs, "channel", "C1", 100)
        assert resolve(factory, prefs) == (100, StoreSource.CHANNEL)
        batch_id = start(factory, batches)
        with session_scope(factory) as db:
            batches.finish_batch(db, batch_id, "done", 1, 0, [BatchFile("t", "p", "F1")])
        with session_scope(factory) as db:
            [got] = batches.recent_batches(db, "T1", "U1")
        assert got.files == (BatchFile("t", "p", "F1"),) and got.created_at.tzinfo is not None
    finally:
        engine.dispose()


def test_batches_left_running_by_a_dead_process_are_failed_later(
        factory: Factory, batches: BatchRecordService, clock: FakeClock) -> None:
    stale = start(factory, batches)
    clock.advance(3000)
    recent = start(factory, batches, user="U2")
    clock.advance(700)  # stale is 3,700 s old, recent 700 s
    with session_scope(factory) as db:
        assert batches.fail_interrupted(db, older_than_seconds=3600) == 1
    with session_scope(factory) as db:
        assert batches.get_batch(db, "T1", stale).status is BatchStatus.FAILED
        assert batches.get_batch(db, "T1", recent).status is BatchStatus.RUNNING
        assert batches.fail_interrupted(db, older_than_seconds=3600) == 0
