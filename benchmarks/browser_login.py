"""Prints the time of a browser-mode sign-in (both halves) and the peak memory of its Chromium.

Run: .venv/bin/python benchmarks/browser_login.py [--runs 3]
Targets (issue 5): a sign-in under 10 s; the browser under 400 MB.
The sandbox runs in its own process with --require-browser, so the direct path would get 412.
Memory of the Chromium process tree this process started is sampled from /proc every 20 ms:
RSS summed over its processes (the shared Chromium binary is counted once per process, so this
overstates), PSS (shared pages split among the processes mapping them: the tree's real
footprint while no other Chromium runs) and USS (private pages only: a floor).
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from remote_sandbox import RemoteSandbox  # beside this script

from bot.config import load_settings
from bot.retail_link.browser import BrowserOptions, chromium_pids
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.sandbox import DEFAULT_ACCOUNT

MB = 1024 * 1024


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(name))
    return tree


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _memory(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) in bytes; zeros for a process that is already gone."""
    wanted = ("Rss", "Pss", "Private_Clean", "Private_Dirty")
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            kb = {line.split(":")[0]: int(line.split()[1]) * 1024
                  for line in f if line.split(":")[0] in wanted}
    except (OSError, ValueError):
        return 0, 0, 0
    return (kb.get("Rss", 0), kb.get("Pss", 0),
            kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0))


def _descendants(tree: dict[int, list[int]], root: int) -> list[int]:
    found, todo = [], list(tree.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


class MemoryPeak:
    """Samples, in a thread, the memory of the Chromium processes this process started.

    Only our own descendants count, so a browser another program runs meanwhile does not.
    """

    def __init__(self) -> None:
        self.rss = self.pss = self.uss = self.driver_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        ours = os.getpid()
        while not self._stop.is_set():
            tree = _children()
            mains = set(chromium_pids(browsers_only=True))
            chromium: list[int] = []
            for pid in _descendants(tree, ours):
                if pid in mains:
                    chromium += [pid, *_descendants(tree, pid)]
                elif _comm(pid).startswith("node"):  # Playwright's driver
                    self.driver_rss = max(self.driver_rss, _memory(pid)[0])
            rss, pss, uss = (sum(column) for column in zip((0, 0, 0), *map(_memory, chromium),
                                                           strict=True))
            self.rss, self.pss, self.uss = max(self.rss, rss), max(self.pss, pss), max(self.uss, uss)
            time.sleep(0.02)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def sign_in(sandbox: RemoteSandbox, options: BrowserOptions) -> tuple[float, float]:
    """One browser-mode sign-in; returns the seconds of its first and second half."""
    client = RetailLinkClient(sandbox.url, sandbox.url, login_mode="browser",
                              browser_options=options)
    started = time.perf_counter()
    client.start_login(DEFAULT_ACCOUNT.username, DEFAULT_ACCOUNT.password, DEFAULT_ACCOUNT.credid)
    first = time.perf_counter() - started
    code = sandbox.last_code() or ""
    started = time.perf_counter()
    client.complete_login(code)
    second = time.perf_counter() - started
    assert client.edr_report(547955).demo_id == 547955
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    options = BrowserOptions(settings.CHROMIUM_PATH, float(settings.BROWSER_LOGIN_TIMEOUT_SECONDS))
    with RemoteSandbox("--require-browser") as sandbox, MemoryPeak() as peak:
        runs = [sign_in(sandbox, options) for _ in range(args.runs)]

    totals = [first + second for first, second in runs]
    print(f"browser-mode sign-in against the sandbox (--require-browser), {args.runs} runs, "
          f"Chromium at {settings.CHROMIUM_PATH}")
    for i, (first, second) in enumerate(runs, 1):
        print(f"  run {i}: start_login {first:5.2f} s + complete_login {second:5.2f} s "
              f"= {first + second:5.2f} s")
    print(f"  sign-in: median {statistics.median(totals):.2f} s, worst {max(totals):.2f} s "
          f"(target < 10 s)")
    print(f"  Chromium peak (target < 400 MB): PSS {peak.pss / MB:.0f} MB; "
          f"RSS summed over its processes {peak.rss / MB:.0f} MB; USS {peak.uss / MB:.0f} MB")
    print(f"  Playwright driver (node) peak RSS: {peak.driver_rss / MB:.0f} MB")


if __name__ == "__main__":
    main()
