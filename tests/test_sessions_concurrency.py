"""Many threads, and separate processes, using and sweeping one database: one notice per session."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.scheduler import run_sweep
from bot.sessions.models import RetailLinkSession
from bot.sessions.notifier import RecordingNotifier
from bot.sessions.service import NotSignedIn, SessionService
from tests.sessions_fixtures import (
    FakeClock,
    client_state,
)

ROOT = Path(__file__).resolve().parents[1]
Factory = sessionmaker[Session]


def sign_in_many(factory: Factory, service: SessionService, users: list[str]) -> None:
    with session_scope(factory) as db:
        for user in users:
            service.begin_sign_in(db, "T1", user, client_state(user, 0))
            service.complete_sign_in(db, "T1", user, client_state(user, 1))


def run_threads(targets: list) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target) -> None:  # type: ignore[no-untyped-def]
        try:
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_threads_using_and_sweeping_notify_each_expired_session_once(
        factory: Factory, service: SessionService, clock: FakeClock) -> None:
    stale = [f"stale{i}" for i in range(40)]
    fresh = [f"fresh{i}" for i in range(40)]
    sign_in_many(factory, service, stale)
    clock.advance(400)
    sign_in_many(factory, service, fresh)
    clock.advance(300)  # stale expired 100 s ago; fresh have 300 s left
    notifier = RecordingNotifier()
    wrongly_used: list[str] = []
    wrongly_refused: list[str] = []

    def user() -> None:
        everyone = stale + fresh
        for _ in range(2):
            random.shuffle(everyone)
            for name in everyone:
                try:
                    with session_scope(factory) as db:
                        active = service.use(db, "T1", name)
                    if name in stale or active.client_state != client_state(name, 1):
                        wrongly_used.append(name)
                except NotSignedIn:
                    if name in fresh:
                        wrongly_refused.append(name)

    def sweeper() -> None:
        for _ in range(10):
            run_sweep(factory, service, notifier, limit=5)

    assert run_threads([user] * 4 + [sweeper] * 4) == []
    assert (wrongly_used, wrongly_refused) == ([], [])
    counts = Counter(n.user_id for n in notifier.expired)
    assert set(counts) == set(stale) and set(counts.values()) == {1}
    assert notifier.expiring == []
    run_sweep(factory, service, notifier)
    assert len(notifier.expired) == len(stale)
    with session_scope(factory) as db:
        live = db.execute(select(func.count()).where(
            RetailLinkSession.state == "signed_in")).scalar()
    assert live == len(fresh)


SWEEPER = """
import json, sys, time
from pathlib import Path
from cryptography.fernet import Fernet
from bot.db import make_engine, session_factory
from bot.scheduler import run_sweep
from bot.sessions.crypto import Cipher
from bot.sessions.notifier import RecordingNotifier
from bot.sessions.service import SessionService

url, go = sys.argv[1], Path(sys.argv[2])
engine = make_engine(url)
factory = session_factory(engine)
service = SessionService(Cipher([Fernet.generate_key()]))  # the database's own clock
notifier = RecordingNotifier()
with engine.connect():
    pass
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
rounds = 0
while run_sweep(factory, service, notifier, limit=8).expired:
    rounds += 1
print(json.dumps({"users": [n.user_id for n in notifier.expired], "rounds": rounds}), flush=True)
"""


def test_two_processes_sweeping_one_database_notify_each_session_once(
        database_url: str, factory: Factory, service: SessionService, tmp_path: Path) -> None:
    # Signed in "in 2024" by the test clock: expired by the database's clock, which the
    # sweeping processes use.
    users = [f"user{i}" for i in range(500)]
    sign_in_many(factory, service, users)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", SWEEPER, database_url, str(go)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.touch()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    results = []
    for (out, err), proc in zip(outputs, procs, strict=True):
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    claimed = [r["users"] for r in results]
    assert sum(len(c) for c in claimed) == len(users)
    assert sorted(claimed[0] + claimed[1]) == sorted(users)  # each exactly once, none missed
    if not database_url.startswith("sqlite"):  # SQLite's one writer may well serve one process
        assert all(claimed), f"one process claimed nothing: {[len(c) for c in claimed]}"
    with session_scope(factory) as db:
        assert db.execute(select(func.count()).where(
            RetailLinkSession.end_notified_at.is_not(None))).scalar() == len(users)
