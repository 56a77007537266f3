"""What two bot instances on one production database must never do: take a drafting job twice, lose a claim
because of the driver's row count, or fail an interrupted job twice.

Generated `[sqlite]` and, whenever RESPONDER_TEST_DATABASE_URL names a server (`make test`, CI), `[postgres]`
(tests/conftest.py): each "instance" is a Repository with its own engine and pool on one database, and every
thread races through a barrier. The approval, reminder and event races of tests/tracker run on both legs too.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import CursorResult

from tests.support.store import FakeClock, findings, make_repo
from tracker import schema
from tracker.db import insert_ignore
from tracker.jobs import MAX_ATTEMPTS, JobSpec
from tracker.repository import Repository

LEASE = 30.0
JOBS = 60
THREADS_PER_INSTANCE = 4


def _two_instances(tmp_path: Path) -> tuple[Repository, Repository]:
    clock = FakeClock()
    return make_repo(tmp_path, clock=clock), make_repo(tmp_path, clock=clock)


def _queue(repo: Repository, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        finding = repo.findings.add_request(findings()[0], "C1", "1.0", "U1")
        job = repo.jobs.enqueue(JobSpec(finding.id, "C1", "1.0", "U1"))
        assert job is not None
        ids.append(job.id)
    return ids


def _in_threads(workers: list[Callable[[], None]]) -> None:
    """Run every worker in its own thread from one barrier; re-raise the first error any of them hit."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (a lock never released?)"
    if errors:
        raise errors[0]


def test_workers_on_two_instances_take_every_job_exactly_once(tmp_path: Path) -> None:
    first, second = _two_instances(tmp_path)
    queued = _queue(first, JOBS)
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(repo: Repository, owner: str) -> Callable[[], None]:
        def work() -> None:
            while (job := repo.jobs.claim(owner, LEASE)) is not None:
                with lock:
                    taken.append((owner, job.id))
                repo.jobs.finish(job.id, 0.01)

        return work

    instances = ((first, "a"), (second, "b"))
    _in_threads([worker(repo, f"{name}-{n}") for repo, name in instances for n in range(THREADS_PER_INSTANCE)])
    per_job = Counter(job_id for _, job_id in taken)
    assert sorted(per_job) == queued and set(per_job.values()) == {1}
    assert first.jobs.counts()["done"] == JOBS and second.jobs.counts()["queued"] == 0
    assert all(first.jobs.get(job_id).attempts == 1 for job_id in queued)  # nobody claimed and lost one


def test_interrupted_jobs_are_given_up_once_across_instances(tmp_path: Path) -> None:
    first, second = _two_instances(tmp_path)
    queued = _queue(first, 12)
    clock: FakeClock = first.store.clock  # type: ignore[assignment]
    for _ in range(MAX_ATTEMPTS):  # claimed by a worker that died, twice
        assert all(first.jobs.claim("dead", LEASE) is not None for _ in queued)
        clock.advance(seconds=LEASE + 1)
    failed: list[int] = []
    lock = threading.Lock()

    def sweep(repo: Repository) -> Callable[[], None]:
        def work() -> None:
            ended = repo.jobs.give_up_interrupted()
            with lock:
                failed.extend(job.id for job in ended)

        return work

    _in_threads([sweep(repo) for repo in (first, second) for _ in range(3)])
    assert sorted(failed) == queued  # each told failed once: one "stopped twice" message per thread
    assert first.jobs.counts()["failed"] == len(queued)


def test_a_claim_does_not_trust_the_drivers_row_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg 3 can report rowcount -1 for INSERT … ON CONFLICT DO NOTHING; the claim must not care."""
    first, second = _two_instances(tmp_path)
    monkeypatch.setattr(CursorResult, "rowcount", property(lambda _self: -1))
    assert first.events.claim("Ev1") is True
    assert second.events.claim("Ev1") is False
    assert second.events.claim("Ev2") is True
    table = schema.ProcessedEvent.__table__
    with first.store.transaction() as session:
        assert insert_ignore(session, table, {"key": "Ev3", "created_at": first.store.now()}, ["key"]) is True
        assert insert_ignore(session, table, {"key": "Ev3", "created_at": first.store.now()}, ["key"]) is False
