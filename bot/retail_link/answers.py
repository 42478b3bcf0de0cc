"""Turning one Retail Link answer (from requests or an in-browser fetch) into a typed error."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot.retail_link import protocol as p
from bot.retail_link.errors import (
    AccountLocked,
    BadCredentials,
    Blocked,
    CodeExpired,
    LoginRequired,
    NotFound,
    RateLimited,
    SessionExpired,
    Unavailable,
    UnexpectedResponse,
    WrongCode,
)

CHALLENGE_MARKERS = ("captcha", "perimeterx", "challenge")


@dataclass
class Answer:
    """What the error mapping needs to know about one HTTP answer, whoever fetched it."""

    status: int
    content_type: str
    url: str
    read_text: Callable[[], str]  # lazy: most answers are judged without reading the body
    redirected: bool = False
    retry_after: str | None = None

    @cached_property
    def text(self) -> str:
        return self.read_text()

    @cached_property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def raise_for_answer(answer: Answer, *, step: str) -> None:
    """Raise the typed error Walmart's answer stands for; return quietly on success.

    `step` names the call: "password", "send_code", "validate_code", "listing", or anything else
    for the remaining EMS calls.
    """
    status = answer.status
    if status == 412:
        raise Blocked("HTTP 412 — scripted sign-ins refused")
    if status == 403:
        raise Blocked("HTTP 403")
    if status == 429:
        raise RateLimited(parse_retry_after(answer.retry_after))
    if status >= 500:
        raise Unavailable(f"Retail Link answered HTTP {status} after retries.")
    if "text/html" in answer.content_type.lower():
        if answer.url.split("?")[0].endswith(p.LOGIN_PAGE) or answer.redirected:
            raise SessionExpired()  # sent back to the login page
        text = answer.text[:20000].lower()
        if any(marker in text for marker in CHALLENGE_MARKERS):
            raise Blocked("challenge page")
        raise Blocked("HTML page where JSON was expected")
    if 200 <= status < 300:
        return
    body = answer.json if isinstance(answer.json, dict) else {}
    error_code = str(body["errorCode"]) if body.get("errorCode") else None
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
        left = body.get("attemptsRemaining")
        raise WrongCode(left if isinstance(left, int) else None)
    if status in (401, 440):
        raise SessionExpired()
    if status == 404:
        # browse-data's 404 meant an expired session to the original (PROTOCOL.md §6).
        if step == "listing":
            raise SessionExpired()
        raise NotFound()
    raise UnexpectedResponse(f"Retail Link answered HTTP {status}.")


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; rare enough to report without a figure
