"""The durable drafting queue in the system of record: one active job per answer, leases, retries, reports."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from tests.support.store import FakeClock, findings, make_repo
from tracker.jobs import MAX_ATTEMPTS, DuplicateReport, JobSpec, NewReport
from tracker.repository import Repository

LEASE = 30.0


def _finding(repo: Repository, n: int = 1) -> list[int]:
    return [repo.findings.add_request(findings()[0], "C1", "1.0", "U1").id for _ in range(n)]


def _spec(finding_id: int, **fields: object) -> JobSpec:
    return JobSpec(finding_id, "C1", "1.0", "U1", **fields)  # type: ignore[arg-type]


def test_one_active_job_per_answer_and_a_finished_one_frees_it(repo: Repository) -> None:
    (fid,) = _finding(repo)
    first = repo.jobs.enqueue(_spec(fid))
    assert first is not None and first.state == "queued"
    assert repo.jobs.enqueue(_spec(fid)) is None  # a double click or a second instance: refused
    assert repo.jobs.active(fid)
    claimed = repo.jobs.claim("w1", LEASE)
    assert claimed is not None and claimed.id == first.id and claimed.attempts == 1
    assert repo.jobs.enqueue(_spec(fid)) is None  # still running
    repo.jobs.finish(first.id, 1.5)
    assert not repo.jobs.active(fid)
    again = repo.jobs.enqueue(_spec(fid, expected_version=1, first=False))
    assert again is not None and again.id != first.id


def test_jobs_are_claimed_oldest_first_and_pending_ones_wait_for_their_placeholder(repo: Repository) -> None:
    a, b, c = _finding(repo, 3)
    held = repo.jobs.enqueue(_spec(a), ready=False)
    queued_b = repo.jobs.enqueue(_spec(b))
    queued_c = repo.jobs.enqueue(_spec(c))
    assert held is not None and queued_b is not None and queued_c is not None
    assert repo.jobs.place(queued_c.id) == (2, 0)  # the held one and b ahead; nothing running
    assert repo.jobs.claim("w1", LEASE).id == queued_b.id  # type: ignore[union-attr]
    repo.jobs.ready(held.id, "2.0")
    claimed = repo.jobs.claim("w1", LEASE)
    assert claimed is not None and claimed.id == held.id and claimed.message_ts == "2.0"
    assert repo.jobs.claim("w1", LEASE).id == queued_c.id  # type: ignore[union-attr]
    assert repo.jobs.claim("w1", LEASE) is None


def test_a_pending_job_whose_poster_died_is_taken_after_a_lease(repo: Repository, clock: FakeClock) -> None:
    (fid,) = _finding(repo)
    held = repo.jobs.enqueue(_spec(fid), ready=False)
    assert repo.jobs.claim("w1", LEASE) is None
    clock.advance(seconds=LEASE + 1)
    claimed = repo.jobs.claim("w1", LEASE)
    assert claimed is not None and claimed.id == held.id and claimed.message_ts is None  # posted as a new reply


def test_a_lease_that_runs_out_lets_another_worker_take_the_job(repo: Repository, clock: FakeClock) -> None:
    (fid,) = _finding(repo)
    job = repo.jobs.enqueue(_spec(fid))
    assert repo.jobs.claim("dead", LEASE) is not None
    clock.advance(seconds=LEASE / 2)
    assert repo.jobs.claim("alive", LEASE) is None  # the lease still holds
    assert repo.jobs.heartbeat([job.id], "dead", LEASE) == 1  # type: ignore[union-attr]
    clock.advance(seconds=LEASE - 1)
    assert repo.jobs.claim("alive", LEASE) is None  # the heartbeat extended it
    clock.advance(seconds=2)
    taken = repo.jobs.claim("alive", LEASE)
    assert taken is not None and taken.attempts == 2
    assert repo.jobs.heartbeat([taken.id], "dead", LEASE) == 0  # the dead worker has lost it


def test_a_job_interrupted_on_its_last_attempt_is_failed_with_the_reason(repo: Repository, clock: FakeClock) -> None:
    (fid,) = _finding(repo)
    job = repo.jobs.enqueue(_spec(fid))
    for _ in range(MAX_ATTEMPTS):
        assert repo.jobs.claim("w", LEASE) is not None
        clock.advance(seconds=LEASE + 1)
    assert repo.jobs.claim("w", LEASE) is None  # not tried a third time
    failed = repo.jobs.give_up_interrupted()
    assert [f.id for f in failed] == [job.id]  # type: ignore[union-attr]
    assert failed[0].state == "failed" and "stopped twice" in (failed[0].error or "")
    assert not repo.jobs.active(fid)


def test_a_failure_is_retried_once_then_failed(repo: Repository) -> None:
    (fid,) = _finding(repo)
    job = repo.jobs.enqueue(_spec(fid))
    repo.jobs.claim("w", LEASE)
    assert repo.jobs.fail(job.id, "boom", retry=True).state == "queued"  # type: ignore[union-attr]
    repo.jobs.claim("w", LEASE)
    ended = repo.jobs.fail(job.id, "boom again", retry=True)  # type: ignore[union-attr]
    assert ended.state == "failed" and ended.error == "boom again"
    assert repo.jobs.counts()["failed"] == 1


def test_an_outcome_slack_refused_is_listed_until_shown(repo: Repository) -> None:
    (fid,) = _finding(repo)
    job = repo.jobs.enqueue(_spec(fid))
    repo.jobs.claim("w", LEASE)
    repo.jobs.finish(job.id, 2.0)  # type: ignore[union-attr]
    assert repo.jobs.unshown() == []  # never tried yet: the worker shows it itself
    repo.jobs.post_failed(job.id, "ratelimited")  # type: ignore[union-attr]
    (unshown,) = repo.jobs.unshown()
    assert unshown.post_error == "ratelimited" and unshown.post_attempts == 1
    repo.jobs.shown(job.id)  # type: ignore[union-attr]
    assert repo.jobs.unshown() == []


def test_a_job_finished_but_never_shown_is_listed_once_its_worker_had_time(repo: Repository, clock: FakeClock) -> None:
    """Its worker died between marking it done and showing it: the housekeeping shows it, after a grace."""
    (fid,) = _finding(repo)
    job = repo.jobs.enqueue(_spec(fid))
    repo.jobs.claim("w", LEASE)
    repo.jobs.finish(job.id, 2.0)  # type: ignore[union-attr]
    assert repo.jobs.unshown(grace_seconds=LEASE) == []  # its worker may be showing it right now
    clock.advance(seconds=LEASE + 1)
    assert [j.id for j in repo.jobs.unshown(grace_seconds=LEASE)] == [job.id]  # type: ignore[union-attr]


def test_two_workers_racing_take_every_job_exactly_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ids = _finding(repo, 20)
    for fid in ids:
        repo.jobs.enqueue(_spec(fid))
    taken: list[int] = []
    lock = threading.Lock()

    def work(owner: str) -> None:
        while (job := repo.jobs.claim(owner, LEASE)) is not None:
            with lock:
                taken.append(job.finding_id)
            repo.jobs.finish(job.id, 0.1)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(ids)
    assert repo.jobs.counts()["done"] == 20
    repo.close()


def _report(**fields: object) -> NewReport:
    values: dict[str, object] = {
        "channel": "C1",
        "thread_ts": "1.0",
        "user": "U1",
        "title": "PEEL 2025",
        "inspection_type": "PEEL",
        "published": date(2025, 3, 4),
        "file_name": "peel.pdf",
        "inspection_id": None,
        "content_hash": "a" * 64,
    }
    return NewReport(**{**values, **fields})  # type: ignore[arg-type]


def test_the_same_report_uploaded_again_in_a_channel_is_refused_with_the_first(repo: Repository) -> None:
    first = repo.jobs.add_report(_report())
    with pytest.raises(DuplicateReport) as refused:
        repo.jobs.add_report(_report(thread_ts="2.0"))
    assert refused.value.earlier.id == first.id and refused.value.earlier.thread_ts == "1.0"
    other = repo.jobs.add_report(_report(channel="C2"))  # another channel is another office's copy
    assert other.id != first.id
    repo.jobs.forget_report(first.id)
    assert repo.jobs.add_report(_report()).id not in (first.id, other.id)


def test_a_reports_progress_is_counted_from_its_jobs(repo: Repository) -> None:
    run = repo.jobs.add_report(_report())
    ids = _finding(repo, 3)
    jobs = [repo.jobs.enqueue(_spec(fid, report_id=run.id)) for fid in ids]
    progress = repo.jobs.report_jobs(run.id)
    assert progress.total == 3 and progress.done == 0 and not progress.finished
    repo.jobs.claim("w", LEASE)
    repo.jobs.finish(jobs[0].id, 4.0)  # type: ignore[union-attr]
    repo.jobs.claim("w", LEASE)
    repo.jobs.fail(jobs[1].id, "timeout", retry=False)  # type: ignore[union-attr]
    progress = repo.jobs.report_jobs(run.id)
    assert (progress.done, progress.failed, progress.measured, progress.finished) == (1, 1, (4.0,), False)
    repo.jobs.claim("w", LEASE)
    repo.jobs.finish(jobs[2].id, 2.0)  # type: ignore[union-attr]
    assert repo.jobs.report_jobs(run.id).finished
