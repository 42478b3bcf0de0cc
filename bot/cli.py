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
from bot.retail_link.sandbox_data import FIXTURE_STORE
from bot.sessions.service import SessionStoreError

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

    serve = sub.add_parser(
        "serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, or --http)",
        description="Run the Slack app. Socket Mode when SLACK_APP_TOKEN is set; --http serves "
                    "POST /slack/events and GET /healthz instead.")
    serve.add_argument("--http", action="store_true", help="serve HTTP instead of Socket Mode")
    serve.add_argument("--port", type=int, help="HTTP port (default PORT, 3000)")
    serve.add_argument("--sandbox", action="store_true",
                       help="talk to an in-process Retail Link sandbox (its SMS codes are "
                            "printed here) — try the app before wiring Walmart credentials")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: bring DATABASE_URL to the newest schema")

    sandbox = sub.add_parser("sandbox", help="run the local Retail Link sandbox server")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--require-browser", action="store_true",
                         help="refuse scripted logins with 412, like Walmart's bot defence")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr,
    )
    if args.command == "sandbox":
        from bot.retail_link.sandbox import serve

        return serve(args.port, require_browser=args.require_browser)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(f"Configuration error — {exc}", EXIT_USAGE)
    if args.command == "edr":
        return _edr(args, settings)
    if args.command == "db":
        return _db(args, settings)
    if args.command == "serve":
        return _serve(args, settings)
    return _fail(f"unknown command {args.command}", EXIT_USAGE)


def _edr(args: argparse.Namespace, settings: Settings) -> int:
    from bot.terminal import TerminalRun  # rich and the service stack load only when needed

    try:
        target = parse_edr_words(args.words, date.today())
    except BadEdrArguments as exc:
        return _fail(str(exc), EXIT_USAGE)
    store = args.store or settings.WALMART_STORE_NUMBER or (FIXTURE_STORE if args.sandbox else None)
    if store is None:
        return _fail("No store: pass --store N or set WALMART_STORE_NUMBER.", EXIT_USAGE)
    if store < 1 or store > 99999:
        return _fail(f"--store {store} is not a club number.", EXIT_USAGE)
    request = EdrRequest(store, target.day, target.kind, target.event_ids,
                         include_cancelled=args.include_cancelled)
    try:
        with TerminalRun(settings, sandbox=args.sandbox) as run:
            return run.edr(request, args.out)
    except NoSupervisorEvents as exc:
        return _fail(str(exc), EXIT_USAGE)
    except (RetailLinkError, SessionStoreError) as exc:
        return _fail(str(exc), EXIT_WALMART)
    except ConfigError as exc:
        return _fail(f"Configuration error — {exc}", EXIT_USAGE)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import build_runtime, serve_http, serve_socket_mode

    if not args.http and settings.SLACK_APP_TOKEN is None:
        return _fail("SLACK_APP_TOKEN is not set: set it for Socket Mode, or pass --http.",
                     EXIT_USAGE)
    sandbox = None
    try:
        if args.sandbox:
            from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

            sandbox = SandboxServer(echo_codes=True).start()
            settings = settings.for_sandbox(sandbox.url, DEFAULT_ACCOUNT.username,
                                            DEFAULT_ACCOUNT.password, DEFAULT_ACCOUNT.credid,
                                            FIXTURE_STORE)
            print(f"Retail Link sandbox at {sandbox.url}; its SMS codes appear below.",
                  file=sys.stderr)
        runtime = build_runtime(settings, socket_mode=not args.http)
        if args.http:
            serve_http(runtime, args.port or settings.PORT)
        else:
            serve_socket_mode(runtime, settings)
    except ConfigError as exc:
        return _fail(f"Configuration error — {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        pass
    finally:
        if sandbox is not None:
            sandbox.stop()
    return EXIT_OK


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import upgrade_head

    upgrade_head(settings.DATABASE_URL)
    print(f"Database at head: {_redacted(settings.DATABASE_URL)}")
    return EXIT_OK


def _redacted(url: str) -> str:
    """A database URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user_password = head.partition("//")
    return f"{scheme}//{user_password.split(':', 1)[0]}:***@{tail}"


def _fail(message: str, code: int) -> int:
    print(f"walmart-bot: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
