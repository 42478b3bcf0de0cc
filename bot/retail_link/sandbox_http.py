"""The sandbox's HTTP plumbing: request/response values and a keep-alive, gzip-aware threaded server."""

from __future__ import annotations

import gzip
import json
import re
import traceback
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.local_http import KeepAliveHandler, LoopbackServer

_GZIP_MIN_BYTES = 1024


@dataclass
class Request:
    method: str
    path: str  # double slashes collapsed
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    json: Any


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)


def reply_json(status: int, payload: Any, cookies: Sequence[str] = ()) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, cookies=list(cookies))


def reply_html(status: int, text: str, cookies: Sequence[str] = ()) -> Response:
    return Response(status, text.encode(), "text/html; charset=utf-8", cookies=list(cookies))


def set_cookie(name: str, value: str) -> str:
    # No Secure/Domain: the sandbox is plain http on one host, and cookies ignore ports.
    return f"{name}={value}; Path=/"




# Called with the parsed request and its path as sent (double slashes kept).
Handle = Callable[[Request, str], Response]


def _parse_cookies(header: str) -> dict[str, str]:
    # Hand-rolled: http.cookies.SimpleCookie drops the whole header on one odd value.
    cookies = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value
    return cookies


def _accepts_gzip(header: str) -> bool:
    for token in header.lower().split(","):
        coding, _, params = token.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class SandboxHTTPServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], handle: Handle, *,
                 log_requests: bool = False) -> None:
        self.handle = handle
        self.log_requests = log_requests
        super().__init__(address, _Handler)


class _Handler(KeepAliveHandler):
    timeout = 60
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "envoy"  # EMS answers through an Envoy proxy (PROTOCOL.md §1)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            self._send(reply_json(411, {"errorCode": "LENGTH_REQUIRED"}))
            return
        try:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        except ValueError:
            self.close_connection = True
            self._send(reply_json(400, {"errorCode": "BAD_REQUEST", "message": "bad Content-Length"}))
            return
        split = urllib.parse.urlsplit(self.path)
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        request = Request(
            method=self.command,
            path=re.sub(r"/{2,}", "/", split.path),  # the browser itself sends EMS//api
            query=dict(urllib.parse.parse_qsl(split.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            cookies=_parse_cookies(self.headers.get("cookie", "")),
            json=parsed,
        )
        try:
            response = self.server.handle(request, split.path)
        except Exception:
            traceback.print_exc()
            response = reply_json(500, {"errorCode": "INTERNAL_ERROR", "message": "sandbox bug"})
        self._send(response)

    def _send(self, response: Response) -> None:
        body = response.body
        gzipped = (len(body) > _GZIP_MIN_BYTES
                   and _accepts_gzip(self.headers.get("accept-encoding", "")))
        if gzipped:
            body = gzip.compress(body, compresslevel=5)  # real EMS bodies are gzip (§1)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        for name, value in response.headers:
            self.send_header(name, value)
        for cookie in response.cookies:
            self.send_header("Set-Cookie", cookie)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.log_requests:
            super().log_message(format, *args)
