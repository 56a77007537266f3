"""The background pool that drafts, so no Slack listener ever waits for a model.

Listeners ack, post a placeholder and hand the slow part here. The pool is small on purpose: the embedded
model runs on the same two cores, and queued drafts wait their turn with a visible placeholder. `wait_idle`
lets tests and benchmarks wait for the work deterministically instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class PendingCounter:
    """Counts work handed to a pool and not yet finished, and waits until there is none."""

    def __init__(self) -> None:
        self._pending = 0
        self._idle = threading.Condition()

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def add(self) -> None:
        with self._idle:
            self._pending += 1

    def done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once nothing is queued or running; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that knows when it is idle: Bolt's listener pool, so tests can wait for listeners."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.counter = PendingCounter()

    @property
    def pending(self) -> int:
        return self.counter.pending

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.counter.add()
        try:
            future = super().submit(fn, *args, **kwargs)
        except RuntimeError:
            self.counter.done()
            raise
        future.add_done_callback(lambda _f: self.counter.done())
        return future

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.counter.wait_idle(timeout)


class JobRunner:
    def __init__(self, workers: int = 2, name: str = "responder-draft") -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.counter = PendingCounter()

    @property
    def pending(self) -> int:
        return self.counter.pending

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[None]:
        self.counter.add()
        try:
            return self._pool.submit(self._run, job, args)
        except RuntimeError:
            self.counter.done()
            raise

    def _run(self, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            job(*args)
        except Exception:
            # Jobs report their own failures in the thread; this is the last line, for bugs in that reporting.
            log.exception("background job %s failed", getattr(job, "__name__", job))
        finally:
            self.counter.done()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no job is queued or running; False if `timeout` passed first."""
        return self.counter.wait_idle(timeout)

    def shutdown(self, wait: bool = True, cancel_queued: bool = False) -> None:
        """Stop taking jobs; `cancel_queued` drops drafts not yet started (their placeholders stay)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_queued or not wait)
