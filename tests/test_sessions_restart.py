"""A sign-in outlives its process: each step below runs in a new Python process against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from bot.retail_link.sandbox import DEFAULT_ACCOUNT, SandboxServer

ROOT = Path(__file__).resolve().parents[1]

# What the terminal command does, one step per process, wired from the settings alone.
STEP = """
import sys
from bot.config import load_settings
from bot.db import make_engine, session_factory, session_scope, upgrade_head
from bot.retail_link.client import RetailLinkClient
from bot.sessions.service import SessionService

settings = load_settings()
upgrade_head(settings.DATABASE_URL)  # as the server does at start
factory = session_factory(make_engine(settings.DATABASE_URL))
store = SessionService.from_settings(settings)
team, user, step = "terminal", "alice", sys.argv[1]


def restore(state):
    return RetailLinkClient.from_state(state, settings.RETAIL_LINK_LOGIN_URL,
                                       settings.RETAIL_LINK_URL)


if step == "begin":
    account = store.default_account
    client = RetailLinkClient(settings.RETAIL_LINK_LOGIN_URL, settings.RETAIL_LINK_URL)
    client.start_login(account.username, account.password, account.credential_id)
    with session_scope(factory) as db:
        store.begin_sign_in(db, team, user, client.export_state())
elif step == "complete":
    with session_scope(factory) as db:
        client = restore(store.get_pending(db, team, user).client_state)
    client.complete_login(sys.argv[2])
    with session_scope(factory) as db:
        store.complete_sign_in(db, team, user, client.export_state())
elif step == "fetch":
    with session_scope(factory) as db:
        client = restore(store.use(db, team, user).client_state)
    edr = client.edr_report(int(sys.argv[2]))
    with session_scope(factory) as db:
        store.save_state(db, team, user, client.export_state())
        store.record_operation(db, team, user, "edr", [edr.demo_id], "ok")
    print(edr.demo_id, edr.demo_date)
"""


def run_step(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", STEP, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_new_process_fetches_an_edr_with_the_restored_session(
        sandbox: SandboxServer, database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WALMART_", "RETAIL_LINK_", "BOT_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": database_url,
        "RETAIL_LINK_LOGIN_URL": sandbox.url, "RETAIL_LINK_URL": sandbox.url,
        "WALMART_EDR_USERNAME": DEFAULT_ACCOUNT.username,
        "WALMART_EDR_PASSWORD": DEFAULT_ACCOUNT.password,
        "WALMART_EDR_MFA_CREDENTIAL_ID": DEFAULT_ACCOUNT.credid,
    })
    if not database_url.startswith("sqlite"):
        env["BOT_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    # else: the first process creates walmart_bot.db.key and the later ones must find it

    run_step(env, "begin")
    code = sandbox.last_code(DEFAULT_ACCOUNT.username)
    assert code
    run_step(env, "complete", code)  # the code reaches a different process than sent it
    first = run_step(env, "fetch", "547955")
    second = run_step(env, "fetch", "548230")  # a later run: no new sign-in needed

    assert first.split()[0] == "547955" and second.split()[0] == "548230"
    paths = [r.path for r in sandbox.requests_seen]
    assert paths.count("/api/login") == 1 and paths.count("/api/mfa/sendCode") == 1
    if database_url.startswith("sqlite"):
        assert (tmp_path / "walmart_bot.db.key").exists()
