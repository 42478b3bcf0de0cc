"""The one settings object, read from the environment (and an optional `.env`) and validated once."""

from __future__ import annotations

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

    @field_validator("RETAIL_LINK_LOGIN_URL", "RETAIL_LINK_URL")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator(
        "WALMART_EDR_USERNAME", "WALMART_EDR_MFA_CREDENTIAL_ID", "WALMART_STORE_NUMBER",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def missing_credentials(self) -> list[str]:
        """Names of the Retail Link account variables that are not set."""
        return [
            name
            for name in ("WALMART_EDR_USERNAME", "WALMART_EDR_PASSWORD",
                         "WALMART_EDR_MFA_CREDENTIAL_ID")
            if not getattr(self, name)
        ]


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
