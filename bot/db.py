"""The database: declarative Base, engines for SQLite and PostgreSQL, session_scope(), upgrade_head()."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, literal
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ColumnElement, expression
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"
# Milliseconds are what SQLite's clock gives; three zeros make it SQLAlchemy's stored text format,
# so stored and computed times compare correctly as strings.
_SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%f000"
SQLITE_BUSY_TIMEOUT_MS = 10_000

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CommitAndRaise(Exception):  # noqa: N818 - a mix-in, not an error of its own
    """Mix-in for domain errors whose writes must persist (e.g. ending an unreadable session).

    `session_scope` commits before re-raising these; every other exception rolls back.
    """


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time type, so the UTC wall time is stored as
    text in one fixed format and UTC is re-attached on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a computed SQLite expression comes back untyped
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _db_time(expression.FunctionElement[datetime]):  # noqa: N801 - SQL function naming
    """`at` (or, without one, the database's own clock) plus `seconds`, computed in SQL."""

    type = UtcDateTime()
    inherit_cache = True
    name = "db_time"


@compiles(_db_time, "sqlite")
def _db_time_sqlite(element: _db_time, compiler: Any, **kw: Any) -> str:
    clauses = list(element.clauses)
    seconds = compiler.process(clauses[0], **kw)
    at = compiler.process(clauses[1], **kw) if len(clauses) > 1 else "'now'"
    return f"strftime('{_SQLITE_TIME_FORMAT}', {at}, ({seconds}) || ' seconds')"


@compiles(_db_time, "postgresql")
def _db_time_postgresql(element: _db_time, compiler: Any, **kw: Any) -> str:
    clauses = list(element.clauses)
    seconds = compiler.process(clauses[0], **kw)
    at = f"CAST({compiler.process(clauses[1], **kw)} AS TIMESTAMP WITH TIME ZONE)" if len(
        clauses) > 1 else "now()"
    return f"({at} + make_interval(secs => CAST({seconds} AS DOUBLE PRECISION)))"


def db_time(at: datetime | None = None, plus_seconds: float = 0) -> ColumnElement[datetime]:
    """A SQL expression for "now + plus_seconds".

    With `at` None the database's clock is the one clock every instance shares (PostgreSQL's
    `now()`, SQLite's 'now'). A test passes `at` and it is bound as a parameter: the same SQL
    arithmetic runs, only its starting instant changes, so nothing has to sleep.
    """
    seconds = literal(plus_seconds)
    if at is None:
        return _db_time(seconds)
    return _db_time(seconds, literal(at, UtcDateTime()))


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or leaves out)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for DATABASE_URL, set up so several threads and processes can share the database."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)

    memory = parsed.database in (None, "", ":memory:")
    connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    connect_args.update(kwargs.pop("connect_args", {}))
    if memory:
        kwargs.setdefault("poolclass", StaticPool)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, say when a transaction starts (see _begin below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock up front. A deferred transaction that reads and
        # then writes fails at once with SQLITE_BUSY when another connection wrote in between
        # (busy_timeout cannot help it), so every transaction here waits its turn instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit of work for a boundary (a Slack request, a job, a CLI run): commit or roll back."""
    session = factory()
    try:
        yield session
    except CommitAndRaise:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()


def alembic_config(url: str | None = None, connection: Any = None) -> Any:
    """An alembic Config for this project; the URL travels as an attribute, not through the ini."""
    from alembic.config import Config

    config = Config(str(ALEMBIC_DIR.parent / "alembic.ini"))
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["configure_logger"] = False  # the application's logging stays as it is
    if url is not None:
        config.attributes["url"] = normalize_url(url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_head(url: str) -> None:
    """Bring the database at `url` to the newest migration (what `walmart-bot db upgrade` runs)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    log.info("database at head")
