"""A threaded keep-alive HTTP server on loopback, run in the background: the base of the local fakes
(the Retail Link sandbox here, the fake Slack API in tests)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """Closes its keep-alive connections on stop, so no handler thread outlives the server."""

    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent clients must not be refused
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with Content-Length on every answer, so clients reuse their connections."""

    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus the client's delayed
        # ACK stalls every keep-alive response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()


class Background:
    """Runs a LoopbackServer on a daemon thread; `stop()` is quick (tests start many)."""

    def __init__(self, server: LoopbackServer, name: str) -> None:
        self.server = server
        # A short poll interval makes stop() return in ~50 ms instead of 500 ms.
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name,
                                        daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self._thread.join(timeout=5)
