"""The one settings object, read from the environment (and an optional `.env`) and validated once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every knob of the bot. Nothing else in the code base reads `os.environ`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    RETAIL_LINK_LOGIN_URL: str = "https://retaillink.login.wal-mart.com"
    RETAIL_LINK_URL: str = "https://retaillink2.wal-mart.com"
    WALMART_EDR_USERNAME: str | None = None
    WALMART_EDR_PASSWORD: SecretStr | None = None
    WALMART_EDR_MFA_CREDENTIAL_ID: str | None = None
    WALMART_STORE_NUMBER: int | None = Field(default=None, ge=1, le=99999)
    EDR_CONCURRENCY: int = Field(default=6, ge=1, le=32)
    DATABASE_URL: str = "sqlite:///walmart_bot.db"
    SESSION_IDLE_TIMEOUT_SECONDS: int = Field(default=600, ge=30, le=86400)
    EXPIRY_WARNING_SECONDS: int = Field(default=60, ge=0, le=3600)
    EXPIRY_SWEEP_SECONDS: int = Field(default=30, ge=1, le=3600)
    # One or more comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
    BOT_ENCRYPTION_KEY: SecretStr | None = None

    # Signing in through a real browser when Walmart refuses scripted logins (HTTP 412).
    RETAIL_LINK_LOGIN_MODE: Literal["direct", "browser", "auto"] = "direct"
    CHROMIUM_PATH: str = "/usr/bin/chromium"
    BROWSER_MAX_SESSIONS: int = Field(default=2, ge=1, le=16)
    BROWSER_LOGIN_TIMEOUT_SECONDS: int = Field(default=60, ge=5, le=600)

    # Slack.
    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: str = "https://slack.com/api/"
    PORT: int = Field(default=3000, ge=1, le=65535)
    SLACK_WORKERS: int = Field(default=8, ge=1, le=64)  # background EDR/login jobs at once
    ALLOWED_SLACK_USERS: str = ""  # comma-separated user ids; empty = everyone
    ALLOWED_SLACK_CHANNELS: str = ""  # comma-separated channel ids; empty = everywhere

    @property
    def allowed_slack_users(self) -> frozenset[str]:
        return _id_set(self.ALLOWED_SLACK_USERS)

    @property
    def allowed_slack_channels(self) -> frozenset[str]:
        return _id_set(self.ALLOWED_SLACK_CHANNELS)

    @field_validator("RETAIL_LINK_LOGIN_URL", "RETAIL_LINK_URL", "SLACK_API_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def slack_api_base(self) -> str:
        """SLACK_API_URL as slack_sdk wants it: with the trailing slash."""
        return self.SLACK_API_URL + "/"

    @field_validator(
        "WALMART_EDR_USERNAME", "WALMART_EDR_MFA_CREDENTIAL_ID", "WALMART_STORE_NUMBER",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def for_sandbox(self, url: str, username: str, password: str, credential_id: str,
                    store: int) -> Settings:
        """These settings pointed at a local Retail Link sandbox and its account."""
        return self.model_copy(update={
            "RETAIL_LINK_LOGIN_URL": url, "RETAIL_LINK_URL": url,
            "WALMART_EDR_USERNAME": username, "WALMART_EDR_PASSWORD": SecretStr(password),
            "WALMART_EDR_MFA_CREDENTIAL_ID": credential_id,
            "WALMART_STORE_NUMBER": self.WALMART_STORE_NUMBER or store,
        })

    def missing_credentials(self) -> list[str]:
        """Names of the Retail Link account variables that are not set."""
        return [
            name
            for name in ("WALMART_EDR_USERNAME", "WALMART_EDR_PASSWORD",
                         "WALMART_EDR_MFA_CREDENTIAL_ID")
            if not getattr(self, name)
        ]


def _id_set(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, turning the first problem into one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        given = error.get("input")
        shown = "" if given is None or isinstance(given, dict) else f" (got {given!r})"
        raise ConfigError(f"{name}: {error['msg']}{shown}") from None
