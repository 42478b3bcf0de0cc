"""Shared pytest fixtures; the storage ones (every database backend) come from sessions_fixtures,
the Slack ones (`fake`, `bot`) from slack_harness."""

from collections.abc import Iterator

import pytest

from bot.retail_link.sandbox import SandboxServer

pytest_plugins = ["tests.sessions_fixtures", "tests.slack_harness"]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh Retail Link sandbox on a free port, stopped after the test."""
    with SandboxServer(port=0, echo_codes=False) as server:
        yield server
