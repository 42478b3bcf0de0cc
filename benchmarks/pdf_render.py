"""Renders per second of `render_edr` on the fixture EDRs, and the time to combine a day's batch."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

# Run as a plain script (`.venv/bin/python benchmarks/pdf_render.py`): make `bot` importable.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from bot.edr.pdf import render_combined, render_edr  # noqa: E402
from bot.edr.report import EdrReport, build_report  # noqa: E402
from bot.retail_link.models import Edr  # noqa: E402

FIXTURES = ROOT / "bot" / "retail_link" / "sandbox_data" / "edr"
STORE = 8135
DAY = "2024-10-05"  # the fixture day: its 12 events are the batch a store would print at once
PRINTED_AT = datetime(2024, 10, 5, 7, 42)


def load_reports() -> list[EdrReport]:
    return [
        build_report(Edr.parse(json.loads(path.read_text())), STORE, printed_at=PRINTED_AT)
        for path in sorted(FIXTURES.glob("*.json"))
    ]


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def rate(reports: list[EdrReport], seconds: float) -> float:
    """Renders per second, cycling through `reports` for at least `seconds` after a warm-up."""
    for report in reports:
        render_edr(report)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for report in reports:
            render_edr(report)
        count += len(reports)
    return count / (time.perf_counter() - start)


def best_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()

    reports = load_reports()
    pages = {report.event_id: page_count(render_edr(report)) for report in reports}
    single = [r for r in reports if pages[r.event_id] == 1]
    multi = [r for r in reports if pages[r.event_id] > 1]
    day = [r for r in reports if r.file_date == DAY]

    print(f"single-page EDRs ({len(single)} fixtures): {rate(single, args.seconds):7.1f} renders/s")
    for report in multi:
        per_second = rate([report], args.seconds)
        print(f"EDR {report.event_id} ({len(report.items or ())} items, "
              f"{pages[report.event_id]} pages):  {per_second:7.1f} renders/s")

    rendered = [render_edr(r) for r in day]
    merge = best_time(lambda: render_combined(rendered), repeats=10)
    full = best_time(lambda: render_combined(day), repeats=5)
    total_pages = page_count(render_combined(rendered))
    print(f"combined PDF of the {len(day)} {DAY} EDRs ({total_pages} pages): "
          f"merge {merge * 1000:.1f} ms, render + merge {full * 1000:.1f} ms")


if __name__ == "__main__":
    main()
