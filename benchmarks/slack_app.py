"""Prints the Slack app's ack latency under a burst and the end-to-end time of a 60-event EDR batch.

Run: .venv/bin/python benchmarks/slack_app.py [--burst 30] [--rounds 5] [--events 60] [--latency 0.2]
Targets (issue 4): p99 ack ≤ 300 ms for 30 simultaneous slash commands (Slack gives up at 3 s);
the batch well under the sequential floor (events × latency).

The real app serves HTTP (waitress, as `walmart-bot serve --http`), its WebClient talks to the fake
Slack API from tests/, and the Retail Link sandbox runs in its own process, as Walmart would: its
sleeps and JSON must not share our GIL. Acks are timed from sending the signed request to the HTTP
answer; the batch from sending `/walmart edr …` to the fake receiving the parent's final chat.update.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Slack and harness live in tests/

from remote_sandbox import RemoteSandbox  # noqa: E402  (beside this script)

from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_harness import SlackHarness, harness_settings  # noqa: E402
from tests.slack_requests import slash_command_body  # noqa: E402

DAY = "2025-01-10"
STORE = 8135


def burst(bot: SlackHarness, fake: FakeSlack, size: int) -> list[float]:
    """`size` slash commands sent at once (half status, half help); each one's ack time in s."""
    bodies = [slash_command_body("status" if i % 2 else "help", user_id=f"UB{i:03d}",
                                 trigger_id=fake.new_trigger_id(f"UB{i:03d}"),
                                 response_url=fake.response_url(f"UB{i:03d}", "C0PUBLIC"))
              for i in range(size)]
    start = threading.Barrier(size)

    def one(body: str) -> float:
        start.wait()
        began = time.perf_counter()
        response = bot.post(body)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise SystemExit(f"ack failed: HTTP {response.status_code} {response.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(one, bodies))


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(title: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(f"  {title:<34} p50 {percentile(ms, 50):6.1f} ms   p99 {percentile(ms, 99):6.1f} ms   "
          f"max {max(ms):6.1f} ms   (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()

    sandbox = RemoteSandbox(latency=args.latency)
    fake = FakeSlack().start()
    workdir = tempfile.TemporaryDirectory()
    try:
        settings = harness_settings(fake, sandbox, f"sqlite:///{Path(workdir.name) / 'bot.db'}")
        bot = SlackHarness(fake, sandbox, settings).start()
        try:
            sandbox.control(action="add_generated_day", store=STORE, date=DAY, n_events=args.events)
            bot.command("help")  # Bolt checks the token on its first request (auth.test)
            bot.sign_in()

            idle = [t for _ in range(args.rounds) for t in burst(bot, fake, args.burst)]

            began = time.monotonic()
            assert bot.command(f"edr {DAY}").status_code == 200
            parent = fake.wait_for("chat.postMessage", predicate=lambda c: c.ok
                                   and c.params["channel"] == "C0PUBLIC")[0]
            busy = burst(bot, fake, args.burst)  # while the batch fetches
            final = fake.wait_for("chat.update", timeout=300, predicate=lambda c: (
                c.params["ts"] == parent.response["ts"] and " in the thread" in c.params["text"]))[-1]
            uploading = next(c for c in fake.calls("chat.update")
                             if c.params["ts"] == parent.response["ts"]
                             and "uploading" in c.params["text"])
            files = fake.files_in_thread("C0PUBLIC", parent.response["ts"])
        finally:
            bot.stop()
    finally:
        fake.stop()
        sandbox.stop()
        workdir.cleanup()

    concurrency = settings.EDR_CONCURRENCY
    print(f"Ack latency, {args.burst} simultaneous slash commands over HTTP (target p99 <= 300 ms)")
    report(f"idle ({args.rounds} bursts)", idle)
    report("during a running batch (1 burst)", busy)
    print(f"\n{args.events}-event batch at {args.latency * 1000:.0f} ms Walmart latency, "
          f"EDR concurrency {concurrency}")
    print(f"  parent message posted:      {parent.time - began:6.2f} s")
    print(f"  all EDRs fetched/rendered:  {uploading.time - began:6.2f} s")
    print(f"  final parent update:        {final.time - began:6.2f} s   ({len(files)} files in the thread)")
    print(f"  sequential floor:           {args.events * args.latency:6.2f} s   "
          f"({args.events} x {args.latency:g} s, fetches alone)")
    print(f"  floor at this concurrency:  {(args.events / concurrency + 1) * args.latency:6.2f} s   "
          f"(listing + {args.events}/{concurrency} rounds)")
    print(f"  final text: {final.params['text']}")


if __name__ == "__main__":
    main()
