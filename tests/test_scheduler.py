"""bot.scheduler: the sweep job starts and stops cleanly, runs the sweep, and survives failures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, session_factory, session_scope
from bot.scheduler import JOB_ID, SweepScheduler, run_sweep
from bot.sessions.notifier import RecordingNotifier, SessionNotice
from bot.sessions.service import NotSignedIn, SessionService
from tests.sessions_fixtures import (
    IDLE,
    FakeClock,
    sign_in,
)

Factory = sessionmaker[Session]


class SignallingNotifier(RecordingNotifier):
    def __init__(self) -> None:
        super().__init__()
        self.expired_event = threading.Event()

    def session_expired(self, notice: SessionNotice) -> None:
        super().session_expired(notice)
        self.expired_event.set()


class FailingOnce(RecordingNotifier):
    def __init__(self, bad_user: str) -> None:
        super().__init__()
        self.bad_user = bad_user

    def session_expired(self, notice: SessionNotice) -> None:
        if notice.user_id == self.bad_user:
            raise RuntimeError("Slack is down")
        super().session_expired(notice)


def test_the_job_sweeps_on_its_interval_and_stops_cleanly(factory: Factory,
                                                          service: SessionService,
                                                          clock: FakeClock) -> None:
    sign_in(factory, service, "T1", "U1")
    clock.advance(IDLE)
    notifier = SignallingNotifier()
    scheduler = SweepScheduler(factory, service, notifier, interval_seconds=30)
    with scheduler:
        assert scheduler.running
        job = scheduler._scheduler.get_job(JOB_ID)
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval.total_seconds() == 30
        assert isinstance(scheduler._scheduler._lookup_jobstore("default"), MemoryJobStore)
        job.modify(next_run_time=datetime.now(UTC))  # run now rather than in 30 s
        assert notifier.expired_event.wait(timeout=10)
    assert not scheduler.running
    assert [n.user_id for n in notifier.expired] == ["U1"]
    scheduler.stop()  # stopping twice is harmless


def test_each_scheduler_has_its_own_job_store(factory: Factory, service: SessionService) -> None:
    a = SweepScheduler(factory, service, RecordingNotifier(), interval_seconds=30)
    b = SweepScheduler(factory, service, RecordingNotifier(), interval_seconds=30)
    a.start()
    b.start()
    try:
        assert a._scheduler._lookup_jobstore("default") is not b._scheduler._lookup_jobstore(
            "default")
        assert len(a._scheduler.get_jobs()) == len(b._scheduler.get_jobs()) == 1
    finally:
        a.stop()
        b.stop()


def test_a_failing_notifier_costs_only_its_own_notice(factory: Factory, service: SessionService,
                                                      clock: FakeClock) -> None:
    for user in ("U1", "U2", "U3"):
        sign_in(factory, service, "T1", user)
    clock.advance(IDLE)
    notifier = FailingOnce("U2")
    result = run_sweep(factory, service, notifier)
    assert sorted(n.user_id for n in result.expired) == ["U1", "U2", "U3"]
    assert sorted(n.user_id for n in notifier.expired) == ["U1", "U3"]
    with session_scope(factory) as db, pytest.raises(NotSignedIn):
        service.use(db, "T1", "U2")  # ended all the same; never notified twice
    assert run_sweep(factory, service, notifier).expired == []


def test_a_database_outage_does_not_kill_the_job(service: SessionService) -> None:
    broken = session_factory(make_engine("postgresql://nobody@127.0.0.1:1/none",
                                         connect_args={"connect_timeout": 1}))
    scheduler = SweepScheduler(broken, service, RecordingNotifier(), interval_seconds=30)
    assert scheduler.run_once() is None  # logged, and the next interval tries again
