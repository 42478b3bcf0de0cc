"""The login steps run inside headless Chromium, for when Walmart refuses scripted sign-ins (HTTP 412)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urlsplit

from requests.cookies import create_cookie

from bot.retail_link import protocol as p
from bot.retail_link.answers import Answer, raise_for_answer
from bot.retail_link.errors import Blocked, BrowserMissing, Unavailable

log = logging.getLogger(__name__)

# Without the networking switches Chromium keeps dialling Google services, which on a closed
# network means a stream of refused connections; --no-sandbox because the bot may run as root.
CHROMIUM_ARGS = (
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
PROFILE_PREFIX = "walmart-bot-chromium-"  # the profile dir names our Chromium processes
SENSOR_COOKIE = "_px3"  # PerimeterX's sensor result (PROTOCOL.md §2.2)
SENSOR_WAIT_SECONDS = 5.0  # how long the page's scripts get to produce it before we try anyway
WATCHDOG_GRACE_SECONDS = 5.0

# Runs in the login page: the same POST the direct client sends, with the page's cookies, and
# every part of the answer the error mapping needs. A network failure comes back as `error`.
_FETCH_JS = """async ([url, body, timeoutMs]) => {
  try {
    const r = await fetch(url, {
      method: "POST", credentials: "same-origin", signal: AbortSignal.timeout(timeoutMs),
      headers: {"accept": "*/*", "content-type": "application/json"},
      body: JSON.stringify(body),
    });
    return {status: r.status, contentType: r.headers.get("content-type") || "", url: r.url,
            redirected: r.redirected, retryAfter: r.headers.get("retry-after"),
            text: await r.text()};
  } catch (e) {
    return {error: e.name === "TimeoutError" ? "timeout" : String(e)};
  }
}"""


@dataclass(frozen=True)
class BrowserOptions:
    chromium_path: str = "/usr/bin/chromium"
    timeout_seconds: float = 60.0  # one browser's whole life, and the longest wait for a slot
    max_sessions: int = 2  # browsers alive at once in this process


@dataclass(frozen=True)
class LoginStep:
    path: str
    body: dict[str, Any]
    step: str  # the name the error mapping knows: password, send_code, validate_code


class _Slots:
    """A process-wide cap on live browsers whose size follows the latest options."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self.active = 0
        self.peak = 0  # most browsers alive at once since the last reset (tests, benchmark)
        self.launches = 0

    def acquire(self, limit: int, timeout: float) -> bool:
        with self._free:
            if not self._free.wait_for(lambda: self.active < limit, timeout):
                return False
            self.active += 1
            self.launches += 1
            self.peak = max(self.peak, self.active)
            return True

    def reset_peak(self) -> None:
        with self._free:
            self.peak = self.active

    def release(self) -> None:
        with self._free:
            self.active -= 1
            self._free.notify_all()


SLOTS = _Slots()


def check_available(options: BrowserOptions) -> None:
    """Fail with one clear line when the Playwright package or the Chromium binary is missing."""
    if importlib.util.find_spec("playwright") is None:
        raise BrowserMissing("the Playwright package is not installed: "
                             "pip install 'walmart-bot[browser]'")
    if not os.access(options.chromium_path, os.X_OK):
        raise BrowserMissing(f"no Chromium at CHROMIUM_PATH={options.chromium_path}: "
                             "apt-get install chromium, or point CHROMIUM_PATH at it")


def run_login_steps(login_url: str, options: BrowserOptions, cookies: Iterable[Cookie],
                    steps: Sequence[LoginStep]) -> list[Cookie]:
    """Open the login page with `cookies`, POST each step from inside it, return its cookies.

    Raises the same typed errors as the direct client; the browser is gone when this returns.
    """
    check_available(options)
    if not SLOTS.acquire(options.max_sessions, options.timeout_seconds):
        raise Unavailable(f"All {options.max_sessions} sign-in browsers are busy. Try again shortly.")
    try:
        return _in_browser(login_url, options, list(cookies), steps)
    finally:
        SLOTS.release()


class _Deadline(Exception):
    """The browser's time (BROWSER_LOGIN_TIMEOUT_SECONDS) ran out."""


def _in_browser(login_url: str, options: BrowserOptions, cookies: list[Cookie],
                steps: Sequence[LoginStep]) -> list[Cookie]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + options.timeout_seconds

    def left_ms() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Deadline
        return left * 1000

    started = time.perf_counter()
    # ignore_cleanup_errors: a killed Chromium may leave files it was still writing.
    with tempfile.TemporaryDirectory(prefix=PROFILE_PREFIX, ignore_cleanup_errors=True) as profile:
        # Every wait below is bounded by the deadline; the watchdog is for a wedged Chromium
        # (a page script that never yields would block `evaluate` for good).
        watchdog = threading.Timer(options.timeout_seconds + WATCHDOG_GRACE_SECONDS,
                                   kill_chromium, args=(profile,))
        watchdog.daemon = True
        watchdog.start()
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    profile, executable_path=options.chromium_path, headless=True,
                    args=list(CHROMIUM_ARGS), timeout=left_ms(),
                    # One user-agent for the browser and the HTTP half: the original suspected
                    # bot scoring on mismatches (PROTOCOL.md §3).
                    user_agent=p.USER_AGENT, locale="en-US",
                )
                try:
                    context.add_cookies([to_browser(c, login_url) for c in cookies])
                    page = context.pages[0] if context.pages else context.new_page()
                    _open_login_page(page, login_url, left_ms, PlaywrightTimeout)
                    for step in steps:
                        result = page.evaluate(_FETCH_JS,
                                               [login_url + step.path, step.body, left_ms()])
                        _judge(result, step)
                    fresh = [to_jar(c) for c in context.cookies()]
                finally:
                    try:  # on success, typed failure and timeout alike
                        context.close()
                    except PlaywrightError:  # it would not close: make sure it is gone
                        kill_chromium(profile)
        except (_Deadline, PlaywrightError) as exc:
            # A browser the watchdog killed surfaces as "target closed", after the deadline.
            if isinstance(exc, _Deadline | PlaywrightTimeout) or time.monotonic() >= deadline:
                log.warning("browser sign-in gave up after %.0f s", options.timeout_seconds)
                raise Unavailable(f"Signing in through the browser took longer than "
                                  f"{options.timeout_seconds:.0f} s.") from None
            log.warning("browser sign-in failed: %s", str(exc).splitlines()[0][:200])
            raise Unavailable("The sign-in browser failed; try again.") from None
        finally:
            watchdog.cancel()
            _wait_gone(profile)
    log.info("browser sign-in steps done in %.1f s", time.perf_counter() - started)
    return fresh


def _open_login_page(page: Any, login_url: str, left_ms: Callable[[], float],
                     timeout_error: type[Exception]) -> None:
    """Load the login page and give its scripts time to set the bot-defence cookie."""
    response = page.goto(login_url + p.LOGIN_PAGE, wait_until="load", timeout=left_ms())
    status = response.status if response is not None else 0
    if status in (403, 412):
        raise Blocked(f"login page refused the browser (HTTP {status})")
    if status >= 500:
        raise Unavailable(f"Retail Link's login page answered HTTP {status}.")
    try:
        page.wait_for_function(f"document.cookie.includes('{SENSOR_COOKIE}=')",
                               timeout=min(SENSOR_WAIT_SECONDS * 1000, left_ms()))
    except timeout_error:  # the cookie's name may change; the POSTs will tell
        log.info("no %s cookie after the login page loaded; trying anyway", SENSOR_COOKIE)


def _judge(result: dict[str, Any], step: LoginStep) -> None:
    if "error" in result:
        if result["error"] == "timeout":
            raise _Deadline
        log.warning("in-page %s failed: %s", step.step, result["error"][:200])
        raise Unavailable()
    answer = Answer(status=int(result["status"]), content_type=result["contentType"],
                    url=result["url"], read_text=lambda: result["text"],
                    redirected=bool(result["redirected"]), retry_after=result["retryAfter"])
    raise_for_answer(answer, step=step.step)


# --- cookies between the browser and the requests jar -------------------------------------------

def to_jar(cookie: dict[str, Any]) -> Cookie:
    """A Playwright cookie as a requests cookie: name, value, domain, path, expiry, flags."""
    domain = cookie["domain"]
    rest: dict[str, Any] = {}
    if cookie.get("httpOnly"):
        rest["HttpOnly"] = None
    if cookie.get("sameSite"):
        rest["SameSite"] = cookie["sameSite"]
    expires = cookie.get("expires", -1)
    jar_cookie = create_cookie(
        cookie["name"], cookie["value"], domain=domain, path=cookie.get("path") or "/",
        secure=bool(cookie.get("secure")), rest=rest,
        expires=int(expires) if expires and expires > 0 else None,  # -1: a session cookie
    )
    # A leading dot is a Domain= cookie; without one it belongs to that host only.
    jar_cookie.domain_specified = jar_cookie.domain_initial_dot = domain.startswith(".")
    return jar_cookie


def to_browser(cookie: Cookie, login_url: str) -> dict[str, Any]:
    """A requests cookie as Playwright's `add_cookies` wants it."""
    rest = {key.lower(): value for key, value in cookie._rest.items()}  # type: ignore[attr-defined]
    out: dict[str, Any] = {"name": cookie.name, "value": cookie.value or "",
                           "secure": bool(cookie.secure), "httpOnly": "httponly" in rest}
    if cookie.domain.startswith("."):
        out.update(domain=cookie.domain, path=cookie.path or "/")
    else:  # a host-only cookie: a URL keeps it host-only in the browser too
        scheme = "https" if cookie.secure else urlsplit(login_url).scheme
        out["url"] = f"{scheme}://{cookie.domain}{cookie.path or '/'}"
    if cookie.expires:
        out["expires"] = float(cookie.expires)
    same_site = str(rest.get("samesite") or "").capitalize()
    if same_site in ("Strict", "Lax") or (same_site == "None" and cookie.secure):
        out["sameSite"] = same_site
    return out


# --- our Chromium processes ----------------------------------------------------------------------

def chromium_pids(profile: str = PROFILE_PREFIX, *, browsers_only: bool = False) -> list[int]:
    """Pids of live Chromium processes using `profile` (a path, or a dir-name prefix).

    Its zygote, renderer and utility children carry the profile too; `browsers_only` keeps the
    one main process per browser: no `--type=`, and a parent that is not itself such a process
    (a child freshly forked has not yet taken its `--type=`).
    """
    def matches(arg: str) -> bool:
        if not arg.startswith("--user-data-dir="):
            return False
        if os.path.isabs(profile):
            return arg == f"--user-data-dir={profile}"
        return f"/{profile}" in arg

    parents: dict[int, int] = {}
    children: set[int] = set()
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                # Chromium rewrites its children's argv into one space-separated string.
                args = f.read().decode(errors="replace").replace("\0", " ").split()
            if not any(matches(a) for a in args):
                continue
            if any(a.startswith("--type=") for a in args):
                children.add(int(entry.name))
            with open(f"/proc/{entry.name}/stat") as f:
                parents[int(entry.name)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
    if browsers_only:
        return [pid for pid, parent in parents.items()
                if pid not in children and parent not in parents]
    return list(parents)


def _wait_gone(profile: str, seconds: float = 2.0) -> None:
    """Return once this browser's processes have exited, so a freed slot means a gone browser.

    Playwright reports the browser closed when its pipe closes, a moment before the processes
    are gone.
    """
    deadline = time.monotonic() + seconds
    while chromium_pids(profile):
        if time.monotonic() >= deadline:
            kill_chromium(profile)
            return
        time.sleep(0.02)


def kill_chromium(profile: str) -> None:
    """SIGKILL the Chromium started with this exact profile dir; Playwright then sees it closed."""
    pids = chromium_pids(profile)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if pids:
        log.warning("killed a sign-in browser that would not close (%d processes)", len(pids))
