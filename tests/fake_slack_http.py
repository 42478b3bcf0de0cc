"""HTTP plumbing for the fake Slack: a threaded server, the request handler and argument decoding."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.local_http import KeepAliveHandler, LoopbackServer

Params = dict[str, Any]
# Arguments Slack takes as JSON strings in form-encoded calls; decoded so tests see structures.
_JSON_ARGUMENTS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass
class Answer:
    status: int
    body: Any  # dict -> JSON, str -> text/plain
    headers: tuple[tuple[str, str], ...] = ()


Serve = Callable[[str, str, dict[str, str], bytes], Answer]  # (verb, path, lower-case headers, body)


def json_object(raw: bytes) -> Params:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {"_raw": raw.decode("utf-8", "replace")}
    return parsed if isinstance(parsed, dict) else {"_raw": parsed}


def decode_params(content_type: str, raw: bytes, query: str) -> Params:
    """Arguments as Slack reads them: query string, then a JSON, multipart or urlencoded body."""
    params: Params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if "json" in content_type or raw.lstrip().startswith(b"{"):
        params.update(json_object(raw))
    elif content_type.startswith("multipart/"):
        params.update(_multipart_fields(content_type, raw))
    elif raw:
        params.update(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_ARGUMENTS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _multipart_parts(content_type: str, raw: bytes) -> list[Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    return list(message.iter_parts()) if message.is_multipart() else []


def _multipart_fields(content_type: str, raw: bytes) -> Params:
    fields: Params = {}
    for part in _multipart_parts(content_type, raw):
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return fields


def multipart_file(content_type: str, raw: bytes) -> bytes:
    parts = _multipart_parts(content_type, raw)
    chosen = next((p for p in parts if p.get_filename()), parts[0] if parts else None)
    return (chosen.get_payload(decode=True) or b"") if chosen is not None else b""


class HTTPServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], serve: Serve) -> None:
        self.serve = serve
        super().__init__(address, _Handler)


class _Handler(KeepAliveHandler):
    server: HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read fake.calls(), not an access log

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            answer = self.server.serve(self.command, self.path, headers, raw)
        except Exception:
            traceback.print_exc()
            answer = Answer(500, {"ok": False, "error": "fatal_error"})
        if isinstance(answer.body, dict):
            body, content_type = json.dumps(answer.body).encode(), "application/json; charset=utf-8"
        else:
            body, content_type = str(answer.body).encode(), "text/plain; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
