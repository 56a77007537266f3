"""Store: the system of record's hot paths on PostgreSQL vs SQLite, in one run on one machine.

    bash .ci/with-servers .venv/bin/python -m bench store [--ops 300] [--rounds 5] [--json]

PostgreSQL is the server RESPONDER_TEST_DATABASE_URL names (`.ci/with-servers` starts a throwaway one on
loopback); without it only SQLite is measured, and the output says how to get both. Each backend gets a fresh
migrated database (a SQLite file in a temp dir; a PostgreSQL database copied from a migrated template, dropped
after), and each hot path runs `--ops` times, one after another, from one thread:

  approve   a reviewer's Approve on a fresh drafted answer (`reviews.record`: checks, review row, state, audit)
  edit      a reviewer's Edit of the latest version (a new version, its review row and audit)
  reminder  one reminder slot claimed in a sweep and marked posted (`reminders.claim_due` + `mark_posted`)
  job       one drafting job through the durable queue (`jobs.enqueue` + `claim` + `finish`)

Setup (findings, drafts, inspections) is not timed. The backends take turns for `--rounds` rounds, so a
machine that gets busier half-way slows both alike. Reported: the median ops/s per path and backend, and
PostgreSQL's median as a fraction of SQLite's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from tests.support.store import FakeClock, PostgresDatabases, add_inspection, at, draft, findings, postgres_admin_url
from tracker.jobs import JobSpec
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewAction

REVIEWER = "U_REVIEWER"
#: A day on which the deadline reminder of an inspection published on PUBLISHED_FOR_SWEEP is due.
PUBLISHED_FOR_SWEEP = date(2023, 12, 8)
SWEEP_DAY = date(2024, 1, 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench store", description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=300, help="operations per hot path and backend")
    parser.add_argument("--rounds", type=int, default=5, help="turns each backend takes; the median is reported")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _ in backends()}
    for _ in range(args.rounds):
        for name, url_of in backends():
            rounds[name].append(measure(url_of, args.ops))
    results = {name: _median(runs) for name, runs in rounds.items()}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results, args.ops))
    if "postgres" not in results:
        print("PostgreSQL not measured: run `bash .ci/with-servers .venv/bin/python -m bench store`.")


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {path: statistics.median(run[path] for run in runs) for path in runs[0]}


def backends() -> Iterator[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    yield "sqlite", _sqlite_url
    if postgres_admin_url():
        yield "postgres", _postgres_url


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'responder.db'}"


@contextmanager
def _postgres_url() -> Iterator[str]:
    databases = PostgresDatabases(postgres_admin_url() or "")
    url = databases.fresh_url()
    try:
        yield url
    finally:
        databases.drop_url(url)
        databases.close()


def measure(url_of: Callable[[], AbstractContextManager[str]], ops: int) -> dict[str, float]:
    """ops/s of each hot path, each on its own fresh database."""
    paths = {"approve": _approve, "edit": _edit, "reminder": _reminder, "job": _job}
    results = {}
    for name, path in paths.items():
        with url_of() as url:
            repo = Repository.connect(url, ApprovalPolicy.of([REVIEWER]), FakeClock())
            try:
                results[name] = round(ops / path(repo, ops), 1)
            finally:
                repo.close()
    return results


def _timed(call: Callable[[], object], times: int) -> float:
    started = time.perf_counter()
    for _ in range(times):
        call()
    return time.perf_counter() - started


def _drafted(repo: Repository, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        finding = repo.findings.add_request(findings()[0], "C1", "1.0", "U_ASK")
        repo.drafts.add(finding.id, draft(), requested_by="U_ASK")
        ids.append(finding.id)
    return ids


def _approve(repo: Repository, ops: int) -> float:
    pending = iter(_drafted(repo, ops))
    return _timed(lambda: repo.reviews.record(next(pending), REVIEWER, action="approve", expected_version=1), ops)


def _edit(repo: Repository, ops: int) -> float:
    (finding_id,) = _drafted(repo, 1)
    version = iter(range(1, ops + 1))

    def edit() -> None:
        seen = next(version)
        text = f"The force has a problem profile, reviewed {seen} times."
        repo.reviews.record(finding_id, REVIEWER, action=ReviewAction.EDIT, expected_version=seen, new_text=text)

    return _timed(edit, ops)


def _reminder(repo: Repository, ops: int) -> float:
    for _ in range(ops):
        add_inspection(repo, PUBLISHED_FOR_SWEEP)
    started = time.perf_counter()
    claimed = repo.reminders.claim_due("bench", at(SWEEP_DAY))
    for reminder in claimed:
        repo.reminders.mark_posted(reminder.reminder_id, at(SWEEP_DAY) + timedelta(minutes=1))
    elapsed = time.perf_counter() - started
    assert len(claimed) == ops, f"expected one due reminder per inspection, got {len(claimed)}"
    return elapsed


def _job(repo: Repository, ops: int) -> float:
    queue = iter([repo.findings.add_request(findings()[0], "C1", "1.0", "U1").id for _ in range(ops)])

    def one() -> None:
        job = repo.jobs.enqueue(JobSpec(next(queue), "C1", "1.0", "U1"))
        claimed = repo.jobs.claim("bench", 30.0)
        assert job is not None and claimed is not None and claimed.id == job.id
        repo.jobs.finish(claimed.id, 0.0)

    return _timed(one, ops)


def table(results: dict[str, dict[str, float]], ops: int) -> str:
    names = list(next(iter(results.values())))
    header = f"{'hot path (' + str(ops) + ' ops)':<22}" + "".join(f"{b + ' ops/s':>16}" for b in results)
    if "postgres" in results:
        header += f"{'postgres/sqlite':>17}"
    lines = [header]
    for name in names:
        line = f"{name:<22}" + "".join(f"{results[b][name]:>16,.1f}" for b in results)
        if "postgres" in results:
            line += f"{results['postgres'][name] / results['sqlite'][name]:>17.2f}"
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
