"""The alembic migrations build exactly the models' schema, and go up and down, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.db import Base, alembic_config, make_engine, upgrade_head

TABLES = {"retail_link_accounts", "retail_link_sessions", "retail_link_operations"}


def differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_migrations_and_the_models_agree(database_url: str) -> None:
    upgrade_head(database_url)
    assert differences(database_url) == []


def test_comparison_would_notice_a_missing_migration(database_url: str) -> None:
    upgrade_head(database_url)
    command.downgrade(alembic_config(database_url), "base")
    assert differences(database_url) != []  # the check above is not vacuous


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    config = alembic_config(database_url)
    upgrade_head(database_url)
    assert tables(database_url) >= TABLES
    upgrade_head(database_url)  # at head already: nothing to do, no error
    command.downgrade(config, "base")
    assert tables(database_url) <= {"alembic_version"}
    upgrade_head(database_url)
    assert tables(database_url) >= TABLES
    assert differences(database_url) == []


def test_env_takes_the_url_from_settings(database_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    command.upgrade(alembic_config(), "head")  # no URL given: env.py reads DATABASE_URL
    assert tables(database_url) >= TABLES


def test_there_is_one_head_and_every_revision_can_go_down() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.module.downgrade.__code__.co_code  # a real downgrade, not missing
