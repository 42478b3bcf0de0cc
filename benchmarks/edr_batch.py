"""Prints the wall time of a concurrent EDR batch next to fetching the same EDRs one by one.

Run: .venv/bin/python benchmarks/edr_batch.py [--events 60] [--latency 0.2] [--concurrency 6]
Target (issue 2): at N=60, L=200 ms, concurrency 6 the batch is at least 5x faster.
The sandbox runs in its own process, as Walmart would: its work must not share our GIL.
"""

from __future__ import annotations

import argparse
import time

from remote_sandbox import RemoteSandbox  # beside this script

from bot.edr.service import EdrRequest, EdrService
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.sandbox import DEFAULT_ACCOUNT

DAY = "2025-01-10"
STORE = 8135


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=6)
    args = parser.parse_args()
    with RemoteSandbox(latency=args.latency) as sandbox:
        ids = sandbox.control(action="add_generated_day", store=STORE, date=DAY,
                              n_events=args.events)
        assert isinstance(ids, list)
        client = RetailLinkClient(sandbox.url, sandbox.url, concurrency=args.concurrency)
        client.start_login(DEFAULT_ACCOUNT.username, DEFAULT_ACCOUNT.password,
                           DEFAULT_ACCOUNT.credid)
        client.complete_login(sandbox.last_code() or "")

        started = time.perf_counter()
        for event_id in ids:  # the original's pattern: one edrReport after another (§7)
            client.edr_report(event_id)
        sequential = time.perf_counter() - started

        service = EdrService(client, concurrency=args.concurrency)
        started = time.perf_counter()
        batch = service.run(EdrRequest(STORE, event_ids=tuple(ids)))
        concurrent = time.perf_counter() - started

    assert len(batch.files) == len(ids), [o.reason for o in batch.failures]
    print(f"{args.events} events, {args.latency * 1000:.0f} ms Walmart latency, "
          f"concurrency {args.concurrency}")
    print(f"  one by one (fetch only):            {sequential:6.2f} s")
    print(f"  concurrent batch (fetch + render):  {concurrent:6.2f} s")
    print(f"  floor at this concurrency:          {args.events / args.concurrency * args.latency:6.2f} s")
    print(f"  speed-up: {sequential / concurrent:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
