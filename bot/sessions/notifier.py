"""Who hears that a session expires soon or has expired: the Notifier seam and two simple ones."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionNotice:
    """What a notifier needs to tell a person about their session; holds no secrets."""

    team_id: str
    user_id: str
    expires_at: datetime


class Notifier(Protocol):
    """Implemented by the Slack app (a DM); the sweep calls each method once per notice."""

    def session_expiring(self, notice: SessionNotice) -> None: ...

    def session_expired(self, notice: SessionNotice) -> None: ...


class LoggingNotifier:
    """Writes notices to the log; for instances with nobody to tell."""

    def session_expiring(self, notice: SessionNotice) -> None:
        log.info("session of %s/%s expires at %s", notice.team_id, notice.user_id,
                 notice.expires_at.isoformat())

    def session_expired(self, notice: SessionNotice) -> None:
        log.info("session of %s/%s expired at %s", notice.team_id, notice.user_id,
                 notice.expires_at.isoformat())


class RecordingNotifier:
    """Keeps every notice, in order; safe to share between threads. For tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.expiring: list[SessionNotice] = []
        self.expired: list[SessionNotice] = []

    def session_expiring(self, notice: SessionNotice) -> None:
        with self._lock:
            self.expiring.append(notice)

    def session_expired(self, notice: SessionNotice) -> None:
        with self._lock:
            self.expired.append(notice)
