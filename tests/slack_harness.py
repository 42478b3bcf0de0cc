"""The real Slack app served over HTTP (waitress), its WebClient pointed at the fake Slack API,
Walmart played by the Retail Link sandbox: what the scenario tests drive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def harness_settings(fake: FakeSlack, sandbox: SandboxServer, db_url: str,
                     **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": fake.token, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "RETAIL_LINK_LOGIN_URL": sandbox.url,
        "RETAIL_LINK_URL": sandbox.url, "WALMART_EDR_USERNAME": DEFAULT_ACCOUNT.username,
        "WALMART_EDR_PASSWORD": DEFAULT_ACCOUNT.password,
        "WALMART_EDR_MFA_CREDENTIAL_ID": DEFAULT_ACCOUNT.credid, "WALMART_STORE_NUMBER": 8135,
        "BOT_ENCRYPTION_KEY": Fernet.generate_key().decode(), "EXPIRY_SWEEP_SECONDS": 3600,
    }
    values.update(overrides)
    return load_settings(**values)


class SlackHarness:
    """One bot instance serving HTTP on a free port."""

    def __init__(self, fake: FakeSlack, sandbox: SandboxServer, settings: Settings) -> None:
        self.fake, self.sandbox, self.settings = fake, sandbox, settings
        self.runtime: Runtime = build_runtime(settings)
        self.server = create_server(wsgi_app(self.runtime), host="127.0.0.1", port=0,
                                    threads=32, backlog=1024, connection_limit=1024)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> SlackHarness:
        self.runtime.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.close()
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
        view = self.fake.view(view_id)
        body = view_submission_body(view.callback_id or "", values, user_id=user,
                                    view_id=view_id, view=view.as_api())
        response = self.post(body)
        self.fake.apply_view_ack(view_id, response.text)
        return response

    def home_opened(self, user: str = "U1") -> requests.Response:
        return self.post(event_body(app_home_opened_event(user)))

    # --- common journeys ---------------------------------------------------------------------

    def login_view(self, user: str = "U1") -> str:
        """`/walmart login` up to the modal asking for the code; returns the view id."""
        assert self.command("login", user=user).status_code == 200
        call = self.fake.wait_for("views.update", predicate=lambda c: any(
            b.get("block_id") == "code" for b in (c.params.get("view") or {}).get("blocks", [])))
        return call[-1].params["view_id"]

    def sign_in(self, user: str = "U1") -> None:
        view_id = self.login_view(user)
        self.submit(view_id, {"code": {"code_input": self.sandbox.last_code() or ""}}, user)
        self.fake.wait_for("views.update", predicate=lambda c: c.params.get("view_id") == view_id
                           and "Signed in" in str(c.params.get("view")))


@contextmanager
def running_bot(fake: FakeSlack, sandbox: SandboxServer, tmp_path: Path,
                **overrides: Any) -> Iterator[SlackHarness]:
    settings = harness_settings(fake, sandbox, f"sqlite:///{tmp_path / 'bot.db'}", **overrides)
    harness = SlackHarness(fake, sandbox, settings).start()
    try:
        yield harness
    finally:
        harness.stop()
