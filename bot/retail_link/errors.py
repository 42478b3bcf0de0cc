"""One exception tree for everything Retail Link can refuse; messages are user-facing and secret-free."""

from __future__ import annotations


class RetailLinkError(Exception):
    """Base of every Retail Link failure. `str(error)` is safe to show a user."""

    default_message = "Retail Link request failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class BadCredentials(RetailLinkError):
    default_message = "Retail Link rejected the username or password."


class WrongCode(RetailLinkError):
    """The SMS code was wrong; the same sign-in can be retried with another code."""

    def __init__(self, attempts_left: int | None = None) -> None:
        self.attempts_left = attempts_left
        tail = "" if attempts_left is None else f" {attempts_left} attempt(s) left."
        super().__init__(f"That SMS code was not accepted.{tail}")


class CodeExpired(RetailLinkError):
    default_message = "The SMS code has expired. Sign in again to get a new one."


class AccountLocked(RetailLinkError):
    default_message = (
        "The Retail Link account is locked after too many attempts. "
        "Unlock it in Retail Link, then sign in again."
    )


class LoginRequired(RetailLinkError):
    """A step was called out of order (e.g. a code submitted before one was sent)."""

    default_message = "No sign-in is in progress. Start a new sign-in."


class SessionExpired(RetailLinkError):
    default_message = "The Retail Link session has expired. Sign in again."


class RateLimited(RetailLinkError):
    def __init__(self, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        wait = f" Try again in {retry_after:.0f} s." if retry_after else " Try again shortly."
        super().__init__(f"Retail Link is rate limiting requests.{wait}")


class Blocked(RetailLinkError):
    """Walmart's bot defence answered (403, 412, a challenge page, or HTML where JSON was asked)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Retail Link blocked the request as automated traffic ({reason}).")


class Unavailable(RetailLinkError):
    default_message = "Retail Link is not answering (server errors or timeouts after retries)."


class NotFound(RetailLinkError):
    default_message = "Retail Link has no such event."


class UnexpectedResponse(RetailLinkError):
    """The answer did not have the shape PROTOCOL.md describes."""

    default_message = "Retail Link sent an answer the bot does not understand."


class BrowserMissing(RetailLinkError):
    """Browser sign-in is configured, but Playwright or Chromium is not installed."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Browser sign-in is configured but {what}.")
