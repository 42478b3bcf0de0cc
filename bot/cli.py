"""`walmart-bot` sub-commands: argument parsing and terminal output only; the work is in services."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.edr.command import USAGE, BadEdrArguments, parse_edr_words
from bot.edr.kinds import KIND_HELP, NoSupervisorEvents
from bot.edr.service import EdrRequest
from bot.retail_link.errors import RetailLinkError

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_WALMART = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="walmart-bot",
        description="Walmart Retail Link Event Detail Reports from the terminal (and Slack).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    kinds = "; ".join(f"{k.value}: {text}" for k, text in KIND_HELP.items())
    edr = sub.add_parser(
        "edr", help="print a day's EDRs (or given event ids) as PDFs",
        description=f"Fetch Event Detail Reports and write them as PDFs. Usage: {USAGE}. "
                    f"Kinds — {kinds}.",
        epilog="examples: walmart-bot edr 2024-10-05 core --sandbox | walmart-bot edr saturday "
               "| walmart-bot edr 548021 548104",
    )
    edr.add_argument("words", nargs="+", metavar="DATE [KIND] | EVENT_ID ...")
    edr.add_argument("--store", type=int, help="club number (default WALMART_STORE_NUMBER)")
    edr.add_argument("--out", type=Path, default=Path("edr-out"),
                     help="folder for the PDFs (default ./edr-out)")
    edr.add_argument("--include-cancelled", action="store_true",
                     help="also print events cancelled at the store")
    edr.add_argument("--sandbox", action="store_true",
                     help="run against a built-in Retail Link sandbox: no account, no network")

    sandbox = sub.add_parser("sandbox", help="run the local Retail Link sandbox server")
    sandbox.add_argument("--port", type=int, default=8765)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr,
    )
    if args.command == "sandbox":
        from bot.retail_link.sandbox import serve

        return serve(args.port)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(f"Configuration error — {exc}", EXIT_USAGE)
    if args.command == "edr":
        return _edr(args, settings)
    return _fail(f"unknown command {args.command}", EXIT_USAGE)


def _edr(args: argparse.Namespace, settings: Settings) -> int:
    from bot.terminal import TerminalRun  # rich and the service stack load only when needed

    try:
        target = parse_edr_words(args.words, date.today())
    except BadEdrArguments as exc:
        return _fail(str(exc), EXIT_USAGE)
    store = args.store or settings.WALMART_STORE_NUMBER or (8135 if args.sandbox else None)
    if store is None:
        return _fail("No store: pass --store N or set WALMART_STORE_NUMBER.", EXIT_USAGE)
    if store < 1 or store > 99999:
        return _fail(f"--store {store} is not a club number.", EXIT_USAGE)
    request = EdrRequest(store, target.day, target.kind, target.event_ids,
                         include_cancelled=args.include_cancelled)
    with TerminalRun(settings, sandbox=args.sandbox) as run:
        try:
            return run.edr(request, args.out)
        except NoSupervisorEvents as exc:
            return _fail(str(exc), EXIT_USAGE)
        except RetailLinkError as exc:
            return _fail(str(exc), EXIT_WALMART)
        except ConfigError as exc:
            return _fail(f"Configuration error — {exc}", EXIT_USAGE)


def _fail(message: str, code: int) -> int:
    print(f"walmart-bot: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
