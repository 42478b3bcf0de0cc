"""The Retail Link client: the two-half SMS login, EDRs and store listings, with exportable state."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, create_cookie
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from bot.retail_link import protocol as p
from bot.retail_link.errors import (
    AccountLocked,
    BadCredentials,
    Blocked,
    CodeExpired,
    LoginRequired,
    NotFound,
    RateLimited,
    RetailLinkError,
    SessionExpired,
    Unavailable,
    UnexpectedResponse,
    WrongCode,
)
from bot.retail_link.models import (
    Edr,
    ListedEvent,
    ListingRow,
    ScheduleRow,
    group_browse_rows,
    group_schedule_rows,
)

log = logging.getLogger(__name__)

STATE_VERSION = 1
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHALLENGE_MARKERS = ("captcha", "perimeterx", "challenge")


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
    them with `export_state()` / `from_state()`.
    """

    def __init__(self, login_url: str, portal_url: str, *, concurrency: int = 6,
                 attempts: int = 3) -> None:
        self.login_url = login_url.rstrip("/")
        self.portal_url = portal_url.rstrip("/")
        self.stage = Stage.NEW
        self.username: str | None = None
        self._credid: str | None = None
        self._bearer: str | None = None
        self._session = self._build_session(max(1, concurrency), attempts)

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
        self.stage, self._bearer = Stage.NEW, None
        self.username, self._credid = username, str(credential_id)
        try:  # step 0 only collects cookies; the original treats it as best-effort
            self._get(self.login_url + p.LOGIN_PAGE, p.navigation_headers("none"),
                      p.TIMEOUT_LOGIN)
        except RetailLinkError as exc:
            log.info("login page not loaded (%s); continuing", type(exc).__name__)
        body = {"username": username, "password": password, "language": "en"}
        self._login_post(p.LOGIN_API, body, step="password", first_step=True)
        self._login_post(p.SEND_CODE_API, {"type": p.MFA_TYPE, "credid": self._credid},
                         step="send_code")
        self.stage = Stage.CODE_SENT
        log.info("Retail Link sign-in: code sent")

    def complete_login(self, code: str) -> None:
        """Steps 3-6: check the SMS code, open EMS, and take the bearer from `auth-token`."""
        if self.stage is not Stage.CODE_SENT or not self._credid:
            raise LoginRequired()
        # failureCount stays 0 on retries, as the original always sent (PROTOCOL.md §4).
        body = {"type": p.MFA_TYPE, "credid": self._credid, "code": str(code),
                "failureCount": 0}
        self._login_post(p.VALIDATE_CODE_API, body, step="validate_code")
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
        }
        return json.dumps(state, separators=(",", ":")).encode()

    @classmethod
    def from_state(cls, data: bytes, login_url: str, portal_url: str, **kwargs: Any) -> RetailLinkClient:
        """Rebuild a client from `export_state()` output, possibly in another process."""
        try:
            state = json.loads(data)
            if state.get("v") != STATE_VERSION:
                raise ValueError("state version")
            client = cls(login_url, portal_url, **kwargs)
            client.stage = Stage(state["stage"])
            client.username, client._credid = state.get("username"), state.get("credid")
            client._bearer = state.get("bearer")
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
        except requests.exceptions.RetryError as exc:  # Retry-After beyond our limit
            raise RateLimited(_retry_after_of(exc)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("%s /%s failed: %s", method, path, type(exc).__name__)
            raise Unavailable() from None
        log.debug("%s /%s -> %s in %.0f ms", method, path, response.status_code,
                  (time.perf_counter() - started) * 1000)
        return response

    def _get(self, url: str, headers: dict[str, str], timeout: tuple[float, float]) -> requests.Response:
        return self._send("GET", url, headers, timeout)

    def _login_post(self, path: str, body: dict[str, Any], *, step: str,
                    first_step: bool = False) -> None:
        headers = p.login_api_headers(self.login_url, first_step=first_step)
        response = self._send("POST", self.login_url + path, headers, p.TIMEOUT_LOGIN, body)
        self._check(response, step=step)

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

    def _check(self, response: requests.Response, *, step: str) -> None:
        """Turn Walmart's answer into a typed error; returns quietly on success."""
        status = response.status_code
        content_type = response.headers.get("content-type", "").lower()
        is_html = "text/html" in content_type
        if status == 412:
            raise Blocked("HTTP 412 — scripted sign-ins refused")
        if status == 403:
            raise Blocked("HTTP 403")
        if status == 429:
            raise RateLimited(_parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            raise Unavailable(f"Retail Link answered HTTP {status} after retries.")
        if is_html:
            if response.url.split("?")[0].endswith(p.LOGIN_PAGE) or any(
                r.is_redirect for r in response.history
            ):
                raise SessionExpired()  # sent back to the login page
            text = response.text[:20000].lower()
            if any(marker in text for marker in CHALLENGE_MARKERS):
                raise Blocked("challenge page")
            raise Blocked("HTML page where JSON was expected")
        if 200 <= status < 300:
            return
        error_code = _error_code(response)
        if status == 423 or error_code == "ACCOUNT_LOCKED":
            raise AccountLocked()
        if step == "password":
            raise BadCredentials()
        if step == "send_code":
            if status in (401, 440) or error_code == "LOGIN_REQUIRED":
                raise LoginRequired()
            raise BadCredentials("Retail Link did not accept the MFA credential id.")
        if step == "validate_code":
            if error_code == "CODE_EXPIRED":
                raise CodeExpired()
            if error_code == "LOGIN_REQUIRED":
                raise LoginRequired()
            raise WrongCode(_attempts_left(response))
        if status in (401, 440):
            raise SessionExpired()
        if status == 404:
            # browse-data's 404 meant an expired session to the original (PROTOCOL.md §6).
            if step == "listing":
                raise SessionExpired()
            raise NotFound()
        raise UnexpectedResponse(f"Retail Link answered HTTP {status}.")


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("errorCode") if isinstance(body, dict) else None
    return str(code) if code else None


def _attempts_left(response: requests.Response) -> int | None:
    try:
        left = response.json().get("attemptsRemaining")
    except (ValueError, AttributeError):
        return None
    return left if isinstance(left, int) else None


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; rare enough to report without a figure


def _retry_after_of(exc: requests.exceptions.RetryError) -> float | None:
    reason = exc.args[0] if exc.args else None
    response = getattr(reason, "response", None) if isinstance(reason, MaxRetryError) else None
    return _parse_retry_after(response.headers.get("Retry-After")) if response else None

