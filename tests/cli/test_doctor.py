"""`responder doctor`: each check with ✓ or ✗ and what to do, exit 0 only when all pass, `--json`, `--slack`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.settings import Settings
from retrieval.index import COLLECTION_METADATA, make_client
from tests.support.slack_fake import FakeSlack
from tracker.db import migrate
from tracker.repository import Repository

runner = CliRunner()
BOT_TOKEN = "xoxb-never-printed-1234"
SECRET = "signing-secret-never-printed"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("RESPONDER_DATABASE_URL", "RESPONDER_SLACK_APP_TOKEN", "RESPONDER_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESPONDER_LLM", "composer")
    monkeypatch.setenv("RESPONDER_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("RESPONDER_SLACK_SIGNING_SECRET", SECRET)
    return tmp_path / "data"


def healthy() -> Settings:
    """A migrated database and an index holding one chunk (a stored vector: doctor counts, never embeds)."""
    settings = Settings()
    Repository.connect(settings.sqlalchemy_url).close()
    collection = make_client(settings.retrieval()).get_or_create_collection(
        settings.collection, metadata=COLLECTION_METADATA, embedding_function=None
    )
    collection.add(ids=["c1"], documents=["The force reviewed its audits."], embeddings=[[0.1] * 384])
    return settings


def doctor(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["doctor", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def checks(*args: str) -> dict[str, dict]:
    code, out = doctor("--json", *args)
    return {row["name"]: row | {"exit": code} for row in json.loads(out)}


def test_all_checks_pass_with_exit_0_and_no_token_is_ever_printed() -> None:
    healthy()
    code, out = doctor()
    assert code == 0, out
    for name in ("settings", "database reachable", "database migrated", "database writable", "precedent index"):
        assert f"✓ {name}" in out
    assert "1 chunks" in out and "composer" in out and "All checks passed." in out
    assert BOT_TOKEN not in out and SECRET not in out and "✗" not in out


def test_json_lists_every_check_with_its_todo() -> None:
    healthy()
    rows = checks()
    assert set(rows) >= {"settings", "database writable", "precedent index", "embedding model", "chat engine"}
    assert all(row["ok"] and row["todo"] == "" for row in rows.values())
    assert rows["embedding model"]["detail"] == "minilm-int8 loads (384 dimensions)"


def test_a_read_only_database_fails_writable_with_exit_1_and_says_what_to_do(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = healthy()
    monkeypatch.setenv("RESPONDER_DATABASE_URL", f"sqlite:///file:{env / 'responder.db'}?mode=ro&uri=true")
    assert Path(settings.sqlalchemy_url.removeprefix("sqlite:///")).exists()
    code, out = doctor()
    assert code == 1
    assert "✓ database reachable" in out and "✗ database writable" in out
    assert "attempt to write a readonly database" in out
    assert "→ Check the file's permissions or RESPONDER_DATABASE_URL" in out


def test_an_old_schema_fails_migrated(env: Path) -> None:
    settings = healthy()
    Path(settings.sqlalchemy_url.removeprefix("sqlite:///")).unlink()
    migrate(settings.sqlalchemy_url, "0001")
    row = checks()["database migrated"]
    assert not row["ok"] and row["exit"] == 1 and "schema at 0001" in row["detail"]
    assert "migrates the database" in row["todo"]


def test_an_empty_index_fails_with_how_to_fill_it() -> None:
    Repository.connect(Settings().sqlalchemy_url).close()
    row = checks()["precedent index"]
    assert not row["ok"] and "is empty" in row["detail"] and "responder ingest" in row["todo"]


def test_an_unreadable_index_fails_with_how_to_rebuild_it(env: Path) -> None:
    chroma = env / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").mkdir()  # the store's file is a directory: unreadable even as root
    row = checks()["precedent index"]
    assert not row["ok"] and row["exit"] == 1
    assert f"The precedent index at {chroma} cannot be read" in row["detail"]
    assert row["todo"].startswith("Run `responder ingest` (or `make run`) to rebuild it")


def test_missing_tokens_and_an_unknown_engine_fail_with_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy()
    monkeypatch.delenv("RESPONDER_SLACK_BOT_TOKEN")
    monkeypatch.setenv("RESPONDER_LLM", "nosuch:model")
    rows = checks()
    assert not rows["Slack tokens"]["ok"] and "RESPONDER_SLACK_BOT_TOKEN" in rows["Slack tokens"]["todo"]
    assert not rows["chat engine"]["ok"] and "nosuch" in rows["chat engine"]["detail"]


def test_slack_flag_runs_auth_test(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy()
    assert "Slack auth.test" not in checks()  # Slack is only called when asked
    with FakeSlack() as slack:
        monkeypatch.setenv("RESPONDER_SLACK_API_URL", slack.api_url)
        rows = checks("--slack")
        assert [call.method for call in slack.of("auth.test")] == ["auth.test"]
    assert rows["Slack auth.test"]["ok"] and "responder in PCC office" in rows["Slack auth.test"]["detail"]


def test_settings_that_do_not_load_are_the_one_failure_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPONDER_DRAFT_BUDGET", "-1")
    code, out = doctor()
    assert code == 1 and "✗ settings" in out and "RESPONDER_DRAFT_BUDGET" in out
