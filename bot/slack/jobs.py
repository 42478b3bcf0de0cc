"""A bounded pool for work that outlives Slack's 3-second ack, whose failures reach the user."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

OnError = Callable[[str, str], None]  # (user-facing message, error id)


class Jobs:
    """Background jobs on their own threads, never on Bolt's listener pool (PLATFORM.md §1.1).

    Bolt's lazy listeners log a one-line error and drop the traceback; here every failure is
    logged with a short error id and handed to `on_error`, which tells the user.
    """

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-job")

    def submit(self, work: Callable[[], Any], on_error: OnError) -> Future[Any]:
        return self._pool.submit(self._run, work, on_error)

    @staticmethod
    def _run(work: Callable[[], Any], on_error: OnError) -> Any:
        try:
            return work()
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("background job failed (error id %s)", error_id)
            try:
                on_error("Something went wrong on our side; nothing was lost on Retail Link.",
                         error_id)
            except Exception:
                log.exception("could not tell the user about error %s", error_id)
            return None

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
