"""`responder draft` on the bundled corpus: a matter the library says nothing about gives an honest skeleton."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

runner = CliRunner()
STOP_AND_SEARCH = (
    "By 31 March 2027, chief constables should make sure that community representatives scrutinise a sample of "
    "stop and search records and body-worn video footage every quarter, and that the force publishes the results."
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESPONDER_FORCE", "Northumbria")
    monkeypatch.setenv("RESPONDER_LLM", "composer")
    assert runner.invoke(app, ["ingest", "--bundled"]).exit_code == 0
    return tmp_path / "data"


def test_nothing_in_the_library_gives_a_skeleton_of_the_asks_and_says_so() -> None:
    result = runner.invoke(app, ["draft", STOP_AND_SEARCH, "--json"])
    assert result.exit_code == 0, result.output
    draft = json.loads(result.stdout)
    plan = draft["plan"]
    assert [a["evidence"] for a in plan["asks"]] == [[], []]
    assert all(
        "stop and search" in (a["placeholder"] or "") or "publishes" in (a["placeholder"] or "") for a in plan["asks"]
    )
    assert draft["text"].count("[CONFIRM:") == 2 and draft["cited_ids"] == []
    assert any("No earlier answer" in note and "stop and search" in note for note in draft["notes"])
    for field in ("text", "sources", "engine", "placeholders", "guard", "shape"):
        assert field in draft  # today's fields are kept beside the plan


def test_the_markdown_view_shows_the_plan() -> None:
    result = runner.invoke(app, ["draft", STOP_AND_SEARCH])
    assert result.exit_code == 0, result.output
    assert "Plan" in result.output and "nothing found" in result.output
