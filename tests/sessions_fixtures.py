"""Fixtures for the storage tests: each runs on SQLite (a temp file) and on PostgreSQL (its own schema).

Loaded for every test module as a plugin (tests/conftest.py); each is defined as
`<name>_fixture` with `@pytest.fixture(name="<name>")`, so a helper's name never shadows one.
PostgreSQL comes from TEST_POSTGRES_URL (default: trust auth on 127.0.0.1, database `test`).
Unreachable, the PostgreSQL cases skip with the reason — except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.db import Base, make_engine, session_factory, session_scope
from bot.sessions.crypto import Cipher
from bot.sessions.service import SessionService

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
T0 = datetime(2024, 10, 5, 15, 0, tzinfo=UTC)
IDLE = 600
WARNING = 60

_pg_problem: list[str] = []  # probed once per test run


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_or_skip() -> str:
    """The base PostgreSQL URL, or skip (fail under CI) with why it cannot be used."""
    if not _pg_problem:
        try:
            with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_problem.append("")
        except psycopg.Error as exc:
            _pg_problem.append(f"PostgreSQL at {POSTGRES_URL} unreachable: "
                               f"{str(exc).strip().splitlines()[0]}")
    problem = _pg_problem[0]
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(problem)
    return POSTGRES_URL


@dataclass
class PostgresSchema:
    """A throwaway schema; `url` points search_path at it, so tables and alembic land there."""

    base_url: str
    name: str

    @property
    def url(self) -> str:
        return make_url(self.base_url).update_query_dict(
            {"options": f"-csearch_path={self.name}"}).render_as_string(hide_password=False)

    def create(self) -> None:
        with psycopg.connect(_libpq(self.base_url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')

    def drop(self) -> None:
        with psycopg.connect(_libpq(self.base_url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture(name="pg_schema")
def pg_schema_fixture() -> Iterator[PostgresSchema]:
    schema = PostgresSchema(postgres_or_skip(), f"wbtest_{uuid.uuid4().hex[:12]}")
    schema.create()
    try:
        yield schema
    finally:
        schema.drop()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'walmart_bot.db'}"


@pytest.fixture(name="database_url", params=BACKENDS)
def database_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("pg_schema").url


@pytest.fixture(name="engine")
def engine_fixture(database_url: str) -> Iterator[Engine]:
    """The tables made from the models (test_migrations proves the migrations make the same)."""
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(name="factory")
def factory_fixture(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


class FakeClock:
    """A clock tests move by hand; the service binds its reading into the SQL."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(name="clock")
def clock_fixture() -> FakeClock:
    return FakeClock()


@pytest.fixture(name="cipher")
def cipher_fixture() -> Cipher:
    return Cipher([Fernet.generate_key()])


@pytest.fixture(name="service")
def service_fixture(cipher: Cipher, clock: FakeClock) -> SessionService:
    return SessionService(cipher, idle_timeout_seconds=IDLE, warning_seconds=WARNING, clock=clock)


def client_state(user: str, n: int = 0) -> bytes:
    """Stand-in for RetailLinkClient.export_state() output."""
    return f'{{"v":1,"user":"{user}","n":{n}}}'.encode()


def sign_in(factory: sessionmaker[Session], service: SessionService, team: str, user: str,
            state: bytes | None = None) -> None:
    """Begin and complete a sign-in, each in its own unit of work, as two requests would."""
    with session_scope(factory) as db:
        service.begin_sign_in(db, team, user, client_state(user, 0))
    with session_scope(factory) as db:
        service.complete_sign_in(db, team, user, state or client_state(user, 1))
