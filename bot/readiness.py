"""`/readyz`: is this instance able to do its work now — database, precedent index and chat model reachable.

The same checks as `responder doctor` (bot/health.py), run against the live store, and cached for a few
seconds so a load balancer polling every second does not load the database or the index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import text

from bot.health import Check, check_chat_engine, check_index, failed, passed
from bot.settings import Settings
from tracker.faults import storage_problem
from tracker.repository import Repository

CACHE_SECONDS = 5.0


class Readiness:
    def __init__(
        self,
        checks: Sequence[Callable[[], Check]],
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = checks
        self._cache_seconds = cache_seconds
        self._now = monotonic
        self._lock = threading.Lock()
        self._last: tuple[float, list[Check]] | None = None

    def __call__(self) -> list[Check]:
        with self._lock:
            if self._last is not None and self._now() - self._last[0] < self._cache_seconds:
                return self._last[1]
            results = [_safely(check) for check in self._checks]
            self._last = (self._now(), results)
            return results


def readiness_for(settings: Settings, store: Repository) -> Readiness:
    return Readiness(
        [lambda: database_reachable(store), lambda: check_index(settings), lambda: check_chat_engine(settings)]
    )


def database_reachable(store: Repository) -> Check:
    try:
        with store.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:
        problem = storage_problem(error)
        what = problem.value if problem is not None else type(error).__name__
        return failed(
            "database",
            f"the database is {what}",
            "Check RESPONDER_DATABASE_URL and the server; run `responder doctor`.",
        )
    return passed("database", "reachable")


def _safely(check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a check that breaks is a failed check, not a 500
        return failed(getattr(check, "__name__", "check"), type(error).__name__, "Run `responder doctor` for details.")
