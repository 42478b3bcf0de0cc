"""The terminal's EDR run: sign in (prompting for the SMS code), a progress bar, files, a summary."""

from __future__ import annotations

import getpass
import re
import sys
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.config import ConfigError, Settings
from bot.db import upgrade_head
from bot.edr.service import Batch, EdrRequest
from bot.edr.service import Progress as BatchProgress
from bot.operations import Operations, UserKey
from bot.retail_link.errors import SessionExpired, WrongCode
from bot.sessions.service import NoAccount, NotSignedIn

CODE_FORMAT = re.compile(r"^\d{6}$")
MAX_CODE_TRIES = 3
EXIT_OK, EXIT_PARTIAL = 0, 1


class TerminalRun:
    """One `walmart-bot edr` invocation; owns the sandbox (if any) and the terminal's session.

    The sign-in is kept in the session store like a Slack user's (team "terminal", the OS user),
    so two runs within the idle timeout need one SMS code.
    """

    def __init__(self, settings: Settings, *, sandbox: bool = False,
                 console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.sandbox = None
        team = "terminal"
        if sandbox:
            from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer
            from bot.retail_link.sandbox_data import FIXTURE_STORE

            self.sandbox = SandboxServer(echo_codes=False).start()
            account = DEFAULT_ACCOUNT
            settings = settings.for_sandbox(self.sandbox.url, account.username, account.password,
                                            account.credid, FIXTURE_STORE)
            team = "terminal-sandbox"  # never mix sandbox sessions with real ones
            self.console.print(f"[dim]Retail Link sandbox running at {self.sandbox.url}[/]")
        self.settings = settings
        upgrade_head(settings.DATABASE_URL)
        self.ops = Operations.from_settings(settings)
        self.who = UserKey(team, getpass.getuser())

    def __enter__(self) -> TerminalRun:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()

    # --- sign-in ---------------------------------------------------------------------------------

    def sign_in(self) -> None:
        with self.console.status("Signing in to Retail Link…"):
            try:
                self.ops.start_sign_in(self.who, replace=True)
            except NoAccount:
                missing = self.settings.missing_credentials() or ["WALMART_EDR_USERNAME"]
                raise ConfigError(
                    f"{missing[0]} is not set (the Retail Link account to sign in with); "
                    "or try --sandbox"
                ) from None
        for attempt in range(1, MAX_CODE_TRIES + 1):
            code = self._read_code()
            try:
                with self.console.status("Checking the code…"):
                    self.ops.finish_sign_in(self.who, code)
            except WrongCode as exc:
                if attempt == MAX_CODE_TRIES:
                    raise
                self.console.print(f"[yellow]{exc}[/]")
                continue
            minutes = self.settings.SESSION_IDLE_TIMEOUT_SECONDS // 60
            self.console.print(f"[green]Signed in to Retail Link[/] (kept {minutes} min after "
                               "the last use, so the next run needs no code).")
            return

    def _read_code(self) -> str:
        if self.sandbox is not None:
            code = self.sandbox.last_code() or ""
            self.console.print("Sandbox: answering the SMS code prompt itself.")
            return code
        while True:
            self.console.print("Retail Link texted a code to your phone. Enter the 6 digits: ",
                               end="")
            line = sys.stdin.readline()
            if not line:
                raise ConfigError("no SMS code given (standard input closed)")
            code = line.strip().replace(" ", "")
            if CODE_FORMAT.match(code):
                return code
            self.console.print("[yellow]The code is 6 digits, e.g. 482913. Try again.[/]")

    # --- the job ---------------------------------------------------------------------------------

    def edr(self, request: EdrRequest, out: Path) -> int:
        what = (f"{request.kind.value} events on {request.day:%a %b %d %Y}" if request.day
                else f"{len(request.event_ids)} event(s)")
        try:
            batch = self._run(request, what)
        except (NotSignedIn, SessionExpired) as exc:
            if isinstance(exc, NotSignedIn) and exc.reason not in ("none", "pending_code"):
                self.console.print(f"[yellow]{exc}[/]")
            elif isinstance(exc, SessionExpired):
                self.console.print("[yellow]Retail Link ended the saved session; signing in "
                                   "again.[/]")
            self.sign_in()
            batch = self._run(request, what)
        written = self._write(batch, out)
        self._summary(batch, written)
        if not batch.outcomes:
            self.console.print(f"No {what} found.")
            return EXIT_OK
        return EXIT_PARTIAL if batch.failures else EXIT_OK

    def _run(self, request: EdrRequest, what: str) -> Batch:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console, transient=False) as bar:
            task = bar.add_task(f"Listing {what} at store {request.store}…", total=None)

            def report(progress: BatchProgress) -> None:
                label = f"EDR {progress.last.event_id}" if progress.last else "EDRs"
                bar.update(task, completed=progress.done, total=progress.total, description=label)

            return self.ops.run_edr(self.who, request, progress=report)

    def _write(self, batch: Batch, out: Path) -> dict[int, Path]:
        out.mkdir(parents=True, exist_ok=True)
        written: dict[int, Path] = {}
        for outcome in batch.files:
            assert outcome.pdf is not None and outcome.filename is not None
            path = out / outcome.filename
            path.write_bytes(outcome.pdf)
            written[outcome.event_id] = path
        if batch.combined is not None and batch.combined_filename:
            (out / batch.combined_filename).write_bytes(batch.combined)
            self.console.print(f"Combined PDF for printing: {out / batch.combined_filename}")
        return written

    def _summary(self, batch: Batch, written: dict[int, Path]) -> None:
        table = Table(title="EDR summary", show_lines=False)
        for column in ("Event", "Name", "Kind", "Result"):
            table.add_column(column)
        for o in batch.outcomes:
            if o.ok:
                result = f"[green]{written[o.event_id].name}[/]"
            elif o.skipped:
                result = f"[dim]skipped: {o.reason}[/]"
            else:
                result = f"[red]FAILED: {o.reason}[/]"
            table.add_row(str(o.event_id), o.name or "", o.kind.value if o.kind else "", result)
        self.console.print(table)
        ok, failed = len(batch.files), len(batch.failures)
        skipped = len(batch.outcomes) - ok - failed
        where = f" to {next(iter(written.values())).parent}/" if written else ""
        self.console.print(f"{ok} written{where}, {failed} failed, {skipped} skipped.")
