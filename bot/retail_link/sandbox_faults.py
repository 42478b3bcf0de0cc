"""Fault injection for the sandbox: the next N matching requests fail, rate-limit, block or stall."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus

from bot.retail_link.sandbox_defence import CAPTCHA_PAGE, PRECONDITION_PAGE, PX_BLOCK_PAGE
from bot.retail_link.sandbox_http import Response, reply_html, reply_json

BLOCK_KINDS = ("403", "html", "412")


@dataclass
class Fault:
    kind: str  # "fail", "rate_limit", "block" or "delay"
    remaining: int
    path_prefix: str | None  # None: EMS data calls only
    status: int = 503
    retry_after: int = 1
    block_kind: str = "403"
    delay_seconds: float = 0.0


class Faults:
    """Queued faults, taken first-come by the requests they match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.path_prefix is not None:
            fault.path_prefix = re.sub(r"/{2,}", "/", fault.path_prefix)
        with self._lock:
            self._queue.append(fault)

    def take(self, path: str, *, is_data: bool) -> Response | None:
        """The answer a queued fault gives this request, or None to answer it normally."""
        with self._lock:
            for fault in self._queue:
                prefix = fault.path_prefix
                if (is_data if prefix is None else path.startswith(prefix)):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._queue.remove(fault)
                    break
            else:
                return None
        if fault.kind == "delay":
            time.sleep(fault.delay_seconds)  # outside the lock: other requests go on meanwhile
            return None
        if fault.kind == "rate_limit":
            response = reply_json(429, {"errorCode": "TOO_MANY_REQUESTS", "message": "Slow down"})
            response.headers.append(("Retry-After", str(fault.retry_after)))
            return response
        if fault.kind == "fail":
            try:
                code = HTTPStatus(fault.status).name
            except ValueError:
                code = "ERROR"
            return reply_json(fault.status, {"errorCode": code, "message": "Injected failure"})
        if fault.block_kind == "html":
            return reply_html(200, CAPTCHA_PAGE)  # a captcha where JSON was asked (PROTOCOL.md §6)
        if fault.block_kind == "412":
            return reply_html(412, PRECONDITION_PAGE)
        return reply_html(403, PX_BLOCK_PAGE)
