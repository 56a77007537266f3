"""Real threads (and two engines, as two bot instances) on one database: no double approval, no lost edit."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError

import tracker.reviews as reviews_module
from tests.support.store import FakeClock, db_url, draft, findings, make_repo
from tracker.errors import ConcurrentChange, IllegalTransition, TrackerError
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewAction, ReviewState

THREADS = 20


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call at the same moment (a barrier), return each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # collected and asserted on by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _drafted(repo: Repository) -> int:
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    repo.drafts.add(finding.id, draft(), requested_by="U_ASK")
    return finding.id


def _two_instances(tmp_path: Path, policy: ApprovalPolicy) -> tuple[Repository, Repository]:
    """Two repositories with their own engines on one file: what two bot processes look like to SQLite."""
    clock = FakeClock()
    return make_repo(tmp_path, policy, clock), make_repo(tmp_path, policy, clock)


def test_twenty_reviewers_clicking_approve_at_once_give_one_approval(tmp_path: Path) -> None:
    reviewers = [f"U{n:02d}" for n in range(THREADS)]
    first, second = _two_instances(tmp_path, ApprovalPolicy.of(reviewers))
    finding_id = _drafted(first)
    calls = [
        (
            lambda repo=(first if n % 2 else second), user=user: repo.reviews.record(
                finding_id, user, action="approve", expected_version=1
            )
        )
        for n, user in enumerate(reviewers)
    ]
    results = _race(calls)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and winners[0].state_after is ReviewState.APPROVED
    assert all(isinstance(error, IllegalTransition | ConcurrentChange) for error in losers)
    assert all("already approved" in str(error) or "refresh" in str(error) for error in losers)
    assert [r.action for r in first.reviews.of(finding_id)] == [ReviewAction.APPROVE]
    state_changes = [e for e in first.audit.events("finding", finding_id) if e.action == "approve"]
    assert len(state_changes) == 1 and state_changes[0].after["state"] == "approved"  # type: ignore[index]


def test_one_reviewer_double_clicking_twenty_times_gives_one_review_row(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_REV"], required_approvals=2))
    finding_id = _drafted(repo)
    results = _race([lambda: repo.reviews.record(finding_id, "U_REV", action="approve")] * THREADS)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, TrackerError) for r in results if isinstance(r, Exception))
    assert len(repo.reviews.of(finding_id)) == 1
    assert repo.findings.get(finding_id).state is ReviewState.DRAFTED  # still waiting for a second person


def test_n_required_approvals_under_a_race_give_exactly_n_rows_and_one_state_change(tmp_path: Path) -> None:
    reviewers = [f"U{n:02d}" for n in range(THREADS)]
    first, second = _two_instances(tmp_path, ApprovalPolicy.of(reviewers, required_approvals=3))
    finding_id = _drafted(first)
    results = _race(
        [
            (
                lambda repo=(first if n % 2 else second), user=user: repo.reviews.record(
                    finding_id, user, action="approve"
                )
            )
            for n, user in enumerate(reviewers)
        ]
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 3
    assert sum(r.state_changed for r in winners) == 1
    approvals = first.reviews.of(finding_id)
    assert len(approvals) == 3 and len({r.reviewer for r in approvals}) == 3
    assert first.findings.get(finding_id).state is ReviewState.APPROVED


def test_concurrent_edits_of_the_same_version_keep_one_and_refuse_the_rest(tmp_path: Path) -> None:
    first, second = _two_instances(tmp_path, ApprovalPolicy())
    finding_id = _drafted(first)
    texts = [f"Edit number {n}" for n in range(10)]
    results = _race(
        [
            (
                lambda repo=(first if n % 2 else second), body=body, user=f"U{n}": repo.reviews.record(
                    finding_id, user, action="edit", new_text=body, expected_version=1
                )
            )
            for n, body in enumerate(texts)
        ]
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(refused) == 9
    assert all(isinstance(e, ConcurrentChange) and "refresh" in str(e) for e in refused)
    stored = first.drafts.all(finding_id)
    assert [d.version for d in stored] == [1, 2]
    assert stored[1].text == winners[0].draft.text  # the edit that won is the one stored, whole


def test_concurrent_edits_without_a_version_check_all_survive_as_versions(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy())
    finding_id = _drafted(repo)
    texts = {f"Independent edit {n}" for n in range(10)}
    results = _race(
        [lambda body=body: repo.reviews.record(finding_id, "U_ED", action="edit", new_text=body) for body in texts]
    )
    assert not any(isinstance(r, Exception) for r in results)
    stored = repo.drafts.all(finding_id)
    assert [d.version for d in stored] == list(range(1, 12))
    assert {d.text for d in stored[1:]} == texts  # no edit lost


def test_a_lost_optimistic_race_becomes_a_clear_conflict_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate the PostgreSQL interleaving: another writer bumps the row between our read and our write."""
    repo = make_repo(tmp_path, ApprovalPolicy())
    finding_id = _drafted(repo)
    original = reviews_module.snapshot_of

    def snapshot_then_concurrent_write(session, finding, latest):  # type: ignore[no-untyped-def]
        snapshot = original(session, finding, latest)
        session.execute(text("UPDATE findings SET version_id = version_id + 1 WHERE id = :id"), {"id": finding.id})
        return snapshot

    monkeypatch.setattr(reviews_module, "snapshot_of", snapshot_then_concurrent_write)
    with pytest.raises(
        ConcurrentChange, match=r"Someone else just changed this answer; refresh and try again\."
    ) as caught:
        repo.reviews.record(finding_id, "U_REV", action="approve", expected_version=1)
    assert isinstance(caught.value.__cause__, StaleDataError)  # the version_id check fired, not a lock
    monkeypatch.undo()
    assert repo.reviews.of(finding_id) == []
    assert repo.findings.get(finding_id).state is ReviewState.DRAFTED
    assert [e.action for e in repo.audit.events("finding", finding_id)] == ["add", "draft"]


def test_a_slack_retry_storm_claims_each_event_once(tmp_path: Path) -> None:
    first, second = _two_instances(tmp_path, ApprovalPolicy())
    keys = ["Ev1", "Ev2", "Ev3", "Ev4"]
    calls = [
        (lambda repo=(first if n % 2 else second), key=key: (key, repo.events.claim(key)))
        for n in range(5)
        for key in keys
    ]
    results = _race(calls)
    won = Counter(key for key, claimed in results if claimed)
    assert won == Counter(keys)


def test_separate_engines_see_each_others_commits(tmp_path: Path) -> None:
    first = make_repo(tmp_path, ApprovalPolicy())
    finding_id = _drafted(first)
    second = Repository.connect(db_url(tmp_path), ApprovalPolicy())  # a restart: new engine, same file
    second.reviews.record(finding_id, "U1", action="approve")
    assert first.findings.get(finding_id).state is ReviewState.APPROVED
