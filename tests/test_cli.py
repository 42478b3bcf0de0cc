"""`walmart-bot` end to end: the README's sandbox run, bad input, and the exit codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.cli import EXIT_OK, EXIT_USAGE, main

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
