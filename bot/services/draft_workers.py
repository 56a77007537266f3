"""The workers that run the durable drafting queue: claim a job from the database, run it, keep its lease alive.

Each instance runs a few worker threads. A worker claims the oldest claimable job (tracker.jobs) and holds it
under a lease; one heartbeat thread extends the leases of every job in flight here, so a job is taken over by
another worker only when this process has really stopped. Enqueuing wakes a worker at once; otherwise workers
poll, which is also how they see jobs queued by other instances and jobs whose process died. Between jobs the
housekeeping (jobs interrupted twice, outcomes Slack refused) runs at most every `housekeeping_seconds`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from tracker.jobs import JobView
from tracker.repository import Repository

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 15.0


def worker_identity() -> str:
    """Who holds a lease, as an operator would read it in the database: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DraftWorkers:
    def __init__(
        self,
        store: Repository,
        run: Callable[[JobView], None],
        housekeeping: Callable[[], None],
        *,
        workers: int = 2,
        lease_seconds: float = 30.0,
        poll_seconds: float = POLL_SECONDS,
        housekeeping_seconds: float = HOUSEKEEPING_SECONDS,
    ) -> None:
        self.store = store
        self.owner = worker_identity()
        self.lease_seconds = lease_seconds
        self._run = run
        self._housekeeping = housekeeping
        self._workers = workers
        self._poll = poll_seconds
        self._housekeeping_every = housekeeping_seconds
        self._last_housekeeping = 0.0
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._in_flight: dict[int, str] = {}  # job id → thread name
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def size(self) -> int:
        return self._workers

    def start(self) -> DraftWorkers:
        names = [f"responder-draft-{i}" for i in range(self._workers)]
        self._threads = [threading.Thread(target=self._loop, name=name, daemon=True) for name in names]
        self._threads.append(threading.Thread(target=self._heartbeat, name="responder-lease", daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def wake(self) -> None:
        """A job was queued here: start it now rather than at the next poll."""
        with self._wake:
            self._wake.notify()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def idle(self) -> bool:
        """Nothing running here and nothing waiting in the queue."""
        if self.in_flight:
            return False
        counts = self.store.jobs.counts()
        return counts["pending"] + counts["queued"] + counts["running"] == 0

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, wait: bool = True, cancel_queued: bool = False) -> None:
        """Stop claiming; `wait` lets the drafts in flight finish. Queued jobs stay in the database for the next
        start (`cancel_queued` only stops waiting for them)."""
        if wait and not cancel_queued:
            self.wait_idle(timeout=600)
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if wait:
            for thread in self._threads:
                thread.join(timeout=self.lease_seconds * 4)

    # ── the threads ──────────────────────────────────────────────────────────────────────────────────────

    def _loop(self) -> None:
        # A restart first recovers what the stopped process left unshown, before it claims new work.
        self._maybe_housekeep()
        while not self._stop.is_set():
            try:
                job = self.store.jobs.claim(self.owner, self.lease_seconds)
            except Exception as error:  # the database is unreachable: wait, then try again
                log.warning("drafting queue unavailable: %s", type(error).__name__)
                job = None
            if job is None:
                self._maybe_housekeep()
                with self._wake:
                    self._wake.wait(self._poll)
                continue
            self._execute(job)

    def _execute(self, job: JobView) -> None:
        with self._lock:
            self._in_flight[job.id] = threading.current_thread().name
        try:
            self._run(job)
        except Exception:
            # The runner reports its own failures in the thread; this is the last line, for bugs in that.
            log.exception("drafting job %s failed outside its runner", job.id)
        finally:
            with self._lock:
                self._in_flight.pop(job.id, None)

    def _maybe_housekeep(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_housekeeping < self._housekeeping_every:
                return
            self._last_housekeeping = now
        try:
            self._housekeeping()
        except Exception as error:
            log.warning("drafting housekeeping failed: %s", type(error).__name__)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            with self._lock:
                ids = list(self._in_flight)
            try:
                held = self.store.jobs.heartbeat(ids, self.owner, self.lease_seconds)
            except Exception as error:
                log.warning("lease heartbeat failed: %s", type(error).__name__)
                continue
            with self._lock:  # a job that finished meanwhile is not "lost"
                still = [job_id for job_id in ids if job_id in self._in_flight]
            if held < len(still):
                log.warning("%d drafting job(s) lost their lease to another worker", len(still) - held)
