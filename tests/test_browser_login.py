"""Signing in through headless Chromium when the sandbox, like Walmart, refuses scripted logins."""

from __future__ import annotations

import http.server
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.retail_link import browser
from bot.retail_link.browser import BrowserOptions, check_available, chromium_pids
from bot.retail_link.client import BROWSER_NEEDED, RetailLinkClient, Stage
from bot.retail_link.errors import BadCredentials, Blocked, BrowserMissing, Unavailable, WrongCode
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

ACCOUNT = DEFAULT_ACCOUNT
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = load_settings().CHROMIUM_PATH
LOGIN_APIS = ("/api/login", "/api/mfa/sendCode", "/api/mfa/validateCode")


@pytest.fixture
def needs_browser() -> None:
    """Skip where Playwright or Chromium is absent — except under CI, where that is a failure."""
    try:
        check_available(BrowserOptions(chromium_path=CHROMIUM))
    except BrowserMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so browser sign-in must be tested: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(autouse=True)
def fresh_process_memory() -> Iterator[None]:
    """Each test starts as a new process would: not yet knowing that the browser is needed."""
    BROWSER_NEEDED.clear()
    yield
    BROWSER_NEEDED.clear()


@pytest.fixture
def guarded() -> Iterator[SandboxServer]:
    """A sandbox whose login APIs answer 412 unless the login page's JavaScript ran."""
    with SandboxServer(port=0, echo_codes=False, require_browser=True) as server:
        yield server


def new_client(server: SandboxServer, mode: str = "browser", **options: object) -> RetailLinkClient:
    settings = {"chromium_path": CHROMIUM, "timeout_seconds": 30.0, "max_sessions": 2, **options}
    return RetailLinkClient(server.url, server.url, login_mode=mode,  # type: ignore[arg-type]
                            browser_options=BrowserOptions(**settings))  # type: ignore[arg-type]


def start(client: RetailLinkClient, password: str = ACCOUNT.password) -> None:
    client.start_login(ACCOUNT.username, password, ACCOUNT.credid)


def login_posts(server: SandboxServer) -> list[tuple[str, bool]]:
    """Each login API call seen, with whether it carried the page script's cookie."""
    return [(r.path, "_px3=" in r.headers.get("cookie", ""))
            for r in server.requests_seen if r.path in LOGIN_APIS]


def ours(pids: list[int]) -> list[int]:
    """The pids started under this test process, or orphaned (another test run's have parents)."""
    def parent(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    mine = []
    for pid in pids:
        ancestor = parent(pid)
        if ancestor == 1:
            mine.append(pid)
            continue
        while ancestor > 1 and ancestor != os.getpid():
            ancestor = parent(ancestor)
        if ancestor == os.getpid():
            mine.append(pid)
    return mine


class ChromiumWatch:
    """Samples how many of our browsers run while a block runs; then waits for every process to go.

    Other test runs on the machine may run browsers of their own; only ours are counted.
    """

    def __init__(self) -> None:
        self.peak = 0
        self.left: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, len(ours(chromium_pids(browsers_only=True))))
            time.sleep(0.05)

    def __enter__(self) -> ChromiumWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        deadline = time.monotonic() + 5
        while (left := ours(chromium_pids())) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.left = left


# --- without a browser -----------------------------------------------------------------------

def test_direct_login_is_blocked_with_the_typed_error(guarded: SandboxServer) -> None:
    client = new_client(guarded, "direct")
    with pytest.raises(Blocked) as caught:
        start(client)
    assert "412" in str(caught.value)
    assert client.stage is Stage.NEW and not BROWSER_NEEDED.is_set()
    assert login_posts(guarded) == [("/api/login", False)]


def test_auto_mode_stays_direct_while_the_login_host_allows_it(sandbox: SandboxServer) -> None:
    launches = browser.SLOTS.launches
    client = new_client(sandbox, "auto")
    start(client)
    client.complete_login(sandbox.last_code() or "")
    assert client.edr_report(547955).demo_id == 547955
    assert browser.SLOTS.launches == launches and not BROWSER_NEEDED.is_set()


def test_browser_mode_without_chromium_says_so_in_one_line(sandbox: SandboxServer) -> None:
    with pytest.raises(BrowserMissing) as caught:
        new_client(sandbox, "browser", chromium_path="/nonexistent/chromium")
    message = str(caught.value)
    assert "\n" not in message and "CHROMIUM_PATH=/nonexistent/chromium" in message


def test_browser_mode_without_playwright_says_how_to_install_it(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright", None)  # as if the extra were not installed
    with pytest.raises(BrowserMissing) as caught:
        new_client(sandbox, "browser")
    assert "pip install 'walmart-bot[browser]'" in str(caught.value)


def test_auto_mode_names_the_missing_browser_when_it_needs_one(guarded: SandboxServer) -> None:
    client = new_client(guarded, "auto", chromium_path="/nonexistent/chromium")
    with pytest.raises(BrowserMissing):
        start(client)


def test_from_settings_builds_the_configured_client(sandbox: SandboxServer) -> None:
    settings = load_settings(
        RETAIL_LINK_LOGIN_URL=sandbox.url, RETAIL_LINK_URL=sandbox.url,
        RETAIL_LINK_LOGIN_MODE="auto", CHROMIUM_PATH="/opt/chromium", BROWSER_MAX_SESSIONS=3,
        BROWSER_LOGIN_TIMEOUT_SECONDS=45)
    client = RetailLinkClient.from_settings(settings)
    assert client.login_mode == "auto"
    assert client.browser_options == BrowserOptions("/opt/chromium", 45.0, 3)
    start(client)
    restored = RetailLinkClient.from_settings(settings, state=client.export_state())
    assert restored.stage is Stage.CODE_SENT and restored.login_mode == "auto"


def test_unknown_login_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        RetailLinkClient("http://x", "http://x", login_mode="sometimes")  # type: ignore[arg-type]


# --- in the browser -----------------------------------------------------------------------

@pytest.mark.usefixtures("needs_browser")
def test_browser_mode_signs_in_and_fetches_an_edr(guarded: SandboxServer) -> None:
    client = new_client(guarded, "browser")
    with ChromiumWatch() as watch:
        start(client)
        client.complete_login(guarded.last_code() or "")
    assert client.signed_in and client.edr_report(547955).demo_id == 547955
    assert login_posts(guarded) == [(path, True) for path in LOGIN_APIS]
    # The browser's cookies were copied with their attributes; the data calls are plain HTTP.
    cookies = {c["name"]: c for c in json.loads(client.export_state())["cookies"]}
    assert {"_px3", "RLSESSION", "mfaToken", "auth-token"} <= set(cookies)
    assert cookies["RLSESSION"]["domain"] == "127.0.0.1" and cookies["RLSESSION"]["path"] == "/"
    assert guarded.requests_seen[-1].headers["authorization"].startswith("Bearer ")
    assert watch.peak >= 1 and watch.left == []


@pytest.mark.usefixtures("needs_browser")
def test_auto_mode_falls_back_to_the_browser_and_remembers(guarded: SandboxServer) -> None:
    first = new_client(guarded, "auto")
    start(first)
    first.complete_login(guarded.last_code() or "")
    assert first.edr_report(547955).demo_id == 547955
    assert BROWSER_NEEDED.is_set()
    assert [seen for seen in login_posts(guarded) if seen[0] == "/api/login"] == [
        ("/api/login", False), ("/api/login", True)]  # refused once, then the browser's

    guarded.reset_stats()
    second = new_client(guarded, "auto")
    start(second)  # straight to the browser: no 412 to earn first
    second.complete_login(guarded.last_code() or "")
    assert second.signed_in
    assert login_posts(guarded) == [(path, True) for path in LOGIN_APIS]


@pytest.mark.usefixtures("needs_browser")
def test_wrong_password_in_the_browser_is_bad_credentials_and_closes_it(
        guarded: SandboxServer) -> None:
    client = new_client(guarded, "browser")
    with ChromiumWatch() as watch, pytest.raises(BadCredentials):
        start(client, password="not-the-password")
    assert client.stage is Stage.NEW and guarded.last_code() is None
    assert watch.peak >= 1 and watch.left == [] and browser.SLOTS.active == 0


@pytest.mark.usefixtures("needs_browser")
def test_wrong_code_in_the_browser_keeps_the_sign_in_for_another_try(
        guarded: SandboxServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = new_client(guarded, "browser")
    start(client)
    code = guarded.last_code() or ""
    with pytest.raises(WrongCode) as caught:
        client.complete_login("000000" if code != "000000" else "111111")
    assert caught.value.attempts_left == 2 and client.stage is Stage.CODE_SENT
    client.complete_login(code)
    assert client.signed_in and ours(chromium_pids()) == []
    cookies = json.loads(client.export_state())["cookies"]
    secrets = [ACCOUNT.password, code] + [c["value"] for c in cookies if len(c["value"]) >= 6]
    assert caplog.records and not any(secret in caplog.text for secret in secrets)


@pytest.mark.usefixtures("needs_browser")
def test_a_browser_that_runs_out_of_time_is_closed(guarded: SandboxServer) -> None:
    guarded.delay_next(1, 10.0, path_prefix="/api/mfa/sendCode")
    client = new_client(guarded, "browser", timeout_seconds=3.0)
    started = time.monotonic()
    with ChromiumWatch() as watch, pytest.raises(Unavailable) as caught:
        start(client)
    assert "longer than 3 s" in str(caught.value)
    assert time.monotonic() - started < 8
    assert watch.peak >= 1 and watch.left == [] and browser.SLOTS.active == 0


@pytest.mark.usefixtures("needs_browser")
def test_login_halves_run_in_different_processes_with_the_browser(
        guarded: SandboxServer, tmp_path: Path) -> None:
    first = new_client(guarded, "browser")
    start(first)
    state = first.export_state()
    assert {"_px3", "RLSESSION"} <= {c["name"] for c in json.loads(state)["cookies"]}
    state_file = tmp_path / "state.json"
    state_file.write_bytes(state)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.retail_link.browser import BrowserOptions\n"
        "from bot.retail_link.client import RetailLinkClient\n"
        "c = RetailLinkClient.from_state(Path(sys.argv[1]).read_bytes(), sys.argv[2], sys.argv[2],\n"
        "                                login_mode='browser',\n"
        "                                browser_options=BrowserOptions(chromium_path=sys.argv[4]))\n"
        "c.complete_login(sys.argv[3])\n"
        "print(c.edr_report(547955).demo_id)\n"
    )
    code = guarded.last_code() or ""
    done = subprocess.run([sys.executable, "-c", script, str(state_file), guarded.url, code, CHROMIUM],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "547955"
    assert login_posts(guarded)[-1] == ("/api/mfa/validateCode", True)


@pytest.mark.usefixtures("needs_browser")
def test_at_most_the_configured_number_of_browsers_run_at_once(guarded: SandboxServer) -> None:
    guarded.delay_next(4, 1.0, path_prefix="/api/login")  # keeps each browser open a while
    clients = [new_client(guarded, "browser", max_sessions=2) for _ in range(4)]
    errors: list[BaseException] = []

    def sign_in(client: RetailLinkClient) -> None:
        try:
            start(client)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    browser.SLOTS.reset_peak()
    threads = [threading.Thread(target=sign_in, args=(c,)) for c in clients]
    with ChromiumWatch() as watch:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert all(c.stage is Stage.CODE_SENT for c in clients)
    assert browser.SLOTS.peak == 2 and watch.peak <= 2
    assert watch.left == []


@pytest.mark.usefixtures("needs_browser")
def test_a_wedged_page_is_killed_by_the_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "WATCHDOG_GRACE_SECONDS", 0.5)
    # After loading, this login page's script never yields, so no in-page call can even start.
    page = b"<html><body><script>setTimeout(() => { for (;;) {} }, 50)</script></body></html>"

    class Wedged(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Wedged) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = RetailLinkClient(url, url, login_mode="browser", browser_options=BrowserOptions(
            chromium_path=CHROMIUM, timeout_seconds=2.0))
        started = time.monotonic()
        with ChromiumWatch() as watch, pytest.raises(Unavailable) as caught:
            start(client)
        server.shutdown()
    assert "longer than 2 s" in str(caught.value)
    assert time.monotonic() - started < 6
    assert watch.peak == 1 and watch.left == []
