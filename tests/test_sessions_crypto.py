"""Encryption keys: BOT_ENCRYPTION_KEY (rotation), the 0600 key file beside SQLite, refusing to start."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, load_settings
from bot.sessions.crypto import Cipher, Undecryptable, cipher_from_settings, sqlite_key_file


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_without_a_key_creates_a_private_key_file_and_reuses_it(tmp_path: Path) -> None:
    settings = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'walmart_bot.db'}")
    first = cipher_from_settings(settings)
    key_file = tmp_path / "walmart_bot.db.key"
    assert key_file.exists() and mode(key_file) == 0o600
    token = first.encrypt(b"cookie")
    second = cipher_from_settings(settings)  # a restart
    assert second.decrypt(token) == b"cookie"
    assert [p.name for p in tmp_path.iterdir()] == ["walmart_bot.db.key"]  # no temp files left


def test_a_key_file_readable_by_others_is_tightened(tmp_path: Path) -> None:
    key_file = tmp_path / "bot.db.key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o644)
    cipher_from_settings(load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}"))
    assert mode(key_file) == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}")
    ciphers: list[Cipher] = []
    threads = [threading.Thread(target=lambda: ciphers.append(cipher_from_settings(settings)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    token = ciphers[0].encrypt(b"x")
    assert all(c.decrypt(token) == b"x" for c in ciphers)


def test_postgresql_without_a_key_refuses_to_start() -> None:
    settings = load_settings(DATABASE_URL="postgresql://postgres@127.0.0.1/test")
    with pytest.raises(ConfigError, match=r"^BOT_ENCRYPTION_KEY: required when DATABASE_URL is "
                                          r"not SQLite.*Fernet.generate_key"):
        cipher_from_settings(settings)


def test_a_malformed_key_is_named_in_the_error() -> None:
    good = Fernet.generate_key().decode()
    settings = load_settings(DATABASE_URL="postgresql://h/d",
                             BOT_ENCRYPTION_KEY=f"{good}, not-a-key")
    with pytest.raises(ConfigError, match="key 2 is not a Fernet key") as caught:
        cipher_from_settings(settings)
    assert good not in str(caught.value)


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token_from_old = Cipher([old]).encrypt(b"state")
    settings = load_settings(DATABASE_URL="postgresql://h/d",
                             BOT_ENCRYPTION_KEY=f"{new.decode()},{old.decode()}")
    rotating = cipher_from_settings(settings)
    assert rotating.decrypt(token_from_old) == b"state"
    fresh = rotating.encrypt(b"state")
    assert Cipher([new]).decrypt(fresh) == b"state"
    with pytest.raises(Undecryptable):
        Cipher([old]).decrypt(fresh)
    assert Cipher([new]).decrypt(rotating.rotate(token_from_old)) == b"state"


def test_an_explicit_key_wins_over_the_key_file(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    settings = load_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
                             BOT_ENCRYPTION_KEY=key.decode())
    assert Cipher([key]).decrypt(cipher_from_settings(settings).encrypt(b"x")) == b"x"
    assert not (tmp_path / "bot.db.key").exists()


def test_in_memory_sqlite_gets_a_key_for_the_life_of_the_process() -> None:
    assert sqlite_key_file("sqlite://") is None
    cipher = cipher_from_settings(load_settings(DATABASE_URL="sqlite://"))
    assert cipher.decrypt(cipher.encrypt(b"x")) == b"x"


def test_the_cipher_never_shows_its_keys_and_tampering_is_detected() -> None:
    key = Fernet.generate_key()
    cipher = Cipher([key])
    assert key.decode() not in repr(cipher) and repr(cipher) == "<Cipher keys=1>"
    token = cipher.encrypt(b"bearer")
    assert b"bearer" not in token.encode()
    with pytest.raises(Undecryptable):
        cipher.decrypt(token[:-4] + "AAAA")
    with pytest.raises(Undecryptable):
        cipher.decrypt("not a token é")
