"""The Retail Link client: the two-half SMS login, EDRs and store listings, with exportable state."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, create_cookie
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from bot.retail_link import browser
from bot.retail_link import protocol as p
from bot.retail_link.answers import Answer, raise_for_answer
from bot.retail_link.browser import BrowserOptions, LoginStep
from bot.retail_link.errors import (
    Blocked,
    LoginRequired,
    RetailLinkError,
    SessionExpired,
    Unavailable,
    UnexpectedResponse,
)
from bot.retail_link.models import (
    Edr,
    ListedEvent,
    ListingRow,
    ScheduleRow,
    group_browse_rows,
    group_schedule_rows,
)

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

STATE_VERSION = 1
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LOGIN_MODES = ("direct", "browser", "auto")
LoginMode = Literal["direct", "browser", "auto"]

# Set once an `auto` client met the login host's bot defence: later sign-ins in this process go
# straight to the browser instead of earning another 412 first.
BROWSER_NEEDED = threading.Event()


class Stage(StrEnum):
    NEW = "new"
    CODE_SENT = "code_sent"
    SIGNED_IN = "signed_in"


class _Retry(Retry):
    """urllib3 Retry that gives up at once when the server asks us to wait too long.

    Sleeping through a long Retry-After would hold a worker (and a Slack user) hostage;
    the caller gets RateLimited with the server's figure instead.
    """

    MAX_RETRY_AFTER = 30.0

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):  # type: ignore[no-untyped-def]
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.MAX_RETRY_AFTER:
                raise MaxRetryError(_pool, url, "Retry-After beyond limit")  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


def _retry(methods: frozenset[str], attempts: int) -> Retry:
    return _Retry(
        total=attempts, connect=attempts, read=attempts, status=attempts,
        backoff_factor=0.25, backoff_max=4.0, status_forcelist=RETRY_STATUSES,
        allowed_methods=methods, respect_retry_after_header=True,
        raise_on_status=False,  # the last answer comes back and is turned into a typed error
        raise_on_redirect=False,
    )


class _LockedJar(RequestsCookieJar):
    """A cookie jar safe to iterate while other threads store cookies.

    Concurrent EDR fetches share one jar, and every EMS answer re-sets a cookie (PROTOCOL.md §2.2);
    http.cookiejar locks writes but not iteration.
    """

    def __iter__(self) -> Iterator[Any]:
        with self._cookies_lock:
            return iter(list(super().__iter__()))


class RetailLinkClient:
    """One person's Retail Link session: a cookie jar, a bearer token and how far login got.

    `start_login` and `complete_login` may run in different processes: carry the state between
    them with `export_state()` / `from_state()`. `login_mode` says who sends the login host's
    POSTs (steps 1-3): "direct" (this client), "browser" (headless Chromium, for when Walmart
    answers scripted logins with 412) or "auto" (direct until the login host blocks it).
    Everything after step 3 is plain HTTP in every mode.
    """

    def __init__(self, login_url: str, portal_url: str, *, concurrency: int = 6,
                 attempts: int = 3, login_mode: LoginMode = "direct",
                 browser_options: BrowserOptions | None = None) -> None:
        if login_mode not in LOGIN_MODES:
            raise ValueError(f"login_mode must be one of {LOGIN_MODES}, not {login_mode!r}")
        self.login_url = login_url.rstrip("/")
        self.portal_url = portal_url.rstrip("/")
        self.login_mode = login_mode
        self.browser_options = browser_options or BrowserOptions()
        if login_mode == "browser":  # say so now, not when the first user tries to sign in
            browser.check_available(self.browser_options)
        self.stage = Stage.NEW
        self.username: str | None = None
        self._credid: str | None = None
        self._bearer: str | None = None
        self._via_browser = False  # whether this sign-in's first half ran in the browser
        self._session = self._build_session(max(1, concurrency), attempts)

    @classmethod
    def from_settings(cls, settings: Settings, state: bytes | None = None) -> RetailLinkClient:
        """A client as the settings describe it; continued from `export_state()` output if given."""
        options: dict[str, Any] = {
            "concurrency": settings.EDR_CONCURRENCY,
            "login_mode": settings.RETAIL_LINK_LOGIN_MODE,
            "browser_options": BrowserOptions(
                chromium_path=settings.CHROMIUM_PATH,
                timeout_seconds=float(settings.BROWSER_LOGIN_TIMEOUT_SECONDS),
                max_sessions=settings.BROWSER_MAX_SESSIONS,
            ),
        }
        if state is not None:
            return cls.from_state(state, settings.RETAIL_LINK_LOGIN_URL, settings.RETAIL_LINK_URL,
                                  **options)
        return cls(settings.RETAIL_LINK_LOGIN_URL, settings.RETAIL_LINK_URL, **options)

    def _build_session(self, concurrency: int, attempts: int) -> requests.Session:
        session = requests.Session()
        session.cookies = _LockedJar()
        session.headers.clear()
        session.headers.update({**p.BASE_HEADERS, "accept-encoding": "gzip, deflate"})
        # Login POSTs are never retried: a second sendCode texts a second code and a second
        # validateCode burns an attempt. GETs, and the two read-only EMS searches, are.
        safe = HTTPAdapter(pool_connections=2, pool_maxsize=concurrency,
                           max_retries=_retry(frozenset({"GET"}), attempts))
        search = HTTPAdapter(pool_connections=2, pool_maxsize=concurrency,
                             max_retries=_retry(frozenset({"GET", "POST"}), attempts))
        for base in {self.login_url, self.portal_url}:
            session.mount(base + "/", safe)
        for path in (p.BROWSE_DATA_API, p.DAILY_SCHEDULE_API):
            session.mount(self.portal_url + path, search)
        return session

    def __repr__(self) -> str:  # never show cookies or the bearer
        return f"<RetailLinkClient {self.portal_url} stage={self.stage.value}>"

    # --- login -------------------------------------------------------------------------------

    def start_login(self, username: str, password: str, credential_id: str) -> None:
        """Steps 0-2: load the login page, send the password, ask Walmart to text a code."""
        self._session.cookies.clear()
        self.stage, self._bearer, self._via_browser = Stage.NEW, None, False
        self.username, self._credid = username, str(credential_id)
        steps = [
            LoginStep(p.LOGIN_API, {"username": username, "password": password, "language": "en"},
                      "password"),
            LoginStep(p.SEND_CODE_API, {"type": p.MFA_TYPE, "credid": self._credid}, "send_code"),
        ]
        if self._browser_first():
            self._browser_steps(steps)
        else:
            try:
                self._direct_start(steps)
            except Blocked as exc:
                if self.login_mode != "auto":
                    raise
                self._remember_browser_needed(exc)
                self._session.cookies.clear()
                self._browser_steps(steps)
        self.stage = Stage.CODE_SENT
        log.info("Retail Link sign-in: code sent%s", " (browser)" if self._via_browser else "")

    def complete_login(self, code: str) -> None:
        """Steps 3-6: check the SMS code, open EMS, and take the bearer from `auth-token`."""
        if self.stage is not Stage.CODE_SENT or not self._credid:
            raise LoginRequired()
        # failureCount stays 0 on retries, as the original always sent (PROTOCOL.md §4).
        body = {"type": p.MFA_TYPE, "credid": self._credid, "code": str(code),
                "failureCount": 0}
        validate = LoginStep(p.VALIDATE_CODE_API, body, "validate_code")
        if self._via_browser or self._browser_first():
            # The page is reopened with the cookies the first half's page held (from the
            # exported state), so its scripts run again before the code goes out.
            self._browser_steps([validate])
        else:
            try:
                self._direct_step(validate)
            except Blocked as exc:  # a 412 is answered before the code is checked
                if self.login_mode != "auto":
                    raise
                self._remember_browser_needed(exc)
                self._browser_steps([validate])
        for path, headers in (
            (p.PAGE_VISIT_API, p.ems_headers(self.portal_url, p.REFERER_EMS)),
            (p.PORTAL_PAGE, p.navigation_headers("same-site")),
            (p.EMS_PAGE, p.navigation_headers("same-site")),
        ):
            try:  # steps 4-5 imitate opening EMS from the portal; nothing shows they matter
                self._get(self.portal_url + path, headers, p.TIMEOUT_PORTAL)
            except RetailLinkError as exc:
                log.info("portal step %s skipped (%s)", path.split("?")[0], type(exc).__name__)
        response = self._get(self.portal_url + p.AUTHENTICATE_API,
                             p.ems_headers(self.portal_url, p.REFERER_EMS), p.TIMEOUT_PORTAL)
        self._check(response, step="authenticate")
        bearer = self._bearer_from_cookie() or self._bearer_from_body(response)
        if not bearer:
            names = sorted({c.name for c in self._session.cookies})
            log.warning("authenticate gave no auth-token; cookies present: %s", names)
            raise UnexpectedResponse("Retail Link signed in but gave no EMS token.")
        self._bearer = bearer
        self.stage = Stage.SIGNED_IN
        log.info("Retail Link sign-in complete")

    def _browser_first(self) -> bool:
        return self.login_mode == "browser" or (self.login_mode == "auto" and BROWSER_NEEDED.is_set())

    def _remember_browser_needed(self, exc: Blocked) -> None:
        if not BROWSER_NEEDED.is_set():
            log.warning("Retail Link refused a scripted sign-in (%s); signing in through the "
                        "browser from now on", exc.reason)
        BROWSER_NEEDED.set()

    def _direct_start(self, steps: list[LoginStep]) -> None:
        try:  # step 0 only collects cookies; the original treats it as best-effort
            self._get(self.login_url + p.LOGIN_PAGE, p.navigation_headers("none"),
                      p.TIMEOUT_LOGIN)
        except RetailLinkError as exc:
            log.info("login page not loaded (%s); continuing", type(exc).__name__)
        for i, step in enumerate(steps):
            self._direct_step(step, first_step=i == 0)

    def _direct_step(self, step: LoginStep, *, first_step: bool = False) -> None:
        headers = p.login_api_headers(self.login_url, first_step=first_step)
        response = self._send("POST", self.login_url + step.path, headers, p.TIMEOUT_LOGIN,
                              step.body)
        self._check(response, step=step.step)

    def _browser_steps(self, steps: list[LoginStep]) -> None:
        """Run login steps in Chromium and take its cookies into the jar for the HTTP steps."""
        cookies = browser.run_login_steps(self.login_url, self.browser_options,
                                          list(self._session.cookies), steps)
        for cookie in cookies:
            self._session.cookies.set_cookie(cookie)
        self._via_browser = True

    @property
    def signed_in(self) -> bool:
        return self.stage is Stage.SIGNED_IN and bool(self._bearer)

    @property
    def user_id(self) -> str | None:
        """The Walmart user id from the `emsUser` cookie (PROTOCOL.md §2.2)."""
        raw = self._cookie(p.USER_COOKIE)
        try:
            return json.loads(unquote(raw))["userId"] if raw else None
        except (ValueError, KeyError, TypeError):
            return None

    # --- data ----------------------------------------------------------------------------------

    def edr_report(self, event_id: int) -> Edr:
        """`GET api/edrReport?id=` — one event's Event Detail Report."""
        response = self._ems("GET", f"{p.EDR_REPORT_API}?id={int(event_id)}", p.REFERER_BROWSE)
        payload = self._json(response, step="edr")
        if not isinstance(payload, dict) or "demoId" not in payload:
            raise UnexpectedResponse(f"Retail Link sent no report for event {event_id}.")
        try:
            return Edr.parse(payload)
        except ValueError as exc:
            raise UnexpectedResponse(f"Event {event_id}'s report has an unknown shape.") from exc

    def browse_events(self, store: int, start: date, end: date | None = None) -> list[ListedEvent]:
        """A store's events in a date range from browse-data (item rows folded into events)."""
        body = {
            "itemNbr": None, "vendorNbr": None,
            "startDate": start.isoformat(), "endDate": (end or start).isoformat(),
            "billType": None, "eventType": list(p.ALL_EVENT_TYPES), "userId": None,
            "primItem": None, "storeNbr": str(store),  # a string here, unlike clubList (§5.2)
            "deptNbr": None,
        }
        response = self._ems("POST", p.BROWSE_DATA_API, p.REFERER_BROWSE, body)
        rows = self._rows(self._json(response, step="listing"))
        try:
            return group_browse_rows(ListingRow.model_validate(row) for row in rows)
        except ValueError as exc:
            raise UnexpectedResponse("Retail Link's event listing has an unknown shape.") from exc

    def daily_schedule(self, store: int, start: date, end: date | None = None) -> list[ListedEvent]:
        """The alternative listing, daily-schedule-report; its answer's shape is assumed (§5.3)."""
        body = {
            "startDate": start.isoformat(), "endDate": (end or start).isoformat(),
            "eventType": list(p.ALL_EVENT_TYPES), "clubList": [int(store)],
            "walmartWeekYear": "",
        }
        response = self._ems("POST", p.DAILY_SCHEDULE_API, p.REFERER_DAILY, body,
                             timeout=p.TIMEOUT_DAILY)
        rows = self._rows(self._json(response, step="listing"))
        try:
            return group_schedule_rows(ScheduleRow.parse(row) for row in rows)
        except (KeyError, ValueError) as exc:
            raise UnexpectedResponse("Retail Link's schedule report has an unknown shape.") from exc

    # --- state -----------------------------------------------------------------------------------

    def export_state(self) -> bytes:
        """Everything needed to continue elsewhere. Holds secrets: encrypt before storing."""
        cookies = [
            {
                "name": c.name, "value": c.value, "domain": c.domain, "path": c.path,
                "secure": c.secure, "expires": c.expires, "rest": dict(c._rest),
                "domain_specified": c.domain_specified,
                "domain_initial_dot": c.domain_initial_dot,
            }
            for c in self._session.cookies
        ]
        state = {
            "v": STATE_VERSION, "stage": self.stage.value, "username": self.username,
            "credid": self._credid, "bearer": self._bearer, "cookies": cookies,
            "browser": self._via_browser,
        }
        return json.dumps(state, separators=(",", ":")).encode()

    @classmethod
    def from_state(cls, data: bytes, login_url: str, portal_url: str, **kwargs: Any) -> RetailLinkClient:
        """Rebuild a client from `export_state()` output, possibly in another process."""
        client = cls(login_url, portal_url, **kwargs)  # outside the try: its errors are its own
        try:
            state = json.loads(data)
            if state.get("v") != STATE_VERSION:
                raise ValueError("state version")
            client.stage = Stage(state["stage"])
            client.username, client._credid = state.get("username"), state.get("credid")
            client._bearer = state.get("bearer")
            client._via_browser = bool(state.get("browser", False))
            for c in state["cookies"]:
                cookie = create_cookie(
                    c["name"], c["value"], domain=c["domain"], path=c["path"],
                    secure=c["secure"], expires=c["expires"], rest=c["rest"],
                )
                cookie.domain_specified = c["domain_specified"]
                cookie.domain_initial_dot = c["domain_initial_dot"]
                client._session.cookies.set_cookie(cookie)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a Retail Link client state") from exc
        return client

    def close(self) -> None:
        self._session.close()

    # --- plumbing --------------------------------------------------------------------------------

    def _cookie(self, name: str) -> str | None:
        return next((c.value for c in self._session.cookies if c.name == name), None)

    def _bearer_from_cookie(self) -> str | None:
        raw = self._cookie(p.AUTH_COOKIE)
        try:  # percent-encoded JSON text whose `token` is the bearer (PROTOCOL.md §2.3)
            token = json.loads(unquote(raw))["token"] if raw else None
        except (ValueError, KeyError, TypeError):
            return None
        return token if isinstance(token, str) and token else None

    @staticmethod
    def _bearer_from_body(response: requests.Response) -> str | None:
        try:  # one variant of the original looked here when the cookie was missing
            token = response.json().get("token")
        except (ValueError, AttributeError):
            return None
        return token if isinstance(token, str) and token else None

    def _send(self, method: str, url: str, headers: dict[str, str],
              timeout: tuple[float, float], body: Any = None) -> requests.Response:
        started = time.perf_counter()
        path = url.split("//", 1)[-1].split("/", 1)[-1].split("?")[0]
        try:
            response = self._session.request(method, url, headers=headers, json=body,
                                              timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("%s /%s failed: %s", method, path, type(exc).__name__)
            raise Unavailable() from None
        log.debug("%s /%s -> %s in %.0f ms", method, path, response.status_code,
                  (time.perf_counter() - started) * 1000)
        return response

    def _get(self, url: str, headers: dict[str, str], timeout: tuple[float, float]) -> requests.Response:
        return self._send("GET", url, headers, timeout)

    def _ems(self, method: str, path: str, referer: str, body: Any = None,
             timeout: tuple[float, float] = p.TIMEOUT_DATA) -> requests.Response:
        if not self.signed_in:
            raise SessionExpired("Not signed in to Retail Link.")
        headers = p.ems_headers(self.portal_url, referer, post=method == "POST")
        # The browser sends the bearer header and the auth-token cookie; which one the server
        # needs is unknown (PROTOCOL.md §2.3), so both go.
        headers["authorization"] = f"Bearer {self._bearer}"
        return self._send(method, self.portal_url + path, headers, timeout, body)

    def _json(self, response: requests.Response, *, step: str) -> Any:
        self._check(response, step=step)
        try:
            return response.json()
        except ValueError:
            # A non-JSON EMS body meant "session gone" to the original (PROTOCOL.md §6).
            raise SessionExpired() from None

    @staticmethod
    def _rows(payload: Any) -> list[dict[str, Any]]:
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            payload = payload["data"]  # accepted defensively by the original, never observed
        if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
            raise UnexpectedResponse("Retail Link's event listing is not a list of rows.")
        return payload

    @staticmethod
    def _check(response: requests.Response, *, step: str) -> None:
        """Turn Walmart's answer into a typed error; returns quietly on success."""
        raise_for_answer(Answer(
            status=response.status_code, content_type=response.headers.get("content-type", ""),
            url=response.url, read_text=lambda: response.text,
            redirected=any(r.is_redirect for r in response.history),
            retry_after=response.headers.get("Retry-After"),
        ), step=step)


