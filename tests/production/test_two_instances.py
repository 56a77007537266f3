"""Two `responder serve --http` processes on one PostgreSQL database and one Chroma server, as an office runs it.

Signed events go to either instance; each mention yields one draft, each click one decision, each reminder
one post, each queued draft is run by exactly one worker, and killing one instance mid-draft lets the other
finish it. The instances draft with the composer (the real, model-free engine) over the bundled corpus,
ingested once into the Chroma server. Generated whenever `RESPONDER_TEST_DATABASE_URL` and
`RESPONDER_TEST_CHROMA_HOST` are set, which `make test` (.ci/with-servers) and CI always do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.slack import constants as c
from tests.support.slack_fake import FakeSlack, SlackSender
from tests.support.slack_harness import BOT_TOKEN, CHANNEL, RECOMMENDATION, REVIEWER, SIGNING_SECRET, texts
from tracker.clock import uk_today
from tracker.repository import Repository

DATABASE = os.environ.get("RESPONDER_TEST_DATABASE_URL")
CHROMA_HOST = os.environ.get("RESPONDER_TEST_CHROMA_HOST")
CHROMA_PORT = os.environ.get("RESPONDER_TEST_CHROMA_PORT", "8000")
LEASE_SECONDS = 3
RESPONDER = str(Path(sys.executable).with_name("responder"))
SETUPS = ["production-backends"] if DATABASE and CHROMA_HOST else []

pytestmark = pytest.mark.slow


@dataclass
class Instance:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def events(self) -> str:
        return f"{self.base}/slack/events"

    def pid(self) -> int:
        return self.process.pid


@dataclass
class Cluster:
    slack: FakeSlack
    repo: Repository
    database_url: str
    env: dict[str, str]
    instances: dict[str, Instance]
    tmp: Path

    def sender(self, name: str, first: int) -> SlackSender:
        return SlackSender(self.instances[name].events, SIGNING_SECRET, first=first)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
            return bool(json.loads(response.read())["ready"])
    except (OSError, ValueError):
        return False


def _fresh_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"two_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _start(cluster_env: dict[str, str], tmp: Path, name: str) -> Instance:
    port = _free_port()
    log = tmp / f"{name}.log"
    env = {**cluster_env, "RESPONDER_DATA_DIR": str(tmp / name)}
    command = [RESPONDER, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: process.poll() is None and _ready(base), 120, f"instance {name} to be ready")
    except AssertionError:
        process.kill()
        raise AssertionError(f"instance {name} did not become ready:\n{log.read_text()[-3000:]}") from None
    return Instance(name, process, base, log)


@pytest.fixture(scope="module", params=SETUPS)
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    assert DATABASE and CHROMA_HOST
    tmp = tmp_path_factory.mktemp("two-instances")
    database_url, drop = _fresh_database(DATABASE)
    with FakeSlack() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")},
            "RESPONDER_DATABASE_URL": database_url,
            "RESPONDER_CHROMA_HOST": CHROMA_HOST,
            "RESPONDER_CHROMA_PORT": CHROMA_PORT,
            "RESPONDER_COLLECTION": f"two_{uuid.uuid4().hex[:8]}",
            "RESPONDER_LLM": "composer",
            "RESPONDER_SLACK_BOT_TOKEN": BOT_TOKEN,
            "RESPONDER_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "RESPONDER_SLACK_API_URL": slack.api_url,
            "RESPONDER_REVIEWERS": REVIEWER,
            "RESPONDER_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "RESPONDER_DRAFT_WORKERS": "1",
            "RESPONDER_REMINDER_DAYS": "0",
            "RESPONDER_REMINDER_NOT_BEFORE": "00:00",  # reminders post at any hour the test runs
        }
        ingest = subprocess.run(
            [RESPONDER, "ingest", "--bundled"],
            env={**env, "RESPONDER_DATA_DIR": str(tmp / "ingest")},
            capture_output=True,
            timeout=600,
        )
        assert ingest.returncode == 0, ingest.stderr.decode()[-2000:]
        repo = Repository.connect(database_url)
        # A reminder due today, before either instance starts: both sweep at start-up, one may post it.
        published = uk_today() - timedelta(days=55)
        repo.inspections.create(
            "A reminder test", published, "PEEL", "Northumbria", CHANNEL, "U_SETUP", reminder_days=[0]
        )
        instances = {name: _start(env, tmp, name) for name in ("a", "b")}
        try:
            yield Cluster(slack, repo, database_url, env, instances, tmp)
        finally:
            for instance in instances.values():
                if instance.process.poll() is None:
                    instance.process.send_signal(signal.SIGTERM)
            for instance in instances.values():
                try:
                    instance.process.wait(20)
                except subprocess.TimeoutExpired:
                    instance.process.kill()
            repo.close()
            drop()


def test_a_due_reminder_is_posted_once_by_two_instances(cluster: Cluster) -> None:
    _until(lambda: cluster.slack.of("chat.postMessage"), 30, "the reminder")
    time.sleep(1)  # the other instance's sweep has had its chance
    posts = [texts(call) for call in cluster.slack.of("chat.postMessage") if "A reminder test" in texts(call)]
    assert len(posts) == len(set(posts)) >= 1, posts  # every reminder once, never twice
    with cluster.repo.sessions() as session:
        slots = session.execute(text("SELECT count(*) FROM reminders WHERE posted_at IS NOT NULL")).scalar_one()
    assert slots == len(posts)


def test_each_mention_to_either_instance_yields_one_draft_even_when_both_get_it(cluster: Cluster) -> None:
    a, b = cluster.sender("a", 1_000), cluster.sender("b", 2_000)
    events = []
    for i, sender in enumerate([a, b, a, b]):
        event = sender.mention(f"{RECOMMENDATION} (request {i})")
        assert sender.event(event, event_id=f"EvTwo{i}").status == 200
        events.append(event)
    # Slack redelivers an event to whichever instance answers: the same event id to the other one.
    assert b.event(events[0], event_id="EvTwo0").status == 200
    for event in events:
        _until(lambda e=event: _card_in(cluster, e["ts"]), 60, "the draft card")
    for event in events:
        (finding,) = cluster.repo.findings.in_thread(CHANNEL, event["ts"])
        assert finding.latest_version == 1
        placeholders = [c for c in cluster.slack.of("chat.postMessage") if c.get("thread_ts") == event["ts"]]
        assert len(placeholders) == 1


def test_one_click_sent_to_both_instances_is_one_decision(cluster: Cluster) -> None:
    a, b = cluster.sender("a", 3_000), cluster.sender("b", 4_000)
    event = a.mention(f"{RECOMMENDATION} (to approve)")
    assert a.event(event).status == 200
    _until(lambda: _card_in(cluster, event["ts"]), 60, "the draft card")
    (finding,) = cluster.repo.findings.in_thread(CHANNEL, event["ts"])
    # A reviewer's own wording, with nothing left to confirm, so Approve is allowed.
    done = "The force accepts this recommendation; progress will be reported to the PCC's scrutiny board."
    cluster.repo.reviews.record(finding.id, REVIEWER, action="edit", new_text=done, expected_version=1)
    payload = a.block_action(
        c.ACTION_APPROVE, f"{finding.id}:2", REVIEWER, CHANNEL, finding.message_ts or "", event["ts"]
    )
    results: list[int] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.interaction(payload).status)) for s in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    _until(lambda: cluster.repo.findings.get(finding.id).approved, 30, "the approval")
    time.sleep(1)
    approvals = [r for r in cluster.repo.reviews.of(finding.id) if r.action == "approve"]
    assert len(approvals) == 1


def test_killing_one_instance_mid_draft_lets_the_other_finish_it(cluster: Cluster) -> None:
    a = cluster.sender("a", 5_000)
    report = "\n\n".join(
        ["# An inspection of how the police respond to missing children", "Published: 4 March 2025"]
        + [
            f"Recommendation {i}\n\nBy 30 September 2025, all chief constables should make sure that officers "
            f"record the child's views and risk {i} in the return home interview."
            for i in range(1, 9)
        ]
    )
    stored = cluster.slack.add_file("two-instances.txt", report.encode())
    event = a.mention("please draft the response", files=[{"id": stored.id, "name": stored.name}])
    assert a.event(event).status == 200
    victim = cluster.instances["a"]
    _until(lambda: _running_on(cluster, victim.pid()), 60, "instance a to be drafting")
    os.kill(victim.pid(), signal.SIGKILL)
    victim.process.wait(10)
    _until(lambda: _report_settled(cluster, event["ts"]) == 8, 120, "instance b to finish the report")
    inspection = cluster.repo.inspections.by_thread(CHANNEL, event["ts"])
    assert inspection is not None
    findings = cluster.repo.findings.of_inspection(inspection.id)
    assert len(findings) == 8 and all(f.latest_version == 1 for f in findings)
    with cluster.repo.sessions() as session:
        rows = session.execute(
            text("SELECT state, attempts, lease_owner FROM draft_jobs WHERE report_id IS NOT NULL")
        ).all()
    assert all(state == "done" for state, _, _ in rows)
    assert any(attempts == 2 for _, attempts, _ in rows), "no job was taken over from the killed instance"
    for finding in findings:
        message = cluster.slack.messages[(CHANNEL, finding.message_ts or "")]
        assert "draft_actions" in str(message["blocks"])


def _card_in(cluster: Cluster, thread_ts: str) -> bool:
    return any(
        m.get("thread_ts") == thread_ts and "draft_actions" in str(m.get("blocks"))
        for m in list(cluster.slack.messages.values())
    )


def _running_on(cluster: Cluster, pid: int) -> bool:
    with cluster.repo.sessions() as session:
        owners = session.execute(text("SELECT lease_owner FROM draft_jobs WHERE state = 'running'")).scalars().all()
    return any(owner and f":{pid}:" in owner for owner in owners)


def _report_settled(cluster: Cluster, thread_ts: str) -> int:
    with cluster.repo.sessions() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM draft_jobs j JOIN report_runs r ON r.id = j.report_id "
                    "WHERE r.thread_ts = :ts AND j.state IN ('done', 'failed')"
                ),
                {"ts": thread_ts},
            ).scalar_one()
        )
