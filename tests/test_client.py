"""The Retail Link client against the sandbox over real HTTP: login, data, failures, state, secrets."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from bot.retail_link.client import RetailLinkClient, Stage
from bot.retail_link.errors import (
    AccountLocked,
    BadCredentials,
    Blocked,
    LoginRequired,
    NotFound,
    RateLimited,
    SessionExpired,
    Unavailable,
    WrongCode,
)
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

ACCOUNT = DEFAULT_ACCOUNT
FIXTURES = Path(__file__).resolve().parents[1] / "bot" / "retail_link" / "sandbox_data"
DAY = date(2024, 10, 5)


def new_client(sandbox: SandboxServer, **kwargs: object) -> RetailLinkClient:
    return RetailLinkClient(sandbox.url, sandbox.url, **kwargs)  # type: ignore[arg-type]


def signed_in(sandbox: SandboxServer) -> RetailLinkClient:
    client = new_client(sandbox)
    client.start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    client.complete_login(sandbox.last_code(ACCOUNT.username) or "")
    return client


def paths(sandbox: SandboxServer) -> list[str]:
    return [r.path for r in sandbox.requests_seen]


def test_happy_path_signs_in_and_fetches_an_edr(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    assert client.signed_in and client.stage is Stage.SIGNED_IN
    assert client.user_id == ACCOUNT.user_id
    edr = client.edr_report(547955)
    expected = json.loads((FIXTURES / "edr" / "547955.json").read_text())
    assert edr.demo_id == 547955
    assert edr.name == expected["demoName"].strip()
    assert [i.item_nbr for i in edr.items or []] == [i["itemNbr"] for i in expected["itemDetails"]]


def test_login_follows_the_protocol_order_and_payloads(sandbox: SandboxServer) -> None:
    signed_in(sandbox)
    seen = sandbox.requests_seen
    assert paths(sandbox) == [
        "/login", "/api/login", "/api/mfa/sendCode", "/api/mfa/validateCode",
        "/rl_portal_services/api/Site/InsertRlPageDetails", "/rl_portal/", "/EventManagement/",
        "/EventManagement/api/authenticate",
    ]
    login, send, validate = seen[1].json, seen[2].json, seen[3].json
    assert login == {"username": ACCOUNT.username, "password": ACCOUNT.password, "language": "en"}
    assert send == {"type": "SMS_OTP", "credid": ACCOUNT.credid}
    assert validate is not None and validate["failureCount"] == 0
    assert set(validate) == {"type", "credid", "code", "failureCount"}
    assert seen[4].query.get("pageSubId") in ("w6040", ["w6040"])
    agents = {r.headers.get("user-agent") for r in seen}
    assert len(agents) == 1 and "Chrome" in agents.pop()
    assert seen[1].headers["content-type"] == "application/json"
    assert seen[1].headers["origin"] == sandbox.url


def test_data_calls_carry_the_bearer_and_the_exact_listing_body(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    events = client.browse_events(8135, DAY)
    body = sandbox.requests_seen[-1].json
    assert body is not None
    assert set(body) == {"itemNbr", "vendorNbr", "startDate", "endDate", "billType",
                         "eventType", "userId", "primItem", "storeNbr", "deptNbr"}
    assert body["storeNbr"] == "8135" and body["startDate"] == body["endDate"] == "2024-10-05"
    assert 2 not in body["eventType"] and body["eventType"][0] == 1
    assert sandbox.requests_seen[-1].headers["authorization"].startswith("Bearer ")
    assert len(events) == 12
    assert [e.event_id for e in events][:3] == [548230, 547812, 547955]
    cancelled = [e.event_id for e in events if e.cancelled]
    assert cancelled == [548150]


def test_daily_schedule_is_the_alternative_listing(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    events = client.daily_schedule(8135, DAY)
    body = sandbox.requests_seen[-1].json
    assert body is not None and body["clubList"] == [8135] and body["walmartWeekYear"] == ""
    assert {e.event_id for e in events} == {e.event_id for e in client.browse_events(8135, DAY)}


def test_wrong_password_is_bad_credentials_and_sends_no_code(sandbox: SandboxServer) -> None:
    client = new_client(sandbox)
    with pytest.raises(BadCredentials):
        client.start_login(ACCOUNT.username, "not-the-password", ACCOUNT.credid)
    assert client.stage is Stage.NEW
    assert "/api/mfa/sendCode" not in paths(sandbox)
    assert sandbox.last_code(ACCOUNT.username) is None


def test_wrong_code_then_right_code_signs_in(sandbox: SandboxServer) -> None:
    client = new_client(sandbox)
    client.start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    code = sandbox.last_code(ACCOUNT.username) or ""
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(WrongCode) as caught:
        client.complete_login(wrong)
    assert caught.value.attempts_left == 2
    assert client.stage is Stage.CODE_SENT
    client.complete_login(code)
    assert client.signed_in


def test_repeated_wrong_codes_lock_the_account(sandbox: SandboxServer) -> None:
    client = new_client(sandbox)
    client.start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    wrong = "000000" if sandbox.last_code(ACCOUNT.username) != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(WrongCode):
            client.complete_login(wrong)
    with pytest.raises(AccountLocked):
        client.complete_login(wrong)
    with pytest.raises(AccountLocked):
        new_client(sandbox).start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)


def test_completing_a_login_never_started_is_refused_locally(sandbox: SandboxServer) -> None:
    client = new_client(sandbox)
    with pytest.raises(LoginRequired):
        client.complete_login("123456")
    assert sandbox.requests_seen == []


def test_unknown_event_is_not_found(sandbox: SandboxServer) -> None:
    with pytest.raises(NotFound):
        signed_in(sandbox).edr_report(999999)


def test_expired_token_is_session_expired(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.expire_tokens()
    with pytest.raises(SessionExpired):
        client.edr_report(547955)
    with pytest.raises(SessionExpired):
        client.browse_events(8135, DAY)


def test_429_waits_for_retry_after_then_succeeds(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.rate_limit_next(1, retry_after=1)
    started = time.monotonic()
    assert client.edr_report(547812).demo_id == 547812
    assert time.monotonic() - started >= 0.9
    assert paths(sandbox).count("/EventManagement/api/edrReport") == 2


def test_a_long_retry_after_is_reported_not_slept(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.rate_limit_next(1, retry_after=600)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.edr_report(547812)
    assert caught.value.retry_after == 600
    assert time.monotonic() - started < 5


def test_5xx_is_retried_with_backoff(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.fail_next(2, status=503)
    assert client.edr_report(547812).demo_id == 547812
    assert paths(sandbox).count("/EventManagement/api/edrReport") == 3


def test_listing_post_is_retried_but_login_posts_never_are(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.fail_next(1, status=502, path_prefix="/EventManagement/api/browse-event")
    assert len(client.browse_events(8135, DAY)) == 12
    sandbox.fail_next(1, status=502, path_prefix="/api/login")
    with pytest.raises(Unavailable):
        new_client(sandbox).start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    assert paths(sandbox).count("/api/login") == 2  # the first sign-in's and this one's, no retry


def test_persistent_5xx_becomes_unavailable(sandbox: SandboxServer) -> None:
    client = signed_in(sandbox)
    sandbox.fail_next(10, status=500)
    with pytest.raises(Unavailable):
        client.edr_report(547812)


@pytest.mark.parametrize("kind", ["403", "html"])
def test_bot_block_pages_are_recognised(sandbox: SandboxServer, kind: str) -> None:
    client = signed_in(sandbox)
    sandbox.block_next(1, kind=kind)
    with pytest.raises(Blocked):
        client.edr_report(547812)


def test_412_on_login_is_blocked(sandbox: SandboxServer) -> None:
    sandbox.block_next(1, kind="412", path_prefix="/api/login")
    with pytest.raises(Blocked) as caught:
        new_client(sandbox).start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    assert "412" in str(caught.value)


def test_state_restores_into_a_new_client(sandbox: SandboxServer) -> None:
    state = signed_in(sandbox).export_state()
    restored = RetailLinkClient.from_state(state, sandbox.url, sandbox.url)
    assert restored.signed_in
    assert restored.edr_report(548021).locked is True


def test_login_halves_run_in_different_processes(sandbox: SandboxServer, tmp_path: Path) -> None:
    first = new_client(sandbox)
    first.start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    state_file = tmp_path / "state.json"
    state_file.write_bytes(first.export_state())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bot.retail_link.client import RetailLinkClient\n"
        "c = RetailLinkClient.from_state(Path(sys.argv[1]).read_bytes(), sys.argv[2], sys.argv[2])\n"
        "c.complete_login(sys.argv[3])\n"
        "print(c.edr_report(547955).demo_id)\n"
    )
    code = sandbox.last_code(ACCOUNT.username) or ""
    done = subprocess.run([sys.executable, "-c", script, str(state_file), sandbox.url, code],
                          capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "547955"


def test_garbage_state_is_rejected() -> None:
    with pytest.raises(ValueError):
        RetailLinkClient.from_state(b"{not json", "http://x", "http://x")


def test_no_secret_reaches_logs_or_errors(sandbox: SandboxServer,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = new_client(sandbox)
    client.start_login(ACCOUNT.username, ACCOUNT.password, ACCOUNT.credid)
    code = sandbox.last_code(ACCOUNT.username) or ""
    errors: list[str] = []
    try:
        client.complete_login("000000" if code != "000000" else "111111")
    except WrongCode as exc:
        errors.append(str(exc))
    client.complete_login(code)
    client.edr_report(547955)
    sandbox.expire_tokens()
    try:
        client.edr_report(547955)
    except SessionExpired as exc:
        errors.append(str(exc))
    state = json.loads(client.export_state())
    secrets = [ACCOUNT.password, code, state["bearer"]]
    secrets += [c["value"] for c in state["cookies"] if len(c["value"]) >= 6]
    text = caplog.text + "\n".join(errors) + repr(client)
    assert caplog.records, "the flow should have logged something"
    for secret in secrets:
        assert secret not in text
