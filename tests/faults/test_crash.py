"""kill -9 in the middle of a 10-finding report, then a restart: every finding is drafted, shown and counted.

The bot runs as its own process (tests/support/bot_process.py: the real app over signed HTTP, a slow scripted
chat model, one drafting worker); the loopback Slack and the database stay with the test. Before the durable
queue, 7 of 10 findings were never drafted, their "Waiting…" messages had no buttons and the summary stayed at
"Drafting 4 of 10…".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.slack_fake import FakeSlack, SlackSender
from tests.support.slack_harness import CHANNEL, REVIEWER, SIGNING_SECRET, texts
from tracker import schema
from tracker.jobs import JobView
from tracker.repository import Repository

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = 10

pytestmark = pytest.mark.slow


def report_text(n: int = FINDINGS) -> str:
    parts = ["# An inspection of how the police respond to missing children", "", "Published: 4 March 2025", ""]
    for i in range(1, n + 1):
        parts += [
            f"Recommendation {i}",
            "",
            f"By 30 September 2025, all chief constables should make sure that officers record the child's views "
            f"and risk {i} in the return home interview.",
            "",
        ]
    return "\n".join(parts)


@contextmanager
def bot_process(
    data: Path, slack: FakeSlack, name: str, *options: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The bot in its own process on `data`'s database; yields the process and its events URL."""
    port_file = data / f"{name}.port"
    log = (data / f"{name}.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.bot_process", str(data), slack.api_url, str(port_file), *options],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _until(lambda: port_file.exists() and port_file.read_text(), 60, f"{name} to listen")
        yield child, f"http://127.0.0.1:{port_file.read_text()}/slack/events"
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        log.close()


def _until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("kill_after", [0, 3, 7], ids=["first-draft-running", "3-done", "7-done"])
def test_kill_9_mid_report_then_restart_loses_no_draft(tmp_path: Path, kill_after: int) -> None:
    """Killed while the first draft runs (placeholders may still be being posted), after 3 and after 7."""
    with FakeSlack() as slack:
        stored = slack.add_file("missing-children.txt", report_text().encode())
        repo: Repository | None = None
        with bot_process(tmp_path, slack, "first") as (child, url):
            sender = SlackSender(url, SIGNING_SECRET)
            event = sender.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
            assert sender.event(event).status == 200
            _until(lambda: (tmp_path / "responder.db").exists(), 30, "the database")
            repo = Repository.connect(f"sqlite:///{tmp_path / 'responder.db'}")
            if kill_after:
                _until(lambda: repo.jobs.counts()["done"] >= kill_after, 90, f"{kill_after} drafts")
                approved = _approve_the_first(repo)
            else:
                _until(lambda: repo.jobs.counts()["running"] >= 1, 90, "the first draft to start")
                approved = None
            audit_before = _audit_rows(repo)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        assert repo.jobs.counts()["done"] < FINDINGS, "the report finished before the kill; the test proves nothing"

        with bot_process(tmp_path, slack, "second"):
            _until(lambda: _settled(repo) == FINDINGS, 90, "every draft after the restart")
            inspection = repo.inspections.by_thread(CHANNEL, event["ts"])
            assert inspection is not None
            _until(lambda: _summary_finished(slack, event["ts"]), 30, "the summary to say every draft is posted")
            # A draft finished just before the kill but not shown is shown by the restarted process's housekeeping.
            _until(lambda: repo.jobs.unshown(grace_seconds=0) == [], 30, "every finished draft to be shown")

        findings = repo.findings.of_inspection(inspection.id)
        assert len(findings) == FINDINGS  # nothing drafted twice into new findings
        for finding in findings:
            message = slack.messages[(CHANNEL, finding.message_ts or "")]
            history = [c.get("text", "")[:50] for c in slack.of("chat.update") if c.get("ts") == finding.message_ts]
            assert "draft_actions" in str(message["blocks"]), f"{finding.label} has no buttons: {history}"
            if finding.id != approved:
                assert finding.latest_version == 1  # each drafted once: no second version from a re-run
        counts = repo.jobs.counts()
        assert counts["failed"] == 0 and counts["queued"] == counts["running"] == counts["pending"] == 0
        assert f"{FINDINGS} of {FINDINGS} drafts posted" in _summary_finished(slack, event["ts"])
        calls = [c for c in slack.of("chat.postMessage") if "await your review" in texts(c)]
        assert len(calls) == 1  # the reviewers are called once, whichever process finished the report
        if approved is not None:  # a decision made before the crash stands
            assert repo.findings.get(approved).approved
        after = _audit_rows(repo)
        assert after[: len(audit_before)] == audit_before  # no audit row lost or changed
        repo.close()


def _approve_the_first(repo: Repository) -> int:
    """A reviewer edits out the first drafted answer's placeholders and approves it, before the crash."""
    finding_id = next(j.finding_id for j in _jobs(repo) if j.state == "done")
    text = "The force accepts this recommendation and will report progress to the PCC's scrutiny board."
    repo.reviews.record(finding_id, REVIEWER, action="edit", new_text=text, expected_version=1)
    repo.reviews.record(finding_id, REVIEWER, action="approve", expected_version=2)
    return finding_id


def _jobs(repo: Repository) -> list[JobView]:
    return [repo.jobs.get(i) for i in range(1, FINDINGS + 1)]


def _settled(repo: Repository) -> int:
    counts = repo.jobs.counts()
    return counts["done"] + counts["failed"]


def _audit_rows(repo: Repository) -> list[tuple[int, str, str, str]]:
    with repo.sessions() as session:
        rows = session.query(schema.AuditEntry).order_by(schema.AuditEntry.id).all()
        return [(row.id, row.action, row.entity, row.entity_id) for row in rows]


def _summary_finished(slack: FakeSlack, thread_ts: str) -> str:
    for (channel, _ts), message in slack.messages.items():
        if channel == CHANNEL and message.get("thread_ts") == thread_ts and "drafts posted" in texts(message):
            return texts(message)
    return ""
