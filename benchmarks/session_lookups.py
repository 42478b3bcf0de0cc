"""Session lookups+slides per second (`SessionService.use`, one unit of work each) on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/session_lookups.py [--sessions 1000] [--seconds 3] [--threads 1 4]

Each database gets 1,000 signed-in sessions (migrated with alembic, as in production, and timed
by the database clock); every lookup picks a random user, slides the expiry, decrypts the state
and commits. PostgreSQL runs in a throwaway schema at --postgres-url and is skipped if absent.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.db import make_engine, session_factory, session_scope, upgrade_head
from bot.sessions.crypto import Cipher
from bot.sessions.service import SessionService

# About the size of a real export_state(): a dozen cookies and an 8-hour JWT.
STATE = b'{"v":1,"stage":"signed_in","cookies":[' + b'{"name":"c","value":"' + b"x" * 1800 + b'"}]}'


def run(url: str, sessions: int, seconds: float, threads: int) -> tuple[float, float, float]:
    """(lookups per second, median ms, 99th percentile ms)."""
    engine = make_engine(url, pool_size=max(5, threads))
    factory = session_factory(engine)
    service = SessionService(Cipher([Fernet.generate_key()]), idle_timeout_seconds=600)
    users = [f"U{i:05d}" for i in range(sessions)]
    with session_scope(factory) as db:
        for user in users:
            service.begin_sign_in(db, "T1", user, STATE, replace=True)
            service.complete_sign_in(db, "T1", user, STATE)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    deadline = time.perf_counter() + seconds

    def worker(mine: list[float]) -> None:
        rng = random.Random()
        while (started := time.perf_counter()) < deadline:
            with session_scope(factory) as db:
                service.use(db, "T1", rng.choice(users))
            mine.append(time.perf_counter() - started)

    pool = [threading.Thread(target=worker, args=(lat,)) for lat in latencies]
    begun = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - begun
    engine.dispose()
    every = sorted(x for lat in latencies for x in lat)
    p99 = every[int(len(every) * 0.99) - 1] if every else 0.0
    return len(every) / elapsed, statistics.median(every) * 1000, p99 * 1000


def postgres_schema(base_url: str) -> tuple[str, str] | None:
    libpq = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"wbbench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.Error as exc:
        print(f"postgresql: skipped ({str(exc).strip().splitlines()[0]})")
        return None
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False), name


def drop_schema(base_url: str, name: str) -> None:
    libpq = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    print(f"{args.sessions} active sessions; each lookup = use() in its own transaction "
          f"(UPDATE … RETURNING + decrypt + commit), {args.seconds:g} s per run")
    print(f"{'database':<12}{'threads':>8}{'lookups/s':>12}{'median ms':>11}{'p99 ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_head(url)
        for threads in args.threads:
            rate, median, p99 = run(url, args.sessions, args.seconds, threads)
            print(f"{'sqlite':<12}{threads:>8}{rate:>12,.0f}{median:>11.2f}{p99:>9.2f}")
    schema = postgres_schema(args.postgres_url)
    if schema:
        url, name = schema
        try:
            upgrade_head(url)
            for threads in args.threads:
                rate, median, p99 = run(url, args.sessions, args.seconds, threads)
                print(f"{'postgresql':<12}{threads:>8}{rate:>12,.0f}{median:>11.2f}{p99:>9.2f}")
        finally:
            drop_schema(args.postgres_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
