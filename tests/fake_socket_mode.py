"""A Socket Mode endpoint for tests: the app connects over a real WebSocket (api.slack.com/apis/socket-mode);
tests push envelopes as Slack would and read the app's acknowledgements."""

from __future__ import annotations

import itertools
import json
import queue
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

_ids = itertools.count(1)


class FakeSocketMode:
    def __init__(self) -> None:
        self._server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._connected = threading.Event()
        self._connection: ServerConnection | None = None
        self._acks: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=fake"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0APP"}}))
        with self._lock:
            self._connection = connection
        self._connected.set()
        try:
            for raw in connection:
                message = json.loads(raw)
                envelope_id = message.get("envelope_id")
                if envelope_id:
                    self._queue(envelope_id).put(message)
        except ConnectionClosed:
            pass  # the app went away (stopped, or reconnecting): nothing to acknowledge

    def _queue(self, envelope_id: str) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._acks.setdefault(envelope_id, queue.Queue())

    def wait_connected(self, timeout: float = 20) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the app never opened a Socket Mode connection")

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Push one envelope (e.g. kind "slash_commands"); returns its envelope id."""
        envelope_id = f"env-{next(_ids)}"
        self._queue(envelope_id)
        assert self._connection is not None, "no app connected"
        self._connection.send(json.dumps({"envelope_id": envelope_id, "type": kind,
                                          "accepts_response_payload": True,
                                          "payload": payload, "retry_attempt": 0,
                                          "retry_reason": ""}))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        try:
            return self._queue(envelope_id).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no ack for {envelope_id} within {timeout} s") from None
