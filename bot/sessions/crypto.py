"""Encryption at rest: Fernet keys from BOT_ENCRYPTION_KEY, or a 0600 key file beside a SQLite database."""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from bot.config import ConfigError, Settings
from bot.db import normalize_url

log = logging.getLogger(__name__)

KEY_FILE_SUFFIX = ".key"
GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class Undecryptable(Exception):  # noqa: N818 - reads as the outcome it is
    """A stored value was not encrypted with any configured key (or was tampered with)."""


class Cipher:
    """Encrypts with the first key, decrypts with any (so keys can rotate). Never shows a key."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._count = len(keys)

    def __repr__(self) -> str:
        return f"<Cipher keys={self._count}>"

    def encrypt(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise Undecryptable("stored value does not decrypt with the configured keys") from None

    def encrypt_text(self, text: str) -> str:
        return self.encrypt(text.encode("utf-8"))

    def decrypt_text(self, token: str) -> str:
        return self.decrypt(token).decode("utf-8")

    def rotate(self, token: str) -> str:
        """Re-encrypt `token` under the first key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise Undecryptable("stored value does not decrypt with the configured keys") from None


def parse_keys(value: str) -> list[bytes]:
    """Comma-separated Fernet keys; each must be 32 url-safe base64-encoded bytes."""
    keys = [part.strip().encode("ascii", "replace") for part in value.split(",") if part.strip()]
    if not keys:
        raise ConfigError(f"BOT_ENCRYPTION_KEY: no key given; {GENERATE_HINT}")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"BOT_ENCRYPTION_KEY: key {number} is not a Fernet key "
                f"(32 url-safe base64-encoded bytes); {GENERATE_HINT}"
            ) from None
    return keys


def sqlite_key_file(database_url: str) -> Path | None:
    """Where the key file lives for a file-backed SQLite URL; None for anything else."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database + KEY_FILE_SUFFIX)


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key beside the SQLite database, creating it (mode 0600) on first start."""
    if not path.exists():
        # Written to a private temporary file and then linked into place, so a second process
        # starting at the same moment sees either no file or the whole key, never half of one.
        fd, temporary = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key() + b"\n")
            os.link(temporary, path)
            log.info("created encryption key file %s (mode 0600); back it up with the database",
                     path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            os.unlink(temporary)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("key file %s was readable by others (mode %o); now 0600", path, mode)
        path.chmod(0o600)
    return parse_keys(path.read_text("ascii"))[0]


def cipher_from_settings(settings: Settings) -> Cipher:
    """The cipher for this process; refuses to start without a key where one cannot be made safely."""
    if settings.BOT_ENCRYPTION_KEY is not None and settings.BOT_ENCRYPTION_KEY.get_secret_value():
        return Cipher(parse_keys(settings.BOT_ENCRYPTION_KEY.get_secret_value()))
    backend = make_url(normalize_url(settings.DATABASE_URL)).get_backend_name()
    if backend != "sqlite":
        raise ConfigError(
            "BOT_ENCRYPTION_KEY: required when DATABASE_URL is not SQLite (sessions and saved "
            "passwords are stored encrypted, and every instance needs the same key); "
            + GENERATE_HINT
        )
    path = sqlite_key_file(settings.DATABASE_URL)
    if path is None:  # an in-memory database dies with the process, and so may its key
        return Cipher([Fernet.generate_key()])
    return Cipher([load_or_create_key_file(path)])
