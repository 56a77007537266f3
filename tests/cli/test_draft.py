"""`responder draft` on the bundled corpus: a matter the library says nothing about gives an honest skeleton."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

runner = CliRunner()
STOP_AND_SEARCH = (
    "By 31 March 2027, chief constables should make sure that community representatives scrutinise a sample of "
    "stop and search records and body-worn video footage every quarter, and that the force publishes the results."
)


@pytest.fixture(scope="module", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled corpus ingested once for the module (it takes seconds), in a folder of its own."""
    root = tmp_path_factory.mktemp("cli-draft")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("RESPONDER_DATA_DIR", str(root / "data"))
        patch.setenv("RESPONDER_FORCE", "Northumbria")
        patch.setenv("RESPONDER_LLM", "composer")
        assert runner.invoke(app, ["ingest", "--bundled"]).exit_code == 0
        yield root / "data"


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
