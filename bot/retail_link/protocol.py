"""Retail Link's fixed paths, payload constants, headers and timeouts, as PROTOCOL.md records them."""

from __future__ import annotations

# Login host (PROTOCOL.md §4, steps 0-3).
LOGIN_PAGE = "/login"
LOGIN_API = "/api/login"
SEND_CODE_API = "/api/mfa/sendCode"
VALIDATE_CODE_API = "/api/mfa/validateCode"

# Portal host (steps 4-6) and the EMS data API (§5).
PAGE_VISIT_API = (
    "/rl_portal_services/api/Site/InsertRlPageDetails"
    "?pageId=6&pageSubId=w6040&pageSubDesc=Event%20Management%20System"
)
PORTAL_PAGE = "/rl_portal/"
EMS_PAGE = "/EventManagement/"
AUTHENTICATE_API = "/EventManagement/api/authenticate"
EDR_REPORT_API = "/EventManagement/api/edrReport"
BROWSE_DATA_API = "/EventManagement/api/browse-event/browse-data"
DAILY_SCHEDULE_API = "/EventManagement/api/store-event/daily-schedule-report"

# Referers the original sent per EMS call (§3); the daily report page is "scheduled", its API "schedule".
REFERER_EMS = "/EventManagement/"
REFERER_BROWSE = "/EventManagement/browse-event"
REFERER_DAILY = "/EventManagement/daily-scheduled-report"

AUTH_COOKIE = "auth-token"
USER_COOKIE = "emsUser"
MFA_TYPE = "SMS_OTP"
# Every event type code of EDR_FORM.md §6.1; code 2 does not exist (§5.2).
ALL_EVENT_TYPES: tuple[int, ...] = (1, *range(3, 58))

# (connect, read) seconds, after the original's choices (§7).
TIMEOUT_LOGIN = (5.0, 15.0)
TIMEOUT_PORTAL = (5.0, 10.0)
TIMEOUT_DATA = (5.0, 30.0)
TIMEOUT_DAILY = (5.0, 60.0)

# Desktop Chrome on Windows, kept identical on every call: the original suspected bot scoring
# on mismatched user-agent / sec-ch-ua pairs (§3).
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
CLIENT_HINTS = {
    "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
}
BASE_HEADERS = {
    "user-agent": USER_AGENT,
    "accept-language": "en-US,en;q=0.9",
    **CLIENT_HINTS,
}


def navigation_headers(site: str) -> dict[str, str]:
    """Headers of a top-level page load (steps 0 and 5)."""
    return {
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "sec-fetch-dest": "document",
        "sec-fetch-mode": "navigate",
        "sec-fetch-site": site,
        "upgrade-insecure-requests": "1",
    }


def login_api_headers(login_url: str, *, first_step: bool = False) -> dict[str, str]:
    """Headers of the login host's JSON calls (steps 1-3)."""
    headers = {
        "accept": "*/*",
        "content-type": "application/json",
        "origin": login_url,
        "referer": login_url + LOGIN_PAGE,
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
    }
    if first_step:
        headers["priority"] = "u=1, i"
    return headers


def ems_headers(portal_url: str, referer_path: str, *, post: bool = False) -> dict[str, str]:
    """Headers of an EMS API call (step 6 and data calls); the bearer is added by the client."""
    headers = {
        "accept": "application/json, text/plain, */*",
        "referer": portal_url + referer_path,
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "cache-control": "no-cache",
        "pragma": "no-cache",
    }
    if post:
        headers.update(
            {"content-type": "application/json", "origin": portal_url, "priority": "u=1, i"}
        )
    return headers
