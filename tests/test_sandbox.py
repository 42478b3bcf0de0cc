"""The Retail Link sandbox, exercised over real HTTP with plain requests."""

import base64
import gzip
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxAccount, SandboxServer
from bot.retail_link.sandbox_defence import fnv1a

FIXTURES = Path(__file__).resolve().parents[1] / "bot" / "retail_link" / "sandbox_data"
ACCOUNT = DEFAULT_ACCOUNT
EDR = "/EventManagement/api/edrReport"
BROWSE = "/EventManagement/api/browse-event/browse-data"
SCHEDULE = "/EventManagement/api/store-event/daily-schedule-report"
ALL_TYPES = [1, *range(3, 58)]
# EDR_FORM.md §6.1 / §6.3, for the types the generator uses.
EVENT_TYPES = {7: "Supplier", 8: "Vendor Performed", 14: "Production", 21: "FREEOSK (Kiosk)",
               24: "Digital Supplier", 44: "Club Choice Company"}
BILL_TYPES = {16: "6 Hour", 18: "8 Hour", 21: "Digital Cart", 23: "Service", 30: "Kiosk Service"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def post_login(session: requests.Session, server: SandboxServer, password: str = ACCOUNT.password,
               username: str = ACCOUNT.username) -> requests.Response:
    return session.post(f"{server.url}/api/login",
                        json={"username": username, "password": password, "language": "en"})


def send_code(session: requests.Session, server: SandboxServer,
              credid: Any = ACCOUNT.credid) -> requests.Response:
    return session.post(f"{server.url}/api/mfa/sendCode",
                        json={"type": "SMS_OTP", "credid": credid})


def validate(session: requests.Session, server: SandboxServer, code: str) -> requests.Response:
    return session.post(f"{server.url}/api/mfa/validateCode",
                        json={"type": "SMS_OTP", "credid": ACCOUNT.credid, "code": code,
                              "failureCount": 0})


def wrong_code(server: SandboxServer) -> str:
    return "000000" if server.last_code() != "000000" else "111111"


def login(server: SandboxServer) -> tuple[requests.Session, str]:
    """Steps 0-6 of PROTOCOL.md §4; returns the session and its bearer token."""
    session = requests.Session()
    assert session.get(f"{server.url}/login").status_code == 200
    assert post_login(session, server).status_code == 200
    assert send_code(session, server).status_code == 200
    assert validate(session, server, server.last_code()).status_code == 200
    details = session.get(f"{server.url}/rl_portal_services/api/Site/InsertRlPageDetails",
                          params={"pageId": "6", "pageSubId": "w6040",
                                  "pageSubDesc": "Event Management System"})
    assert details.status_code == 200 and details.json() == {}
    assert session.get(f"{server.url}/rl_portal/").status_code == 200
    assert session.get(f"{server.url}/EventManagement/").status_code == 200
    response = session.get(f"{server.url}/EventManagement/api/authenticate")
    assert response.status_code == 200
    token = json.loads(urllib.parse.unquote(session.cookies["auth-token"]))["token"]
    session.headers["authorization"] = f"Bearer {token}"
    return session, token


def browse_body(store: str, start: str, end: str | None = None) -> dict[str, Any]:
    return {"itemNbr": None, "vendorNbr": None, "startDate": start, "endDate": end or start,
            "billType": None, "eventType": ALL_TYPES, "userId": None, "primItem": None,
            "storeNbr": store, "deptNbr": None}


def browse(session: requests.Session, server: SandboxServer, store: str, day: str) -> list[Any]:
    response = session.post(f"{server.url}{BROWSE}", json=browse_body(store, day))
    assert response.status_code == 200
    return response.json()


def jwt_payload(token: str) -> Any:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- login flow -----------------------------------------------------------------------------

def test_login_page_sets_the_step_zero_cookies(sandbox: SandboxServer) -> None:
    session = requests.Session()
    response = session.get(f"{sandbox.url}/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert session.cookies["rl_access_attempt"] == "0"
    assert session.cookies["rl_show_login_form"] == "N"
    assert session.cookies["TS01b1e5a6"]


def test_send_code_before_login_is_refused(sandbox: SandboxServer) -> None:
    response = send_code(requests.Session(), sandbox)
    assert response.status_code == 401
    assert response.json()["errorCode"] == "LOGIN_REQUIRED"


def test_validate_code_before_send_code_is_refused(sandbox: SandboxServer) -> None:
    session = requests.Session()
    assert post_login(session, sandbox).status_code == 200
    response = validate(session, sandbox, "123456")
    assert response.status_code == 401
    assert response.json()["errorCode"] == "LOGIN_REQUIRED"


def test_authenticate_before_mfa_is_refused(sandbox: SandboxServer) -> None:
    session = requests.Session()
    post_login(session, sandbox)
    send_code(session, sandbox)
    response = session.get(f"{sandbox.url}/EventManagement/api/authenticate")
    assert response.status_code == 401
    assert "auth-token" not in session.cookies


def test_wrong_password_is_invalid_credentials(sandbox: SandboxServer) -> None:
    response = post_login(requests.Session(), sandbox, password="nope")
    assert response.status_code == 401
    assert response.json() == {"errorCode": "INVALID_CREDENTIALS",
                               "message": "Invalid username or password"}
    assert post_login(requests.Session(), sandbox, username="who@example.com").status_code == 401


def test_login_without_all_fields_is_a_bad_request(sandbox: SandboxServer) -> None:
    response = requests.post(f"{sandbox.url}/api/login",
                             json={"username": ACCOUNT.username, "password": ACCOUNT.password})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "BAD_REQUEST"
    form = requests.post(f"{sandbox.url}/api/login", data={"username": ACCOUNT.username})
    assert form.status_code == 400


def test_send_code_with_another_credid_is_refused(sandbox: SandboxServer) -> None:
    session = requests.Session()
    post_login(session, sandbox)
    for credid in ("9999999999", int(ACCOUNT.credid)):
        response = send_code(session, sandbox, credid=credid)
        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_CREDENTIAL_ID"
    assert sandbox.last_code() is None


def test_wrong_code_then_right_code_logs_in(sandbox: SandboxServer) -> None:
    session = requests.Session()
    post_login(session, sandbox)
    send_code(session, sandbox)
    code = sandbox.last_code()
    assert code is not None and len(code) == 6 and code.isdigit()
    wrong = validate(session, sandbox, wrong_code(sandbox))
    assert wrong.status_code == 401
    assert wrong.json()["errorCode"] == "INVALID_CODE"
    assert wrong.json()["attemptsRemaining"] == 2
    right = validate(session, sandbox, code)
    assert right.status_code == 200
    assert session.cookies["mfaToken"].count(".") == 2


def test_three_wrong_codes_lock_the_account(sandbox: SandboxServer) -> None:
    session = requests.Session()
    post_login(session, sandbox)
    send_code(session, sandbox)
    statuses = [validate(session, sandbox, wrong_code(sandbox)).status_code for _ in range(3)]
    assert statuses == [401, 401, 423]
    assert validate(session, sandbox, sandbox.last_code()).status_code == 423
    later = post_login(requests.Session(), sandbox)
    assert later.status_code == 423
    assert later.json()["errorCode"] == "ACCOUNT_LOCKED"


def test_locked_account_cannot_log_in(sandbox: SandboxServer) -> None:
    sandbox.lock_account(ACCOUNT.username)
    assert post_login(requests.Session(), sandbox).status_code == 423


def test_code_expires_after_its_ttl() -> None:
    now = [1_728_126_137.0]
    with SandboxServer(echo_codes=False, code_ttl_seconds=300, clock=lambda: now[0]) as server:
        session = requests.Session()
        post_login(session, server)
        send_code(session, server)
        now[0] += 301
        response = validate(session, server, server.last_code())
        assert response.status_code == 401
        assert response.json()["errorCode"] == "CODE_EXPIRED"
        send_code(session, server)  # a new code restarts the clock
        assert validate(session, server, server.last_code()).status_code == 200


def test_sent_codes_are_echoed_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with SandboxServer() as server:
        session = requests.Session()
        post_login(session, server)
        send_code(session, server)
    err = capsys.readouterr().err
    assert f"[sandbox] SMS code for {ACCOUNT.username}: {server.last_code()}" in err


def test_full_login_issues_a_bearer_in_the_auth_token_cookie(sandbox: SandboxServer) -> None:
    session, token = login(sandbox)
    cookie = json.loads(urllib.parse.unquote(session.cookies["auth-token"]))
    assert set(cookie) == {"token", "startTime", "endTime", "expiresIn"}
    assert cookie["expiresIn"] == 480
    assert session.cookies["auth-token"] == urllib.parse.quote(
        json.dumps(cookie, separators=(",", ":")), safe="")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256"}
    claims = jwt_payload(token)
    assert claims["exp"] - claims["iat"] == 28800
    assert claims["userData"]["userId"] == ACCOUNT.user_id
    assert claims["userData"]["fullName"] == ACCOUNT.full_name
    ems_user = json.loads(urllib.parse.unquote(session.cookies["emsUser"]))
    assert ems_user == {"userId": ACCOUNT.user_id, "fullName": ACCOUNT.full_name,
                        "roles": ["USER"], "retailRoles": []}


def test_a_second_account_logs_in_with_its_own_credid() -> None:
    other = SandboxAccount("other@example.com", "pw2", "5550009999", "vnoth02", "OTHER, USER")
    with SandboxServer(accounts=(ACCOUNT, other), echo_codes=False) as server:
        session = requests.Session()
        post_login(session, server, username=other.username, password=other.password)
        assert send_code(session, server).status_code == 400
        assert send_code(session, server, credid=other.credid).status_code == 200
        assert server.last_code(other.username) is not None
        assert server.last_code() is None


# --- EMS data -------------------------------------------------------------------------------

def test_data_call_without_bearer_is_unauthorized(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.url}{EDR}", params={"id": "547812"})
    assert response.status_code == 401
    assert response.json() == {"errorCode": "UNAUTHORIZED", "message": "Session expired"}
    forged = requests.get(f"{sandbox.url}{EDR}", params={"id": "547812"},
                          headers={"authorization": "Bearer eyJ.fake.token"})
    assert forged.status_code == 401


def test_edr_matches_the_fixture(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    response = session.get(f"{sandbox.url}{EDR}", params={"id": "547955"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == fixture("edr/547955.json")
    unicode = session.get(f"{sandbox.url}{EDR}", params={"id": "548466"}).json()
    assert unicode == fixture("edr/548466.json")


def test_unknown_event_is_not_found_and_bad_id_is_a_bad_request(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    missing = session.get(f"{sandbox.url}{EDR}", params={"id": "123456"})
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "NOT_FOUND"
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "54x"}).status_code == 400


def test_double_slash_path_works_like_single_slash(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    response = session.get(f"{sandbox.url}/EventManagement//api/edrReport?id=547812")
    assert response.status_code == 200
    assert response.json()["demoId"] == 547812
    assert sandbox.requests_seen[-1].path == "/EventManagement//api/edrReport"


def test_browse_data_for_the_fixture_day_equals_the_fixture(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    rows = browse(session, sandbox, "8135", "2024-10-05")
    assert rows == fixture("browse-data_store-8135_2024-10-05.json")


def test_browse_data_filters_by_event_type(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    body = browse_body("8135", "2024-10-05") | {"eventType": [7]}
    rows = session.post(f"{sandbox.url}{BROWSE}", json=body).json()
    assert rows and {row["eventType"] for row in rows} == {"Supplier"}


@pytest.mark.parametrize("change", [
    {"storeNbr": 8135},
    {"startDate": "10/05/2024"},
    {"eventType": ["7"]},
    {"itemNbr": "990412873"},
    {"endDate": "2024-10-04"},
])
def test_browse_data_refuses_wrong_types(sandbox: SandboxServer, change: dict[str, Any]) -> None:
    session, _ = login(sandbox)
    response = session.post(f"{sandbox.url}{BROWSE}",
                            json=browse_body("8135", "2024-10-05") | change)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "BAD_REQUEST"


def test_browse_data_refuses_a_missing_key(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    body = browse_body("8135", "2024-10-05")
    del body["deptNbr"]
    assert session.post(f"{sandbox.url}{BROWSE}", json=body).status_code == 400


def test_edge_edrs_have_their_own_days(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    holiday = browse(session, sandbox, "8135", "2024-10-06")
    assert len(holiday) == 45 and {row["eventId"] for row in holiday} == {548390}
    assert holiday[-1]["featuredItemInd"] == "Y"
    null_items = browse(session, sandbox, "8135", "2024-10-07")
    assert len(null_items) == 1
    assert null_items[0]["eventId"] == 548601 and null_items[0]["itemNbr"] == 990388210
    both = session.post(f"{sandbox.url}{BROWSE}",
                        json=browse_body("8135", "2024-10-05", "2024-10-07")).json()
    assert len(both) == 30 + 45 + 1


def test_daily_schedule_for_the_fixture_day_equals_the_fixture(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    body = {"startDate": "2024-10-05", "endDate": "2024-10-05", "eventType": ALL_TYPES,
            "clubList": [8135], "walmartWeekYear": ""}
    response = session.post(f"{sandbox.url}{SCHEDULE}", json=body)
    assert response.status_code == 200
    assert response.json() == fixture("daily-schedule-report_store-8135_2024-10-05.json")
    bad = session.post(f"{sandbox.url}{SCHEDULE}", json=body | {"clubList": ["8135"]})
    assert bad.status_code == 400


def test_daily_schedule_is_derived_for_other_days(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    rows = browse(session, sandbox, "4109", "2024-11-02")
    body = {"startDate": "2024-11-02", "endDate": "2024-11-02", "eventType": ALL_TYPES,
            "clubList": [4109], "walmartWeekYear": ""}
    schedule = session.post(f"{sandbox.url}{SCHEDULE}", json=body).json()
    assert [row["eventId"] for row in schedule] == sorted({row["eventId"] for row in rows})
    assert all(row["status"] == "APPROVED" for row in schedule)


def check_consistent(edr: dict[str, Any], rows: list[dict[str, Any]], store: int,
                     day: str) -> None:
    """The invariants fixtures/README.md lists between browse-data and an EDR."""
    assert [item["itemNbr"] for item in edr["itemDetails"]] == [row["itemNbr"] for row in rows]
    assert [item["gtin"] for item in edr["itemDetails"]] == [row["upcNbr"] for row in rows]
    assert EVENT_TYPES[edr["demoClassCode"]] == rows[0]["eventType"]
    assert BILL_TYPES[edr["demoBillTypeCd"]] == rows[0]["billType"]
    assert edr["demoLockInd"] == ("Y" if rows[0]["lockDate"] == "true" else "N")
    assert edr["targetClubCnt"] == len(edr["clubDetails"]) == rows[0]["targetClubCnt"]
    assert edr["demoName"].strip() == rows[0]["eventName"] and len(edr["demoName"]) == 100
    assert [c["scheduledDate"] for c in edr["clubDetails"] if c["storeNbr"] == store] == [day]
    assert sum(item["featuredItemInd"] == "Y" for item in edr["itemDetails"]) == 1


def test_generated_day_is_deterministic_and_its_ids_serve_edrs() -> None:
    days = []
    for _ in range(2):
        with SandboxServer(echo_codes=False) as server:
            session, _token = login(server)
            rows = browse(session, server, "4109", "2024-11-02")
            edrs = {}
            for event_id in dict.fromkeys(row["eventId"] for row in rows):
                response = session.get(f"{server.url}{EDR}", params={"id": str(event_id)})
                assert response.status_code == 200
                edrs[event_id] = response.json()
            days.append((rows, edrs))
    (rows, edrs), (rows_again, edrs_again) = days
    assert rows == rows_again and edrs == edrs_again
    assert 3 <= len(edrs) <= 8
    assert all(600000 <= event_id <= 999999 for event_id in edrs)
    assert {row["billType"] for row in rows} >= {"6 Hour", "Digital Cart"}
    for event_id, edr in edrs.items():
        check_consistent(edr, [row for row in rows if row["eventId"] == event_id], 4109,
                         "2024-11-02")


def test_add_generated_day_gives_exactly_n_consistent_events(sandbox: SandboxServer) -> None:
    ids = sandbox.add_generated_day(8135, "2024-12-14", 60)
    assert len(ids) == len(set(ids)) == 60
    session, _ = login(sandbox)
    rows = browse(session, sandbox, "8135", "2024-12-14")
    assert list(dict.fromkeys(row["eventId"] for row in rows)) == ids
    bill_types = {row["billType"] for row in rows}
    assert bill_types == {"6 Hour", "8 Hour", "Digital Cart", "Kiosk Service", "Service"}
    edr = session.get(f"{sandbox.url}{EDR}", params={"id": str(ids[59])}).json()
    check_consistent(edr, [row for row in rows if row["eventId"] == ids[59]], 8135, "2024-12-14")


def test_responses_over_a_kilobyte_are_gzipped_when_accepted(sandbox: SandboxServer) -> None:
    session, token = login(sandbox)
    with socket.create_connection(("127.0.0.1", int(sandbox.url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(f"GET {EDR}?id=548021 HTTP/1.1\r\nHost: x\r\naccept-encoding: gzip\r\n"
                    f"authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := raw.recv(65536):
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"content-encoding: gzip" in head.lower()
    assert json.loads(gzip.decompress(body))["demoId"] == 548021
    plain = session.get(f"{sandbox.url}{EDR}", params={"id": "548021"},
                        headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json()["targetClubCnt"] == 590


def test_ems_responses_reset_the_edge_cookie(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    first = session.cookies["TS04fe286f027"]
    response = session.get(f"{sandbox.url}{EDR}", params={"id": "547812"})
    assert "TS04fe286f027=" in response.headers["set-cookie"]
    assert session.cookies["TS04fe286f027"] != first


def test_unknown_path_is_a_json_404(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.url}/no/such/thing")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "NOT_FOUND"


def test_requests_seen_records_method_path_headers_and_body(sandbox: SandboxServer) -> None:
    session, token = login(sandbox)
    session.post(f"{sandbox.url}{BROWSE}", json=browse_body("8135", "2024-10-05"),
                 headers={"Referer": "http://x/EventManagement/browse-event"})
    seen = sandbox.requests_seen[-1]
    assert (seen.method, seen.path) == ("POST", BROWSE)
    assert seen.headers["authorization"] == f"Bearer {token}"
    assert seen.headers["referer"] == "http://x/EventManagement/browse-event"
    assert seen.json["storeNbr"] == "8135"
    sandbox.reset_stats()
    assert sandbox.requests_seen == [] and sandbox.max_in_flight == 0


# --- faults ---------------------------------------------------------------------------------

def test_fail_next_fails_that_many_matching_requests(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.fail_next(2, status=502)
    statuses = [session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code
                for _ in range(3)]
    assert statuses == [502, 502, 200]


def test_fail_next_only_matches_its_path_prefix(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.fail_next(1, path_prefix=BROWSE)
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 200
    body = browse_body("8135", "2024-10-05")
    assert session.post(f"{sandbox.url}{BROWSE}", json=body).status_code == 503
    assert session.post(f"{sandbox.url}{BROWSE}", json=body).status_code == 200


def test_rate_limit_carries_retry_after(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.rate_limit_next(1, retry_after=7)
    limited = session.get(f"{sandbox.url}{EDR}", params={"id": "547812"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 200


def test_block_403_is_a_perimeterx_page(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.block_next(1)
    blocked = session.get(f"{sandbox.url}{EDR}", params={"id": "547812"})
    assert blocked.status_code == 403
    assert blocked.headers["content-type"].startswith("text/html")
    text = blocked.text.lower()
    assert "access to this page has been denied" in text
    assert "perimeterx" in text and "captcha" in text


def test_block_html_answers_200_html_where_json_was_asked(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.block_next(1, kind="html")
    page = session.get(f"{sandbox.url}{EDR}", params={"id": "547812"},
                       headers={"accept": "application/json, text/plain, */*"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "captcha" in page.text.lower()
    with pytest.raises(ValueError):
        page.json()


def test_block_412_on_the_login_host(sandbox: SandboxServer) -> None:
    sandbox.block_next(1, kind="412", path_prefix="/api/login")
    session = requests.Session()
    assert post_login(session, sandbox).status_code == 412
    assert post_login(session, sandbox).status_code == 200


def test_expire_tokens_kills_every_bearer(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 200
    sandbox.expire_tokens()
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 401
    fresh, _ = login(sandbox)
    assert fresh.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 200


def test_expire_tokens_after_lets_n_calls_through(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    sandbox.expire_tokens_after(2)
    statuses = [session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 401, 401]


def test_token_dies_at_its_expiry_time() -> None:
    now = [1_728_126_137.0]
    with SandboxServer(echo_codes=False, token_ttl_seconds=60, clock=lambda: now[0]) as server:
        session, _ = login(server)
        assert session.get(f"{server.url}{EDR}", params={"id": "547812"}).status_code == 200
        now[0] += 61
        assert session.get(f"{server.url}{EDR}", params={"id": "547812"}).status_code == 401


def test_max_in_flight_counts_concurrent_data_calls(sandbox: SandboxServer) -> None:
    session, token = login(sandbox)
    sandbox.latency_seconds = 0.3
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def fetch() -> None:
        with requests.Session() as own:
            barrier.wait()
            response = own.get(f"{sandbox.url}{EDR}", params={"id": "547812"},
                               headers={"authorization": f"Bearer {token}"})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert sandbox.max_in_flight == 4
    sandbox.reset_stats()
    sandbox.latency_seconds = 0.0
    session.get(f"{sandbox.url}{EDR}", params={"id": "547812"})
    assert sandbox.max_in_flight == 1


def test_http_control_endpoints_drive_the_same_faults(sandbox: SandboxServer) -> None:
    session, _ = login(sandbox)
    control = f"{sandbox.url}/__sandbox__"
    code = requests.get(f"{control}/last-code", params={"username": ACCOUNT.username}).json()
    assert code == {"code": sandbox.last_code()}
    assert requests.post(f"{control}/faults",
                         json={"action": "fail_next", "n": 1, "status": 500}).status_code == 200
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 500
    requests.post(f"{control}/faults", json={"action": "expire_tokens"})
    assert session.get(f"{sandbox.url}{EDR}", params={"id": "547812"}).status_code == 401
    assert requests.post(f"{control}/faults", json={"action": "nope"}).status_code == 400
    assert all(not seen.path.startswith("/__sandbox__") for seen in sandbox.requests_seen)


# --- browser-required mode (the bot defence stand-in) ------------------------------------------

LOGIN_APIS = ("/api/login", "/api/mfa/sendCode", "/api/mfa/validateCode")


def page_challenge(session: requests.Session, server: SandboxServer) -> str:
    page = session.get(f"{server.url}/login")
    assert page.status_code == 200 and "<script>" in page.text and "_px3=" in page.text
    found = re.search(r'var challenge = "([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def test_browser_required_login_apis_answer_412_without_the_page_cookie() -> None:
    with SandboxServer(echo_codes=False, require_browser=True) as server:
        session = requests.Session()
        page_challenge(session, server)  # loading the page is not enough: its script must run
        for path in LOGIN_APIS:
            refused = session.post(f"{server.url}{path}", json={})
            assert refused.status_code == 412
            assert refused.headers["content-type"].startswith("text/html")
            assert "perimeterx" in refused.text.lower()
        assert server.last_code() is None


def test_browser_required_accepts_the_cookie_the_page_script_computes() -> None:
    with SandboxServer(echo_codes=False, require_browser=True) as server:
        session = requests.Session()
        challenge = page_challenge(session, server)
        session.cookies.set("_px3", f"{challenge}:{fnv1a(challenge)}")
        assert post_login(session, server).status_code == 200
        assert send_code(session, server).status_code == 200
        assert validate(session, server, server.last_code() or "").status_code == 200


@pytest.mark.parametrize("forge", ["wrong hash", "unsigned challenge"])
def test_browser_required_refuses_forged_sensor_cookies(forge: str) -> None:
    with SandboxServer(echo_codes=False, require_browser=True) as server:
        session = requests.Session()
        challenge = page_challenge(session, server)
        if forge == "wrong hash":
            value = f"{challenge}:{fnv1a(challenge + 'x')}"
        else:
            own = "0123456789abcdef.0123456789abcdef"
            value = f"{own}:{fnv1a(own)}"
        session.cookies.set("_px3", value)
        assert post_login(session, server).status_code == 412


def test_the_sensor_hash_matches_known_fnv1a_values() -> None:
    assert fnv1a("") == "811c9dc5"
    assert fnv1a("a") == "e40c292c"
    assert fnv1a("foobar") == "bf9cf968"


def test_delay_next_holds_a_matching_request_then_answers(sandbox: SandboxServer) -> None:
    sandbox.delay_next(1, 0.5, path_prefix="/api/login")
    started = time.monotonic()
    assert post_login(requests.Session(), sandbox).status_code == 200
    assert time.monotonic() - started >= 0.45
    started = time.monotonic()
    assert post_login(requests.Session(), sandbox).status_code == 200
    assert time.monotonic() - started < 0.4


# --- transport and foreground mode ----------------------------------------------------------

def test_connections_are_kept_alive_across_answers(sandbox: SandboxServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(sandbox.url.rsplit(":", 1)[1]))
    connection.connect()
    opened = connection.sock
    statuses = []
    for path in ("/login", EDR + "?id=1", "/no/such/thing", "/EventManagement/"):
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        assert response.getheader("connection") != "close"
        assert connection.sock is opened  # http.client would silently reconnect otherwise
    assert statuses == [200, 401, 404, 200]
    connection.close()


def test_foreground_mode_prints_how_to_connect_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.retail_link.sandbox", "--port", "0"],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url, first
        banner = "".join(process.stdout.readline() for _ in range(6))
        assert ACCOUNT.username in banner and ACCOUNT.password in banner
        assert ACCOUNT.credid in banner
        assert f"RETAIL_LINK_LOGIN_URL={url[0]} RETAIL_LINK_URL={url[0]}" in banner
        assert requests.get(f"{url[0]}/login", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
        process.communicate()


def test_foreground_mode_can_require_the_browser() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.retail_link.sandbox", "--port", "0", "--require-browser"],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert process.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert url
        banner = "".join(process.stdout.readline() for _ in range(8))
        assert "RETAIL_LINK_LOGIN_MODE=browser" in banner
        login = {"username": ACCOUNT.username, "password": ACCOUNT.password, "language": "en"}
        assert requests.post(f"{url[0]}/api/login", json=login, timeout=5).status_code == 412
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
        process.communicate()
