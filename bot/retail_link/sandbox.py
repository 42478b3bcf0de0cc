"""A local HTTP server that imitates Retail Link's login and EMS protocol (PROTOCOL.md)."""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from bot.local_http import Background
from bot.retail_link.sandbox_data import BadQuery, Json, SandboxData, is_int
from bot.retail_link.sandbox_defence import GUARDED_PATHS, PX_BLOCK_PAGE, SENSOR_COOKIE, SensorCheck
from bot.retail_link.sandbox_faults import BLOCK_KINDS, Fault, Faults
from bot.retail_link.sandbox_http import (
    Request,
    Response,
    SandboxHTTPServer,
    reply_html,
    reply_json,
    set_cookie,
)


@dataclass(frozen=True)
class SandboxAccount:
    username: str
    password: str
    credid: str
    user_id: str
    full_name: str


DEFAULT_ACCOUNT = SandboxAccount(
    "sandbox.user@example.com", "sandbox-pass", "5550001234", "vnsbx01", "SANDBOX, USER")


@dataclass(frozen=True)
class SeenRequest:
    """One request as the sandbox received it, for tests asserting the client's protocol."""

    method: str
    path: str  # as sent, without the query string (double slashes kept)
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed body, None when absent or not JSON


# Login flow stages (PROTOCOL.md §4), tracked per browser by the RLSESSION cookie.
_PASSWORD_OK, _CODE_SENT, _MFA_OK = 1, 2, 3
_AUTHENTICATE = "/EventManagement/api/authenticate"
_DATA_PREFIX = "/EventManagement/api/"
_EMS_PAGES = ("", "browse-event", "create-event", "club-details", "event-detail-report",
              "daily-scheduled-report")
_LOGIN_PAGE = """<!DOCTYPE html><html><head><title>Retail Link Login (sandbox)</title></head>
<body><form id="login"><input name="username"><input name="password" type="password">
<button>Sign in</button></form></body></html>"""


@dataclass
class _Flow:
    username: str
    stage: int
    code: str | None = None
    code_expires: float = 0.0


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _fake_jwt(payload: Json, header: Json | None = None) -> str:
    parts = [header or {"alg": "HS256"}, payload]
    encoded = [_b64url(json.dumps(p, separators=(",", ":")).encode()) for p in parts]
    return ".".join([*encoded, _b64url(secrets.token_bytes(32))])


def _cookie_json(payload: Json) -> str:
    # Exactly like fixtures/misc/auth-token.cookie.txt: compact JSON, every reserved char quoted.
    return urllib.parse.quote(json.dumps(payload, separators=(",", ":")), safe="")


def _json_body(request: Request) -> Json:
    if "application/json" not in request.headers.get("content-type", ""):
        raise BadQuery("content-type must be application/json")
    if not isinstance(request.json, dict):
        raise BadQuery("body must be a JSON object")
    return request.json


class SandboxServer:
    """Retail Link login host and portal/EMS host in one local HTTP server."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        accounts: Sequence[SandboxAccount] = (DEFAULT_ACCOUNT,),
        max_code_attempts: int = 3,
        code_ttl_seconds: float = 300,
        token_ttl_seconds: int = 28800,
        latency_seconds: float = 0.0,
        echo_codes: bool = True,
        clock: Callable[[], float] = time.time,
        log_requests: bool = False,
        require_browser: bool = False,
    ) -> None:
        self._host, self._port = host, port
        self._accounts = {account.username: account for account in accounts}
        self._max_code_attempts = max_code_attempts
        self._code_ttl = code_ttl_seconds
        self._token_ttl = token_ttl_seconds
        self.latency_seconds = latency_seconds
        self._echo_codes = echo_codes
        self._clock = clock
        self._log_requests = log_requests
        # Imitates Walmart's bot defence: login APIs answer 412 unless the login page's
        # JavaScript ran (PROTOCOL.md §6).
        self.require_browser = require_browser
        self._sensor = SensorCheck()
        self._data = SandboxData()
        self._lock = threading.RLock()
        self._flows: dict[str, _Flow] = {}
        self._tokens: dict[str, float] = {}  # bearer -> expiry (clock seconds)
        self._expire_countdown: int | None = None
        self._locked: set[str] = set()
        self._code_failures: dict[str, int] = {}
        self._last_codes: dict[str, str] = {}
        self._faults = Faults()
        self._in_flight = 0
        self.max_in_flight = 0
        self.requests_seen: list[SeenRequest] = []
        self._running: Background | None = None
        self._routes: dict[str, dict[str, Callable[[Request], Response]]] = {
            "/login": {"GET": self._login_page},
            "/api/login": {"POST": self._login},
            "/api/mfa/sendCode": {"POST": self._send_code},
            "/api/mfa/validateCode": {"POST": self._validate_code},
            "/rl_portal_services/api/Site/InsertRlPageDetails": {"GET": self._page_details},
            "/rl_portal/": {"GET": self._portal_page},
            "/rl_portal": {"GET": self._portal_page},
            "/EventManagement": {"GET": self._portal_page},
            _AUTHENTICATE: {"GET": self._authenticate},
            "/EventManagement/api/edrReport": {"GET": self._edr_report},
            "/EventManagement/api/browse-event/browse-data": {"POST": self._browse_data},
            "/EventManagement/api/store-event/daily-schedule-report": {"POST": self._schedule},
            "/__sandbox__/last-code": {"GET": self._control_last_code},
            "/__sandbox__/faults": {"POST": self._control_faults},
        }
        for page in _EMS_PAGES:
            self._routes[f"/EventManagement/{page}"] = {"GET": self._portal_page}

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._running is None:
            raise RuntimeError("sandbox not started")
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._running.port}"

    def start(self) -> SandboxServer:
        server = SandboxHTTPServer((self._host, self._port), self._handle,
                                   log_requests=self._log_requests)
        self._running = Background(server, "retail-link-sandbox")
        return self

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- test controls ------------------------------------------------------------------------

    def last_code(self, username: str = DEFAULT_ACCOUNT.username) -> str | None:
        """The SMS code last "sent" to `username`, or None."""
        with self._lock:
            return self._last_codes.get(username)

    def fail_next(self, n: int, status: int = 503, path_prefix: str | None = None) -> None:
        self._faults.add(Fault("fail", n, path_prefix, status=status))

    def rate_limit_next(self, n: int, retry_after: int = 1, path_prefix: str | None = None) -> None:
        self._faults.add(Fault("rate_limit", n, path_prefix, status=429, retry_after=retry_after))

    def delay_next(self, n: int, seconds: float, path_prefix: str | None = None) -> None:
        """Hold the next `n` matching requests for `seconds`, then answer them normally."""
        self._faults.add(Fault("delay", n, path_prefix, delay_seconds=seconds))

    def block_next(self, n: int, kind: str = "403", path_prefix: str | None = None) -> None:
        if kind not in BLOCK_KINDS:
            raise ValueError(f"kind must be one of {BLOCK_KINDS}")
        self._faults.add(Fault("block", n, path_prefix, block_kind=kind))

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def expire_tokens_after(self, n: int) -> None:
        """Let `n` more authorised data calls through, then every issued bearer is dead."""
        with self._lock:
            if n <= 0:
                self._tokens.clear()
            self._expire_countdown = n if n > 0 else None

    def lock_account(self, username: str) -> None:
        with self._lock:
            self._locked.add(username)

    def add_generated_day(self, store: int, date: str, n_events: int) -> list[int]:
        """Make (store, date) list `n_events` synthetic events; returns their event ids."""
        return self._data.add_generated_day(store, date, n_events)

    def reset_stats(self) -> None:
        with self._lock:
            self.requests_seen.clear()
            self.max_in_flight = 0

    # --- dispatch -----------------------------------------------------------------------------

    def _handle(self, request: Request, raw_path: str) -> Response:
        if request.path.startswith("/__sandbox__/"):
            return self._route(request)
        with self._lock:
            self.requests_seen.append(SeenRequest(
                request.method, raw_path, request.query, request.headers, request.json))
        is_data = request.path.startswith(_DATA_PREFIX) and request.path != _AUTHENTICATE
        if is_data:
            response = self._data_call(request)
        else:
            response = (self._faults.take(request.path, is_data=False)
                        or self._defend(request) or self._route(request))
        if request.path.startswith("/EventManagement"):
            # EMS re-sets this edge cookie on every response (PROTOCOL.md §2.2).
            response.cookies.append(set_cookie("TS04fe286f027", secrets.token_hex(16)))
            response.headers.append(("x-envoy-upstream-service-time", "12"))
        return response

    def _data_call(self, request: Request) -> Response:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.latency_seconds > 0:
                time.sleep(self.latency_seconds)
            fault = self._faults.take(request.path, is_data=True)
            if fault is not None:
                return fault
            if not self._bearer_ok(request):
                return reply_json(401, {"errorCode": "UNAUTHORIZED", "message": "Session expired"})
            return self._route(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _route(self, request: Request) -> Response:
        methods = self._routes.get(request.path)
        if methods is None:
            return reply_json(404, {"errorCode": "NOT_FOUND", "message": "No such endpoint"})
        handler = methods.get(request.method)
        if handler is None:
            response = reply_json(405, {"errorCode": "METHOD_NOT_ALLOWED", "message": request.method})
            response.headers.append(("Allow", ", ".join(methods)))
            return response
        try:
            return handler(request)
        except BadQuery as exc:
            return reply_json(400, {"errorCode": "BAD_REQUEST", "message": str(exc)})

    def _bearer_ok(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip())
            if scheme.lower() != "bearer" or expires is None or expires <= self._clock():
                return False
            if self._expire_countdown is not None:
                self._expire_countdown -= 1
                if self._expire_countdown == 0:  # this call is the last one the tokens serve
                    self._tokens.clear()
                    self._expire_countdown = None
            return True

    # --- login host (PROTOCOL.md §4) ----------------------------------------------------------

    def _defend(self, request: Request) -> Response | None:
        if not self.require_browser or request.path not in GUARDED_PATHS:
            return None
        if self._sensor.accepts(request.cookies.get(SENSOR_COOKIE)):
            return None
        return reply_html(412, PX_BLOCK_PAGE)

    def _login_page(self, request: Request) -> Response:
        page = _LOGIN_PAGE
        if self.require_browser:
            page = page.replace("</body>", self._sensor.script() + "</body>")
        return reply_html(200, page, [
            set_cookie("rl_access_attempt", "0"), set_cookie("rl_show_login_form", "N"),
            set_cookie("TS01b1e5a6", secrets.token_hex(24))])

    def _flow(self, request: Request) -> _Flow | None:
        return self._flows.get(request.cookies.get("RLSESSION", ""))

    def _login(self, request: Request) -> Response:
        body = _json_body(request)
        fields = ("username", "password", "language")
        if not all(isinstance(body.get(name), str) for name in fields):
            raise BadQuery("username, password and language are required strings")
        account = self._accounts.get(body["username"])
        if account is None or not secrets.compare_digest(
                account.password.encode(), body["password"].encode()):
            return reply_json(401, {"errorCode": "INVALID_CREDENTIALS",
                               "message": "Invalid username or password"})
        with self._lock:
            if account.username in self._locked:
                return reply_json(423, {"errorCode": "ACCOUNT_LOCKED",
                                   "message": "Account locked; contact your administrator"})
            session = secrets.token_urlsafe(24)
            self._flows[session] = _Flow(account.username, _PASSWORD_OK)
        return reply_json(200, {"status": "OK"}, [
            set_cookie("RLSESSION", session),
            set_cookie("_auth", _b64url(secrets.token_bytes(48)))])

    def _send_code(self, request: Request) -> Response:
        body = _json_body(request)
        with self._lock:
            flow = self._flow(request)
            if flow is None or flow.stage < _PASSWORD_OK:
                return reply_json(401, {"errorCode": "LOGIN_REQUIRED", "message": "Log in first"})
            account = self._accounts[flow.username]
            if body.get("type") != "SMS_OTP" or body.get("credid") != account.credid:
                return reply_json(400, {"errorCode": "INVALID_CREDENTIAL_ID",
                                   "message": "Unknown MFA credential"})
            if account.username in self._locked:
                return reply_json(423, {"errorCode": "ACCOUNT_LOCKED", "message": "Account locked"})
            code = f"{secrets.randbelow(1_000_000):06d}"
            flow.code, flow.code_expires = code, self._clock() + self._code_ttl
            flow.stage = _CODE_SENT
            self._last_codes[account.username] = code
        if self._echo_codes:
            print(f"[sandbox] SMS code for {account.username}: {code}", file=sys.stderr, flush=True)
        return reply_json(200, {"status": "SENT"})

    def _validate_code(self, request: Request) -> Response:
        body = _json_body(request)
        with self._lock:
            flow = self._flow(request)
            if flow is None or flow.stage < _CODE_SENT or flow.code is None:
                return reply_json(401, {"errorCode": "LOGIN_REQUIRED", "message": "Send a code first"})
            account = self._accounts[flow.username]
            if body.get("type") != "SMS_OTP" or body.get("credid") != account.credid:
                return reply_json(400, {"errorCode": "INVALID_CREDENTIAL_ID",
                                   "message": "Unknown MFA credential"})
            if not isinstance(body.get("code"), str) or not is_int(body.get("failureCount")):
                raise BadQuery("code (string) and failureCount (integer) are required")
            if account.username in self._locked:
                return reply_json(423, {"errorCode": "ACCOUNT_LOCKED", "message": "Account locked"})
            if self._clock() > flow.code_expires:
                return reply_json(401, {"errorCode": "CODE_EXPIRED", "message": "Code expired"})
            if not secrets.compare_digest(flow.code.encode(), body["code"].encode()):
                # Counted per account, so logging in again does not reset the allowance.
                failures = self._code_failures.get(account.username, 0) + 1
                self._code_failures[account.username] = failures
                if failures >= self._max_code_attempts:
                    self._locked.add(account.username)
                    return reply_json(423, {"errorCode": "ACCOUNT_LOCKED",
                                       "message": "Too many invalid codes"})
                return reply_json(401, {"errorCode": "INVALID_CODE", "message": "Invalid code",
                                   "attemptsRemaining": self._max_code_attempts - failures})
            self._code_failures.pop(account.username, None)
            flow.code, flow.stage = None, _MFA_OK
            now = int(self._clock())
        mfa = _fake_jwt({"sub": account.username, "iat": now, "exp": now + 600},
                        {"alg": "HS256", "typ": "JWT"})
        return reply_json(200, {"status": "OK"}, [set_cookie("mfaToken", mfa)])

    # --- portal host --------------------------------------------------------------------------

    def _page_details(self, request: Request) -> Response:
        return reply_json(200, {}, [set_cookie("rlws", secrets.token_hex(16)),
                               set_cookie("rlprofile", secrets.token_hex(16))])

    def _portal_page(self, request: Request) -> Response:
        title = "Event Management System" if "Event" in request.path else "Retail Link"
        return reply_html(200, f"<!DOCTYPE html><html><head><title>{title}</title></head>"
                          f"<body><div id=\"root\">{title} (sandbox)</div></body></html>")

    def _authenticate(self, request: Request) -> Response:
        with self._lock:
            flow = self._flow(request)
            if flow is None or flow.stage < _MFA_OK:
                return reply_json(401, {"errorCode": "UNAUTHORIZED", "message": "Not logged in"})
            account = self._accounts[flow.username]
            issued = int(self._clock())
            start = datetime.fromtimestamp(issued, UTC)
            end = start + timedelta(seconds=self._token_ttl)
            span = {"startTime": f"{start:%Y-%m-%d %H:%M:%S}", "endTime": f"{end:%Y-%m-%d %H:%M:%S}",
                    "expiresIn": self._token_ttl // 60}
            user_data = {"fullName": account.full_name, "roles": ["USER"], **span,
                         "userId": account.user_id, "accessCode": "SANDBOX", "vendors": [],
                         "retailRoles": []}
            token = _fake_jwt({"userData": user_data, "iat": issued,
                               "exp": issued + self._token_ttl})
            self._tokens[token] = issued + self._token_ttl
        ems_user = {"userId": account.user_id, "fullName": account.full_name, "roles": ["USER"],
                    "retailRoles": []}
        return reply_json(200, {"status": "OK"}, [
            set_cookie("auth-token", _cookie_json({"token": token, **span})),
            set_cookie("emsUser", _cookie_json(ems_user))])

    # --- EMS data (PROTOCOL.md §5) ------------------------------------------------------------

    def _edr_report(self, request: Request) -> Response:
        event_id = request.query.get("id", "")
        if not re.fullmatch(r"[0-9]{1,9}", event_id):
            raise BadQuery("id must be an event number")
        edr = self._data.edr(int(event_id))
        if edr is None:
            return reply_json(404, {"errorCode": "NOT_FOUND", "message": f"Event {event_id} not found"})
        return reply_json(200, edr)

    def _browse_data(self, request: Request) -> Response:
        return reply_json(200, self._data.browse(_json_body(request)))

    def _schedule(self, request: Request) -> Response:
        return reply_json(200, self._data.schedule(_json_body(request)))

    # --- HTTP control endpoints for out-of-process tests --------------------------------------

    def _control_last_code(self, request: Request) -> Response:
        return reply_json(200, {"code": self.last_code(request.query.get("username",
                                                                    DEFAULT_ACCOUNT.username))})

    def _control_faults(self, request: Request) -> Response:
        body = _json_body(request)
        action = body.get("action")
        prefix = body.get("path_prefix")
        try:
            result: Any = None
            if action == "fail_next":
                self.fail_next(int(body["n"]), int(body.get("status", 503)), prefix)
            elif action == "rate_limit_next":
                self.rate_limit_next(int(body["n"]), int(body.get("retry_after", 1)), prefix)
            elif action == "delay_next":
                self.delay_next(int(body["n"]), float(body["seconds"]), prefix)
            elif action == "block_next":
                self.block_next(int(body["n"]), str(body.get("kind", "403")), prefix)
            elif action == "expire_tokens":
                self.expire_tokens()
            elif action == "expire_tokens_after":
                self.expire_tokens_after(int(body["n"]))
            elif action == "lock_account":
                self.lock_account(str(body["username"]))
            elif action == "latency":
                self.latency_seconds = float(body["seconds"])
            elif action == "add_generated_day":
                result = self.add_generated_day(
                    int(body["store"]), str(body["date"]), int(body["n_events"]))
            elif action == "reset_stats":
                self.reset_stats()
            else:
                raise BadQuery(f"unknown action {action!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise BadQuery(f"bad arguments for {action}: {exc}") from exc
        return reply_json(200, {"status": "OK", "result": result})


# --- foreground mode ------------------------------------------------------------------------

def serve(port: int, host: str = "127.0.0.1", latency_seconds: float = 0.0, *,
          require_browser: bool = False) -> None:
    """Run the sandbox in the foreground until Ctrl-C."""
    with SandboxServer(host, port, latency_seconds=latency_seconds, log_requests=True,
                       require_browser=require_browser) as server:
        account = DEFAULT_ACCOUNT
        print(f"Retail Link sandbox listening on {server.url}  (Ctrl-C to stop)\n"
              f"  username: {account.username}\n"
              f"  password: {account.password}\n"
              f"  credid:   {account.credid}\n"
              "Point the bot at it:\n"
              f"  RETAIL_LINK_LOGIN_URL={server.url} RETAIL_LINK_URL={server.url} walmart-bot ...\n"
              "SMS codes are printed to stderr when sent.", flush=True)
        if require_browser:
            print("Browser required: login APIs answer 412 unless the login page's script ran;\n"
                  "  sign in with RETAIL_LINK_LOGIN_MODE=browser (or auto).", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nsandbox stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    """`walmart-bot sandbox [--port N]`: serve until Ctrl-C; 1 if the port cannot be bound."""
    parser = argparse.ArgumentParser(prog="walmart-bot sandbox",
                                     description="Run a local Retail Link sandbox server.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds to wait before answering each EMS data call")
    parser.add_argument("--require-browser", action="store_true",
                        help="answer scripted logins with 412, like Walmart's bot defence")
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.host, args.latency, require_browser=args.require_browser)
    except OSError as exc:  # typically the port is taken
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
