"""`walmart-bot` end to end: the README's sandbox run, bad input, and the exit codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.cli import EXIT_OK, EXIT_USAGE, build_parser, main
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings leak in from the developer's shell or a .env file."""
    for name in list(os.environ):
        if name.startswith(("WALMART_", "RETAIL_LINK_", "EDR_", "DATABASE_URL", "SESSION_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")


def test_readme_run_writes_the_core_pdfs_and_the_combined_one(tmp_path: Path) -> None:
    out = tmp_path / "pdfs"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "edr", "2024-10-05", "core", "--sandbox", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == EXIT_OK, done.stderr
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 7 and "EDRs_2024-10-05_core_store8135.pdf" in files
    assert "6 written" in done.stderr and "0 failed" in done.stderr
    text = " ".join(PdfReader(io.BytesIO((out / files[0]).read_bytes())).pages[0]
                    .extract_text().split())
    assert "547812" in text and "MUST BE SIGNED AND DATED" in text


def test_event_ids_with_one_unknown_exit_partial_and_name_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["edr", "548021", "999999", "--sandbox", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "999999" in err and "FAILED" in err and "1 written" in err


@pytest.mark.parametrize(("words", "message"), [
    (["2024-10-05", "cores-and-more"], "Unknown event kind"),
    (["2024-02-30"], "no such day"),
    (["next-week"], "neither a date nor an event id"),
    (["2024-10-05", "core", "extra"], "Too many words"),
])
def test_bad_input_gets_one_clear_line_and_exit_2(
        words: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edr", *words, "--sandbox"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_supervisor_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edr", "2024-10-05", "supervisor", "--sandbox"]) == EXIT_USAGE
    assert "no supervisor events" in capsys.readouterr().err


def test_no_store_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edr", "today"]) == EXIT_USAGE
    assert "WALMART_STORE_NUMBER" in capsys.readouterr().err


def test_missing_account_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WALMART_STORE_NUMBER", "8135")
    assert main(["edr", "today"]) == EXIT_USAGE
    assert "WALMART_EDR_USERNAME is not set" in capsys.readouterr().err


def test_malformed_setting_fails_at_start_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EDR_CONCURRENCY", "lots")
    assert main(["edr", "today", "--sandbox"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "EDR_CONCURRENCY" in err[0]


class CodeFromSandbox:
    """Standing in for the person at the keyboard: types what the sandbox texted, or `first`."""

    def __init__(self, sandbox: SandboxServer, first: list[str] | None = None) -> None:
        self.sandbox, self.queue, self.prompts = sandbox, list(first or []), 0

    def readline(self) -> str:
        self.prompts += 1
        return (self.queue.pop(0) if self.queue else self.sandbox.last_code() or "") + "\n"


@pytest.fixture
def real_mode(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer) -> SandboxServer:
    """Settings pointing at a sandbox as if it were Retail Link (no --sandbox flag)."""
    for name, value in {
        "RETAIL_LINK_LOGIN_URL": sandbox.url, "RETAIL_LINK_URL": sandbox.url,
        "WALMART_EDR_USERNAME": DEFAULT_ACCOUNT.username,
        "WALMART_EDR_PASSWORD": DEFAULT_ACCOUNT.password,
        "WALMART_EDR_MFA_CREDENTIAL_ID": DEFAULT_ACCOUNT.credid, "WALMART_STORE_NUMBER": "8135",
    }.items():
        monkeypatch.setenv(name, value)
    return sandbox


def test_two_runs_within_the_idle_timeout_need_one_code(
        real_mode: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keyboard = CodeFromSandbox(real_mode)
    monkeypatch.setattr(sys, "stdin", keyboard)
    assert main(["edr", "548021", "--out", str(tmp_path / "a")]) == EXIT_OK
    assert main(["edr", "2024-10-05", "juicer", "--out", str(tmp_path / "b")]) == EXIT_OK
    sent = [r for r in real_mode.requests_seen if r.path == "/api/mfa/sendCode"]
    assert len(sent) == 1 and keyboard.prompts == 1
    assert [p.name for p in (tmp_path / "b").iterdir() if "548230" in p.name]


def test_a_mistyped_code_is_asked_again_without_calling_walmart(
        real_mode: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    keyboard = CodeFromSandbox(real_mode, first=["12 34", "000000"])
    monkeypatch.setattr(sys, "stdin", keyboard)
    assert main(["edr", "548021", "--out", str(tmp_path)]) == EXIT_OK
    err = capsys.readouterr().err
    assert "6 digits" in err and "not accepted" in err and "2 attempt(s) left" in err
    validations = [r for r in real_mode.requests_seen if r.path == "/api/mfa/validateCode"]
    assert len(validations) == 2  # "12 34" never left the machine


def test_a_session_walmart_ended_is_replaced_by_a_new_sign_in(
        real_mode: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", CodeFromSandbox(real_mode))
    assert main(["edr", "548021", "--out", str(tmp_path)]) == EXIT_OK
    real_mode.expire_tokens()
    assert main(["edr", "548104", "--out", str(tmp_path)]) == EXIT_OK
    assert "signing in again" in capsys.readouterr().err
    sent = [r for r in real_mode.requests_seen if r.path == "/api/mfa/sendCode"]
    assert len(sent) == 2


def test_the_sandbox_command_can_require_the_browser() -> None:
    assert build_parser().parse_args(["sandbox", "--require-browser"]).require_browser is True
    assert build_parser().parse_args(["sandbox"]).require_browser is False
