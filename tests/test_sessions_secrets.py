"""Secrets at rest: after a real sign-in and a batch, the database bytes hold no secret in the clear."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.retail_link.client import RetailLinkClient
from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer
from bot.sessions.service import SessionService
from tests.sessions_fixtures import (
    POSTGRES_URL,
)

Factory = sessionmaker[Session]
EVENTS = [547955, 548230, 547812]
TABLES = ("retail_link_accounts", "retail_link_sessions", "retail_link_operations")


def sign_in_and_run_a_batch(sandbox: SandboxServer, factory: Factory,
                            service: SessionService) -> tuple[RetailLinkClient, str]:
    """The Slack flow: save the login, text a code, complete in a new client, fetch EDRs."""
    with session_scope(factory) as db:
        service.save_account(db, "T1", "U1", username=DEFAULT_ACCOUNT.username,
                             password=DEFAULT_ACCOUNT.password,
                             credential_id=DEFAULT_ACCOUNT.credid)
    with session_scope(factory) as db:
        account = service.account_for(db, "T1", "U1")
    first = RetailLinkClient(sandbox.url, sandbox.url)
    first.start_login(account.username, account.password, account.credential_id)
    with session_scope(factory) as db:
        service.begin_sign_in(db, "T1", "U1", first.export_state())
    code = sandbox.last_code(DEFAULT_ACCOUNT.username)
    assert code
    with session_scope(factory) as db:
        client = RetailLinkClient.from_state(service.get_pending(db, "T1", "U1").client_state,
                                             sandbox.url, sandbox.url)
    client.complete_login(code)
    with session_scope(factory) as db:
        service.complete_sign_in(db, "T1", "U1", client.export_state())
    with session_scope(factory) as db:
        client = RetailLinkClient.from_state(service.use(db, "T1", "U1").client_state,
                                             sandbox.url, sandbox.url)
    fetched = [client.edr_report(event).demo_id for event in EVENTS]
    assert fetched == EVENTS
    with session_scope(factory) as db:
        service.save_state(db, "T1", "U1", client.export_state())
        service.record_operation(db, "T1", "U1", "edr", fetched, "ok")
    return client, code


def secrets_of(client: RetailLinkClient, code: str) -> dict[str, str]:
    state = json.loads(client.export_state())
    found = {"password": DEFAULT_ACCOUNT.password, "username": DEFAULT_ACCOUNT.username,
             "credential id": DEFAULT_ACCOUNT.credid, "bearer": state["bearer"]}
    found.update({f"cookie {c['name']}": c["value"] for c in state["cookies"]
                  if len(c["value"]) >= 8})  # "0", "N": flags, not secrets
    assert any(name.startswith("cookie auth-token") for name in found)
    return found


def leaks(blob: bytes, secrets: dict[str, str], code: str) -> list[str]:
    named = [name for name, value in secrets.items() if value.encode() in blob]
    # A six-digit code could occur by chance inside other numbers; only a standalone one counts.
    if re.search(rb"(?<![0-9])" + code.encode() + rb"(?![0-9])", blob):
        named.append("sms code")
    return named


def postgres_dump(schema_url: str) -> bytes:
    url = make_url(POSTGRES_URL)
    schema = make_url(schema_url).query["options"].split("=", 1)[1]
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        return subprocess.run(
            [pg_dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", "-d", url.database or "test", "-n", schema,
             "--data-only", "--inserts"],
            check=True, capture_output=True, timeout=30).stdout
    rows = []  # the same rows, as COPY would dump them
    with psycopg.connect(make_url(schema_url).set(drivername="postgresql")
                         .render_as_string(hide_password=False)) as conn:
        for table in TABLES:
            with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                rows.extend(bytes(chunk) for chunk in copy)
    return b"".join(rows)


def test_no_secret_is_stored_in_the_clear(sandbox: SandboxServer, database_url: str,
                                          factory: Factory, service: SessionService,
                                          tmp_path: Path) -> None:
    client, code = sign_in_and_run_a_batch(sandbox, factory, service)
    secrets = secrets_of(client, code)
    if database_url.startswith("sqlite"):
        files = sorted(tmp_path.glob("walmart_bot.db*"))
        assert any(f.name.endswith("-wal") for f in files)  # recent writes live here
        blob = b"".join(f.read_bytes() for f in files)
    else:
        blob = postgres_dump(database_url)
    # The dump really holds the rows: the audit line and encrypted state are in it.
    assert b"547955" in blob and b"gAAAAA" in blob  # Fernet tokens start with version 0x80
    assert leaks(blob, secrets, code) == []


def test_the_leak_check_finds_a_secret_stored_in_the_clear(sandbox: SandboxServer,
                                                          database_url: str, factory: Factory,
                                                          service: SessionService,
                                                          tmp_path: Path) -> None:
    client, code = sign_in_and_run_a_batch(sandbox, factory, service)
    secrets = secrets_of(client, code)
    with session_scope(factory) as db:  # as a careless implementation would
        service.record_operation(db, "T1", "U1", f"code {code}", [], secrets["bearer"][:60])
    if database_url.startswith("sqlite"):
        blob = b"".join(f.read_bytes() for f in sorted(tmp_path.glob("walmart_bot.db*")))
    else:
        blob = postgres_dump(database_url)
    found = leaks(blob, {"bearer prefix": secrets["bearer"][:60]}, code)
    assert found == ["bearer prefix", "sms code"]
