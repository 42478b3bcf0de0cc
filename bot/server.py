"""Runs the Slack app: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode, with the sweep.

Production HTTP behind a real WSGI server, several workers (each runs its own sweep; the
database claim keeps notices exactly-once):
    gunicorn --workers 4 --threads 8 --bind 0.0.0.0:3000 'bot.server:create_wsgi_app()'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.config import ConfigError, Settings, load_settings
from bot.db import session_scope, upgrade_head
from bot.operations import Operations
from bot.scheduler import SweepScheduler
from bot.sessions.preferences import BatchRecordService, PreferenceService
from bot.sessions.service import Clock, SessionService
from bot.slack.app import SlackDeps, build_app, web_client
from bot.slack.jobs import Jobs
from bot.slack.notifier import SlackNotifier
from bot.slack.poster import Poster

log = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
HTTP_THREADS = 32  # waitress: a burst of 30 slash commands is answered at once
HTTP_BACKLOG = 1024  # Python's http.server listens with 5 and drops bursts


@dataclass
class Runtime:
    """One process's Slack app, its dependencies and its sweep."""

    app: App
    deps: SlackDeps
    scheduler: SweepScheduler

    def start(self) -> None:
        with session_scope(self.deps.ops.factory) as db:
            interrupted = self.deps.batches.fail_interrupted(db)
        if interrupted:
            log.warning("%d EDR batch(es) of a stopped process marked failed", interrupted)
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop(wait=False)
        self.deps.jobs.shutdown(wait=False)

    def health(self) -> tuple[bool, dict[str, str]]:
        try:
            with self.deps.ops.factory() as db:
                db.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # reported, not raised: this is the health check
            database = f"unreachable ({type(exc).__name__})"
        scheduler = "running" if self.scheduler.running else "stopped"
        healthy = database == "ok" and scheduler == "running"
        return healthy, {"status": "ok" if healthy else "degraded", "database": database,
                         "scheduler": scheduler}


def build_runtime(settings: Settings, *, socket_mode: bool = False,
                  clock: Clock | None = None) -> Runtime:
    """The composition root: settings → database, Retail Link operations, Slack app, sweep.

    `clock` (tests) replaces the database's clock for the session store and its notices alike.
    """
    upgrade_head(settings.DATABASE_URL)
    ops = Operations.from_settings(settings, SessionService.from_settings(settings, clock=clock))
    client = web_client(settings)
    notifier = SlackNotifier(client, max(1, settings.SESSION_IDLE_TIMEOUT_SECONDS // 60),
                             clock=clock)
    deps = SlackDeps(settings, ops, PreferenceService(), BatchRecordService(),
                     Jobs(settings.SLACK_WORKERS), Poster(client), notifier)
    app = build_app(deps, client, socket_mode=socket_mode)
    scheduler = SweepScheduler(ops.factory, ops.store, notifier,
                               interval_seconds=settings.EXPIRY_SWEEP_SECONDS)
    return Runtime(app, deps, scheduler)


def wsgi_app(runtime: Runtime) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """Bolt's WSGI adapter for /slack/events plus a /healthz answering JSON."""
    slack = SlackRequestHandler(runtime.app)

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method == "GET":
            healthy, body = runtime.health()
            payload = json.dumps(body).encode()
            start_response("200 OK" if healthy else "503 Service Unavailable",
                           [("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload)))])
            return [payload]
        if path == "/slack/events" and method == "POST":
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"error": "not found"}']

    return application


def create_wsgi_app() -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """Entry point for gunicorn and other WSGI servers: builds the runtime and starts the sweep."""
    runtime = build_runtime(load_settings())
    runtime.start()
    return wsgi_app(runtime)


def serve_http(runtime: Runtime, port: int, host: str = "0.0.0.0") -> None:
    from waitress import serve

    runtime.start()
    try:
        log.warning("walmart-bot listening on http://%s:%s/slack/events", host, port)
        serve(wsgi_app(runtime), host=host, port=port, threads=HTTP_THREADS,
              backlog=HTTP_BACKLOG, connection_limit=HTTP_BACKLOG, ident="walmart-bot")
    finally:
        runtime.stop()


def serve_socket_mode(runtime: Runtime, settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.SLACK_APP_TOKEN is None:
        raise ConfigError("SLACK_APP_TOKEN: not set (an xapp- token with connections:write)")
    runtime.start()
    try:
        SocketModeHandler(runtime.app, settings.SLACK_APP_TOKEN.get_secret_value()).start()
    finally:
        runtime.stop()
