"""`walmart-bot serve`: the README's walkthrough run as a real process against the fake Slack."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from bot.cli import EXIT_USAGE, main
from tests.fake_slack import FakeSlack
from tests.fake_socket_mode import FakeSocketMode
from tests.slack_requests import signed_headers, slash_command_body, view_submission_body

ROOT = Path(__file__).resolve().parents[1]
SECRET = "serve-test-secret"
CODE_LINE = re.compile(r"SMS code for \S+: (\d{6})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`walmart-bot serve --sandbox` as a real process: HTTP mode, or Socket Mode with an app
    token (`socket=True`)."""

    def __init__(self, fake: FakeSlack, tmp_path: Path, *, socket: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("WALMART_", "RETAIL_LINK_", "SLACK_", "DATABASE_URL"))}
        env.update(SLACK_BOT_TOKEN=fake.token, SLACK_API_URL=fake.api_url,
                   DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")
        mode = ["--http", "--port", str(self.port)]
        if socket:
            env["SLACK_APP_TOKEN"], mode = "xapp-1-fake", []  # no signing secret needed
        else:
            env["SLACK_SIGNING_SECRET"] = SECRET
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", *mode, "--sandbox"],
            cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_healthy(self, timeout: float = 30) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "serve exited early"
            try:
                answer = requests.get(self.url + "/healthz", timeout=1)
                if answer.status_code == 200:
                    return answer.json()
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve never became healthy")

    def code_from_console(self, timeout: float = 15) -> str:
        """The code the in-process sandbox printed, as a newcomer reads it off the console."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if match := CODE_LINE.search(line):
                return match[1]
        raise AssertionError("the sandbox's SMS code never appeared on the console")

    def post(self, body: str) -> requests.Response:
        return requests.post(self.url + "/slack/events", data=body.encode(),
                             headers=signed_headers(body, SECRET), timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def test_serve_sandbox_walkthrough_from_login_to_pdfs(fake: FakeSlack, tmp_path: Path) -> None:
    served = ServeProcess(fake, tmp_path)
    try:
        health = served.wait_healthy()
        assert health == {"status": "ok", "database": "ok", "scheduler": "running"}
        login = slash_command_body("login", trigger_id=fake.new_trigger_id("U1"),
                                   response_url=fake.response_url("U1", "C0PUBLIC"))
        assert served.post(login).status_code == 200
        asked = fake.wait_for("views.update", timeout=15, predicate=lambda c: "code_input" in str(
            c.params.get("view")))
        view_id = asked[-1].params["view_id"]
        code = served.code_from_console()
        view = fake.view(view_id)
        submit = view_submission_body(view.callback_id or "", {"code": {"code_input": code}},
                                      view_id=view_id, view=view.as_api())
        fake.apply_view_ack(view_id, served.post(submit).text)
        fake.wait_for("views.update", timeout=15, predicate=lambda c: "Signed in" in str(
            c.params.get("view")))
        edr = slash_command_body("edr 2024-10-05 core", trigger_id=fake.new_trigger_id("U1"),
                                 response_url=fake.response_url("U1", "C0PUBLIC"))
        assert served.post(edr).status_code == 200
        final = fake.wait_for("chat.update", timeout=30, predicate=lambda c: "PDFs in the thread"
                              in str(c.params.get("text")))
        parent = final[-1].params
        assert len(fake.files_in_thread(parent["channel"], parent["ts"])) == 7
    finally:
        served.stop()
    assert served.process.returncode is not None


def test_socket_mode_walkthrough_acks_commands_over_a_websocket(fake: FakeSlack,
                                                                tmp_path: Path) -> None:
    with FakeSocketMode() as socket_mode:
        fake.socket_mode_url = socket_mode.url
        served = ServeProcess(fake, tmp_path, socket=True)
        try:
            socket_mode.wait_connected()
            help_ack = socket_mode.ack(socket_mode.send("slash_commands", command_payload("help")))
            assert "/walmart login" in json.dumps(help_ack.get("payload")), help_ack
            socket_mode.send("slash_commands", command_payload(
                "login", trigger_id=fake.new_trigger_id("U1"),
                response_url=fake.response_url("U1", "C0PUBLIC")))
            fake.wait_for("views.update", timeout=15, predicate=lambda c: "code_input" in str(
                c.params.get("view")))
            assert re.fullmatch(r"\d{6}", served.code_from_console())
        finally:
            served.stop()


def command_payload(text: str, **fields: str) -> dict[str, str]:
    """A slash command as a Socket Mode envelope carries it: the form fields as JSON."""
    return dict(urllib.parse.parse_qsl(slash_command_body(text, **fields)))


def test_serve_without_app_token_or_http_says_what_to_set(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["serve"]) == EXIT_USAGE
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


def test_serve_http_without_bot_token_names_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["serve", "--http", "--port", str(free_port())]) == EXIT_USAGE
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
