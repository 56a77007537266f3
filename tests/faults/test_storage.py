"""Storage faults (issue 10): a full, read-only or unreachable database and an unreadable index, told in plain
words, with Slack always acked and recovery without a restart.

The faults are real, and real as root too (where chmod stops nothing): SQLite's own limits on the bot's
connections (`max_page_count` at the file's size, so a write that needs a page fails with SQLITE_FULL;
`query_only`, so every write fails with "attempt to write a readonly database"), a database opened read-only
(`mode=ro`), a path that is a directory, and an index whose SQLite file is a directory or garbage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from bot.cli.main import app
from bot.composition import Backends
from bot.services.errors import describe_error, is_expected
from bot.settings import Settings
from bot.slack import constants as c
from retrieval.faults import IndexUnavailable
from tests.support.slack_harness import BOT_TOKEN, CHANNEL, RECOMMENDATION, REVIEWER, SIGNING_SECRET, Harness
from tests.support.store import make_repo
from tracker.faults import StorageProblem, safe_url, storage_problem

FULL_WORDS = "I cannot save anything right now: the database is full."
READ_ONLY_WORDS = "I cannot save anything right now: the database is read-only."
TODO_WORDS = "tell your administrator; try again once it is fixed"


# ── injecting the faults into the bot's own engine ───────────────────────────────────────────────────────


def engine_of(h: Harness) -> Engine:
    bind = h.store.sessions.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


@contextmanager
def pragma_on_every_connection(engine: Engine, pragma: str) -> Iterator[None]:
    """Run `pragma` on every connection the bot checks out, until the block ends; then fresh connections."""

    def apply(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.execute(pragma)

    engine.dispose()
    event.listen(engine, "checkout", apply)
    try:
        yield
    finally:
        event.remove(engine, "checkout", apply)
        engine.dispose()  # the pragmas die with their connections: storage is back


@contextmanager
def database_full(h: Harness) -> Iterator[None]:
    """The file may not grow by a page, and the event table's pages are filled to the brim."""
    engine = engine_of(h)
    with engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
    with pragma_on_every_connection(engine, f"PRAGMA max_page_count = {pages}"):
        for width in (200, 60, 20, 8):  # big ballast first, then smaller, until not even a short key fits
            for n in range(100_000):
                try:
                    h.store.events.claim(f"b{width}-{n}".ljust(width, "x"))
                except OperationalError:
                    break
        with pytest.raises(OperationalError, match="full"):  # the fault is real: an event claim fails
            h.store.events.claim("event:EvProbe00001")
        yield


def mentions_in_thread(h: Harness, thread_ts: str) -> list[str]:
    return [call.get("text") or "" for call in h.slack.of("chat.postMessage") if call.get("thread_ts") == thread_ts]


def storage_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING and "database" in r.getMessage()]


# ── Slack: always acked, told once, recovered without a restart ──────────────────────────────────────────


def test_a_full_database_acks_200_tells_the_thread_once_and_recovers_without_restart(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with database_full(h):
        event, response = h.mention()
        assert response.status == 200  # no 500: Slack does not retry into a storm
        told = h.slack.wait_calls("chat.postMessage", thread_ts=event["ts"])[0]
        assert FULL_WORDS in told["text"] and TODO_WORDS in told["text"]
        assert "Traceback" not in told["text"] and "OperationalError" not in told["text"]
        h.wait_idle()
        assert len(mentions_in_thread(h, event["ts"])) == 1  # one message, no draft placeholder
        assert h.store.findings.in_thread(CHANNEL, event["ts"]) == []

    warnings = storage_logs(caplog)
    assert warnings, "a WARNING line says the database is full"
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in warnings)
    assert not any(RECOMMENDATION[:40] in r.getMessage() for r in caplog.records)
    assert any("full" in r.getMessage() for r in warnings)

    # Storage is back: the next mention drafts, with the same process and the same engine.
    again, response = h.mention()
    assert response.status == 200
    placeholder = h.placeholder_for(again)
    h.wait_draft(placeholder.ts)
    assert len(h.store.findings.in_thread(CHANNEL, again["ts"])) == 1


def test_a_read_only_database_is_told_plainly_to_a_mention_a_click_and_a_slash_command_then_recovers(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    drafted, _ = h.mention()
    card = h.placeholder_for(drafted)
    h.wait_draft(card.ts)
    finding = h.store.findings.in_thread(CHANNEL, drafted["ts"])[0]
    h.slack.clear()

    with pragma_on_every_connection(engine_of(h), "PRAGMA query_only = ON"):
        event, response = h.mention()
        assert response.status == 200
        told = h.slack.wait_calls("chat.postMessage", thread_ts=event["ts"])[0]
        assert READ_ONLY_WORDS in told["text"]

        ack = h.slash("list", REVIEWER)
        assert READ_ONLY_WORDS in ack["text"]  # the command's own ack, ephemeral, not a 500

        assert h.click(c.ACTION_APPROVE, f"{finding.id}:1", REVIEWER, card.ts, drafted["ts"]).status == 200
        ephemeral = h.slack.wait_calls("chat.postEphemeral", user=REVIEWER)[0]
        assert READ_ONLY_WORDS in ephemeral["text"] and "Something went wrong" not in ephemeral["text"]

    assert h.store.findings.get(finding.id).state == finding.state  # nothing was approved
    assert all(r.exc_info is None for r in storage_logs(caplog))
    # Recovery without a restart: the same click reaches the review rules again (which refuse it for its
    # placeholders, not for the storage), and a new mention drafts.
    h.slack.clear()
    h.click(c.ACTION_APPROVE, f"{finding.id}:1", REVIEWER, card.ts, drafted["ts"])
    answer = h.slack.wait_calls("chat.postEphemeral", user=REVIEWER)[0]["text"]
    assert "CONFIRM" in answer and READ_ONLY_WORDS not in answer
    again, _ = h.mention()
    h.wait_draft(h.placeholder_for(again).ts)


def test_a_bug_in_the_claim_is_not_dressed_up_as_a_storage_fault() -> None:
    assert storage_problem(ValueError("database or disk is full")) is None  # words alone are not a fault
    assert describe_error(ValueError("x"))[0].startswith("Something went wrong")


# ── start-up: one line and a non-zero exit, never a traceback ────────────────────────────────────────────

runner = CliRunner()


@pytest.fixture
def serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESPONDER_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("RESPONDER_SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("RESPONDER_LLM", "composer")
    return tmp_path


class MustNotListen:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the server started on a database it cannot use")


def serve_with(monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[int, str]:
    monkeypatch.setenv("RESPONDER_DATABASE_URL", url)
    monkeypatch.setattr("bot.slack.transport.HttpServer", MustNotListen)
    result = runner.invoke(app, ["serve", "--http", "--port", "3999", "--host", "127.0.0.1"])
    # SystemExit is typer's clean exit; any other exception would be the traceback we promise never to show.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_start_up_on_a_read_only_database_prints_one_line_and_exits_non_zero(
    serve_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(serve_env, name="ro.db").close()  # migrated to head, then opened read-only: a real read-only file
    code, out = serve_with(monkeypatch, f"sqlite:///file:{serve_env / 'ro.db'}?mode=ro&uri=true")
    assert code != 0
    assert "Responder cannot write its database at sqlite:///file:" in out
    assert "attempt to write a readonly database" in out
    assert "Check the file's permissions or RESPONDER_DATABASE_URL, then start again." in out
    assert "Traceback" not in out and len([line for line in out.splitlines() if line.strip()]) == 1


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///{dir}", "cannot reach its database"),  # the database path is a directory
        ("not a database url", "Fix RESPONDER_DATABASE_URL"),
        ("postgresql://responder:hunter2@127.0.0.1:1/responder", "postgresql://responder:***@127.0.0.1:1"),
    ],
)
def test_start_up_on_an_unreachable_or_invalid_database_prints_one_line(
    serve_env: Path, monkeypatch: pytest.MonkeyPatch, url: str, words: str
) -> None:
    code, out = serve_with(monkeypatch, url.format(dir=serve_env))
    assert code != 0
    assert words in out and "hunter2" not in out and "Traceback" not in out
    assert "then start again." in out


# ── the index: plain words instead of "Something went wrong (AttributeError)" ────────────────────────────


def broken_index(tmp_path: Path) -> Settings:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", llm="composer")  # type: ignore[call-arg]
    settings.chroma_dir.mkdir(parents=True)
    (settings.chroma_dir / "chroma.sqlite3").mkdir()  # the store's file is a directory: unreadable, even as root
    return settings


def test_an_unreadable_index_says_where_and_what_to_do_every_time_and_recovers(tmp_path: Path) -> None:
    settings = broken_index(tmp_path)
    backends = Backends(settings)
    for _ in range(2):  # the second attempt used to be an AttributeError from Chroma's half-built client
        with pytest.raises(IndexUnavailable) as caught:
            _ = backends.drafter
        problem, todo = describe_error(caught.value)
        assert f"The precedent index at {settings.chroma_dir} cannot be read" in problem
        assert todo == "Run `responder ingest` (or `make run`) to rebuild it, or check its permissions."
        assert is_expected(caught.value)
    (settings.chroma_dir / "chroma.sqlite3").rmdir()
    assert backends.index.count() == 0  # fixed without a restart


def test_start_up_with_an_unreadable_index_logs_one_warning_and_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.cli.serve import warn_about_the_index

    settings = broken_index(tmp_path)
    with caplog.at_level(logging.WARNING):
        warn_about_the_index(settings)  # returns: the bot serves reviews and deadlines without an index
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(settings.chroma_dir) in record.getMessage() and "responder ingest" in record.getMessage()
    assert record.exc_info is None and "\n" not in record.getMessage()


def test_a_garbage_index_file_is_an_index_fault_not_a_storage_fault(tmp_path: Path) -> None:
    settings = broken_index(tmp_path)
    (settings.chroma_dir / "chroma.sqlite3").rmdir()
    (settings.chroma_dir / "chroma.sqlite3").write_bytes(b"not a database" * 500)
    with pytest.raises(IndexUnavailable) as caught:
        _ = Backends(settings).index
    assert describe_error(caught.value)[0].startswith("I cannot draft right now: The precedent index at")


# ── the classifier ───────────────────────────────────────────────────────────────────────────────────────


def test_each_storage_fault_is_named_from_the_drivers_own_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    engine = repo.sessions.kw["bind"]
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA query_only = ON")
            with pytest.raises(OperationalError) as read_only:
                connection.exec_driver_sql("INSERT INTO processed_events (key, created_at) VALUES ('k', 'now')")
    finally:
        repo.close()
    assert storage_problem(read_only.value) is StorageProblem.READ_ONLY
    wrapped = RuntimeError("while claiming")
    wrapped.__cause__ = read_only.value
    assert storage_problem(wrapped) is StorageProblem.READ_ONLY  # found anywhere in the chain
    assert safe_url("postgresql://u:secret@db/x") == "postgresql://u:***@db/x"
