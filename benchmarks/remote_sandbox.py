"""The Retail Link sandbox in its own process, as Walmart would be, driven through its control API.

Benchmarks use it so the sandbox's sleeps and JSON work do not share the measured process's GIL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

from bot.retail_link.sandbox import DEFAULT_ACCOUNT


class RemoteSandbox:
    def __init__(self, *args: str, latency: float = 0.0) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.retail_link.sandbox", "--port", str(port),
             "--latency", str(latency), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(self.url + "/login", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("sandbox did not start")

    def control(self, **body: object) -> object:
        response = requests.post(self.url + "/__sandbox__/faults", json=body, timeout=10)
        response.raise_for_status()
        return response.json()["result"]

    def last_code(self, username: str = DEFAULT_ACCOUNT.username) -> str | None:
        return requests.get(self.url + "/__sandbox__/last-code", params={"username": username},
                            timeout=10).json()["code"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
