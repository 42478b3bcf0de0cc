"""The real Slack app served over HTTP (waitress), its WebClient pointed at the fake Slack API,
Walmart played by the Retail Link sandbox: what the scenario tests drive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests
from cryptography.fernet import Fernet
from waitress.server import create_server

from bot.config import Settings, load_settings
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer
from bot.server import Runtime, build_runtime, wsgi_app
from tests.fake_slack import FakeSlack
from tests.slack_requests import (
    app_home_opened_event,
    block_action_body,
    event_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
# One key for every instance in the test process, so two bots on one database read each other's
# sessions (as two workers of one deployment do); pass BOT_ENCRYPTION_KEY to differ.
ENCRYPTION_KEY = Fernet.generate_key().decode()
FINAL_MARKS = (" in the thread", "no matching events", " — failed: ")  # blocks.edr_parent's end texts


class RetailLink(Protocol):
    """What the harness needs of Walmart: the sandbox, in this process or another (benchmarks)."""

    @property
    def url(self) -> str: ...

    def last_code(self, username: str = DEFAULT_ACCOUNT.username) -> str | None: ...


class SessionClock:
    """The session store's clock for tests: wall time until moved, then as far ahead as moved."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


def harness_settings(fake: FakeSlack, sandbox: RetailLink, db_url: str,
                     **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "RETAIL_LINK_LOGIN_URL": sandbox.url,
        "RETAIL_LINK_URL": sandbox.url, "WALMART_EDR_USERNAME": DEFAULT_ACCOUNT.username,
        "WALMART_EDR_PASSWORD": DEFAULT_ACCOUNT.password,
        "WALMART_EDR_MFA_CREDENTIAL_ID": DEFAULT_ACCOUNT.credid, "WALMART_STORE_NUMBER": 8135,
        "BOT_ENCRYPTION_KEY": ENCRYPTION_KEY, "EXPIRY_SWEEP_SECONDS": 3600,
    }
    values.update(overrides)
    return load_settings(**values)


class SlackHarness:
    """One bot instance serving HTTP on a free port."""

    def __init__(self, fake: FakeSlack, sandbox: RetailLink, settings: Settings,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.fake, self.sandbox, self.settings = fake, sandbox, settings
        self.runtime: Runtime = build_runtime(settings, clock=clock)
        self.server = create_server(wsgi_app(self.runtime), host="127.0.0.1", port=0,
                                    threads=32, backlog=1024, connection_limit=1024)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> SlackHarness:
        self.runtime.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        # Closed from inside waitress's loop thread (closing its socket from here races its select()).
        self.server.trigger.pull_trigger(self.server.close)
        self._thread.join(timeout=5)
        self.runtime.scheduler.stop(wait=True)
        self.runtime.deps.jobs.shutdown(wait=True)

    # --- sending what Slack sends ------------------------------------------------------------

    def post(self, body: str, *, headers: dict[str, str] | None = None,
             timestamp: int | None = None) -> requests.Response:
        sent = {**signed_headers(body, SECRET, timestamp), **(headers or {})}
        return requests.post(self.url + "/slack/events", data=body.encode(), headers=sent,
                             timeout=10)

    def command(self, text: str, user: str = "U1", channel: str = "C0PUBLIC",
                team: str = "T0001", **headers: str) -> requests.Response:
        body = slash_command_body(text, user_id=user, team_id=team, channel_id=channel,
                                  trigger_id=self.fake.new_trigger_id(user),
                                  response_url=self.fake.response_url(user, channel))
        return self.post(body, headers=headers or None)

    def action(self, action_id: str, value: str | None = None, user: str = "U1",
               **kwargs: Any) -> requests.Response:
        body = block_action_body(action_id, value, user_id=user,
                                 trigger_id=self.fake.new_trigger_id(user),
                                 response_url=kwargs.pop("response_url", None)
                                 or self.fake.response_url(user), **kwargs)
        return self.post(body)

    def submit(self, view_id: str, values: dict[str, dict[str, Any]],
               user: str = "U1") -> requests.Response:
        """Submit the modal and do what Slack does with the ack, in Slack's order: Slack applies the
        ack as it arrives, before any views.update the app's background work sends afterwards. Here
        the ack is applied when the answer is back, so an update that beat it is applied again."""
        view = self.fake.view(view_id)
        body = view_submission_body(view.callback_id or "", values, user_id=user,
                                    view_id=view_id, view=view.as_api())
        sent = len(self.fake.calls())
        response = self.post(body)
        self.fake.apply_view_ack(view_id, response.text)
        early = [c for c in self.fake.calls()[sent:] if c.method == "views.update" and c.ok
                 and c.params.get("view_id") == view_id]
        if early:
            self.fake.apply_view_ack(view_id, {"response_action": "update",
                                               "view": early[-1].params["view"]})
        return response

    def home_opened(self, user: str = "U1") -> requests.Response:
        return self.post(event_body(app_home_opened_event(user)))

    def healthz(self) -> requests.Response:
        return requests.get(self.url + "/healthz", timeout=10)

    # --- common journeys ---------------------------------------------------------------------

    def login_view(self, user: str = "U1") -> str:
        """`/walmart login` up to the modal asking for the code; returns the view id."""
        assert self.command("login", user=user).status_code == 200
        call = self.fake.wait_for("views.update", predicate=lambda c: any(
            b.get("block_id") == "code" for b in (c.params.get("view") or {}).get("blocks", [])))
        return call[-1].params["view_id"]

    def sign_in(self, user: str = "U1") -> None:
        """Through the modal with the right code, up to the App Home refresh that ends it."""
        view_id = self.login_view(user)
        homes = len(self.fake.calls("views.publish"))
        self.submit(view_id, {"code": {"code_input": self.sandbox.last_code() or ""}}, user)
        self.fake.wait_for("views.update", predicate=lambda c: c.params.get("view_id") == view_id
                           and "Signed in" in str(c.params.get("view")))
        self.fake.wait_for("views.publish", homes + 1)

    def edr(self, text: str, user: str = "U1", channel: str = "C0PUBLIC",
            timeout: float = 20) -> dict[str, Any]:
        """`/walmart edr …` through to the parent's final update; returns that chat.update's params."""
        posted = [c for c in self.fake.calls("chat.postMessage") if c.ok]
        response = self.command(f"edr {text}", user=user, channel=channel)
        assert response.status_code == 200 and not response.text, response.text
        parent = self.fake.wait_for("chat.postMessage", len(posted) + 1, timeout=timeout,
                                    predicate=lambda c: c.ok)[len(posted)]
        return self.wait_final(parent.response["channel"], parent.response["ts"], timeout)

    def wait_final(self, channel: str, ts: str, timeout: float = 20) -> dict[str, Any]:
        """The parent message's last update: done, nothing found, or failed."""
        calls = self.fake.wait_for("chat.update", timeout=timeout, predicate=lambda c: (
            c.params["channel"] == channel and c.params["ts"] == ts
            and any(mark in c.params["text"] for mark in FINAL_MARKS)))
        return calls[-1].params


def assert_no_call(fake: FakeSlack, method: str, predicate: Callable[[Any], bool] | None = None,
                   within: float = 0.5) -> None:
    """Nothing to wait for when the app must stay silent: give a stray call `within` s to show up."""
    try:
        calls = fake.wait_for(method, timeout=within, predicate=predicate)
    except AssertionError:
        return
    raise AssertionError(f"unexpected {method}: {calls[0].summary()}")


@contextmanager
def running_bot(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path, *,
                clock: Callable[[], datetime] | None = None,
                **overrides: Any) -> Iterator[SlackHarness]:
    """A bot on `tmp_path`/bot.db; a second one on the same tmp_path shares the database.
    `clock` replaces the session store's (see SessionClock)."""
    settings = harness_settings(fake, sandbox, f"sqlite:///{tmp_path / 'bot.db'}", **overrides)
    harness = SlackHarness(fake, sandbox, settings, clock).start()
    try:
        yield harness
    finally:
        harness.stop()


@pytest.fixture(name="fake")
def fake_fixture() -> Iterator[FakeSlack]:
    """The fake Slack Web API (loaded for every test module through tests/conftest.py)."""
    with FakeSlack() as server:
        yield server


@pytest.fixture(name="bot")
def bot_fixture(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path) -> Iterator[SlackHarness]:
    """One bot instance on SQLite; fails the test if any Block Kit limit was broken."""
    with running_bot(fake, sandbox, tmp_path) as harness:
        yield harness
    fake.assert_no_block_kit_errors()
