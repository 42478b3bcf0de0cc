"""The expiry sweep, run every EXPIRY_SWEEP_SECONDS by an in-process APScheduler 3 job."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.sessions.notifier import Notifier
from bot.sessions.service import SessionService, SweepResult

log = logging.getLogger(__name__)

JOB_ID = "session-sweep"


def run_sweep(factory: sessionmaker[Session], service: SessionService, notifier: Notifier, *,
              now: datetime | None = None, limit: int | None = None) -> SweepResult:
    """One sweep as its own unit of work: claim and commit first, then hand notices off.

    Notifying after the commit means a notice is only sent for a claim that stuck; a notifier
    failure is logged and does not un-end the session (at most one notice, never two).
    """
    with session_scope(factory) as db:
        result = service.sweep(db, now=now, limit=limit)
    for notice in result.expiring:
        _deliver(notifier.session_expiring, notice)
    for notice in result.expired:
        _deliver(notifier.session_expired, notice)
    if result.expired or result.expiring or result.abandoned:
        log.info("sweep: %d expired, %d warned, %d abandoned sign-ins", len(result.expired),
                 len(result.expiring), result.abandoned)
    return result


def _deliver(method: object, notice: object) -> None:
    try:
        method(notice)  # type: ignore[operator]
    except Exception:  # one failing DM must not cost everyone else their notice
        log.exception("notifier failed for %s/%s", getattr(notice, "team_id", "?"),
                      getattr(notice, "user_id", "?"))


class SweepScheduler:
    """Owns a BackgroundScheduler with the one sweep job. Use as a context manager or start/stop.

    The job store is in memory and private to the process: several instances each sweep, and
    the database claim (not APScheduler) makes every notice go out once.
    """

    def __init__(self, factory: sessionmaker[Session], service: SessionService,
                 notifier: Notifier, *, interval_seconds: int) -> None:
        self.factory, self.service, self.notifier = factory, service, notifier
        self.interval_seconds = interval_seconds
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": interval_seconds},
            timezone="UTC",
        )

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def run_once(self) -> SweepResult | None:
        try:
            return run_sweep(self.factory, self.service, self.notifier)
        except Exception:  # the database may be briefly away; the next run tries again
            log.exception("session sweep failed")
            return None

    def start(self) -> None:
        if self._scheduler.running:
            return
        self._scheduler.add_job(self.run_once, "interval", seconds=self.interval_seconds,
                                id=JOB_ID, replace_existing=True)
        self._scheduler.start()
        log.info("session sweep every %d s", self.interval_seconds)

    def stop(self, *, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let a sweep in progress finish first."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def __enter__(self) -> SweepScheduler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
