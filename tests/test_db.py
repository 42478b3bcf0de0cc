"""bot.db: engines for SQLite and PostgreSQL, aware UTC times, the database clock, session_scope."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import StatementError

from bot.db import (
    CommitAndRaise,
    UtcDateTime,
    db_time,
    make_engine,
    normalize_url,
    session_factory,
    session_scope,
)

metadata = MetaData()
stamps = Table("stamps", metadata, Column("id", Integer, primary_key=True),
               Column("at", UtcDateTime()), Column("n", Integer, default=0))


@pytest.fixture(name="plain_engine")
def plain_engine_fixture(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///walmart_bot.db", "sqlite:///walmart_bot.db"),
])
def test_postgresql_urls_use_psycopg_3(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_a_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_is_set_up_for_several_threads_and_processes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_sqlite_writers_in_many_threads_wait_their_turn(tmp_path: Path) -> None:
    # Read-then-write transactions from several threads: deferred BEGIN would fail some of
    # them with "database is locked"; BEGIN IMMEDIATE makes them queue instead.
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(stamps).values(id=1, n=0))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with engine.begin() as conn:
                    n = conn.execute(select(stamps.c.n).where(stamps.c.id == 1)).scalar_one()
                    conn.execute(stamps.update().where(stamps.c.id == 1).values(n=n + 1))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(select(stamps.c.n)).scalar_one() == 150  # no lost update
    engine.dispose()


def test_times_come_back_aware_and_in_utc(plain_engine: Engine) -> None:
    eastern = timezone(timedelta(hours=-4))
    given = datetime(2024, 10, 5, 11, 2, 17, 123456, tzinfo=eastern)
    with plain_engine.begin() as conn:
        conn.execute(insert(stamps).values(id=1, at=given))
        got = conn.execute(select(stamps.c.at)).scalar_one()
    assert got == given and got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.hour == 15


def test_naive_times_are_refused(plain_engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive"), plain_engine.begin() as conn:
        conn.execute(insert(stamps).values(id=1, at=datetime(2024, 10, 5, 11, 0)))


def test_db_time_is_the_database_clock_and_does_arithmetic(plain_engine: Engine) -> None:
    at = datetime(2024, 10, 5, 23, 59, 30, tzinfo=UTC)
    with plain_engine.connect() as conn:
        now, later, then, earlier = conn.execute(
            select(db_time(), db_time(None, 600), db_time(at), db_time(at, -90.5))).one()
        stored_compare = conn.execute(select(db_time(at, 45) > at)).scalar()
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
    assert later - now == timedelta(seconds=600)
    assert then == at
    assert earlier == at - timedelta(seconds=90.5)
    assert stored_compare in (True, 1)


def test_db_time_compares_correctly_with_stored_times(plain_engine: Engine) -> None:
    at = datetime(2024, 10, 5, 23, 59, 59, 999000, tzinfo=UTC)
    with plain_engine.begin() as conn:
        conn.execute(insert(stamps).values(id=1, at=at))
        before = conn.execute(select(func.count()).where(stamps.c.at > db_time(at, -0.001))).scalar()
        same = conn.execute(select(func.count()).where(stamps.c.at > db_time(at))).scalar()
        after = conn.execute(select(func.count()).where(stamps.c.at <= db_time(at, 0.001))).scalar()
    assert (before, same, after) == (1, 0, 1)


class Keep(CommitAndRaise):
    pass


def test_session_scope_commits_rolls_back_and_keeps_commit_and_raise(plain_engine: Engine) -> None:
    factory = session_factory(plain_engine)
    with session_scope(factory) as db:
        db.execute(insert(stamps).values(id=1))
    with pytest.raises(RuntimeError), session_scope(factory) as db:
        db.execute(insert(stamps).values(id=2))
        raise RuntimeError("boom")
    with pytest.raises(Keep), session_scope(factory) as db:
        db.execute(insert(stamps).values(id=3))
        raise Keep()
    with session_scope(factory) as db:
        assert db.execute(select(stamps.c.id).order_by(stamps.c.id)).scalars().all() == [1, 3]
        assert db.execute(text("SELECT 1")).scalar() == 1
