"""`responder register …` through typer's CliRunner against a data dir in tmp_path."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.support.cli import repo, run
from tests.support.inspections import REVIEWER, seed_inspection
from tracker.register import EXPORT_COLUMNS, Rag, RegisterStatus


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    monkeypatch.delenv("RESPONDER_DATABASE_URL", raising=False)
    monkeypatch.delenv("RESPONDER_REVIEWERS", raising=False)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def published() -> list[int]:
    """The three sample findings approved and the inspection marked published: their register item ids."""
    store = repo()
    inspection = seed_inspection(store)
    store.inspections.mark_recipient(inspection.id, "published", REVIEWER, require_findings=True)
    ids = [item.id for item in store.register.items(inspection_id=inspection.id)]
    store.close()
    return ids


def listed(*options: str) -> list[dict]:
    code, out = run("register", "--json", *options)
    assert code == 0, out
    return json.loads(out)


def test_the_list_shows_each_item_and_the_filters_narrow_it() -> None:
    ids = published()
    rows = listed()
    assert [row["id"] for row in rows] == ids
    assert [row["finding_label"] for row in rows] == ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    assert rows[0]["due"] == "2024-12-31" and rows[0]["overdue"] is True  # past: the tests run after 2024
    assert rows[1]["due"] is None and rows[1]["overdue"] is False

    assert [row["id"] for row in listed("--overdue")] == [ids[0]]
    assert listed("--status", "closed") == []
    assert listed("--owner", "U_NOBODY") == []

    code, out = run("register")
    assert code == 0, out
    assert "Recommendation register" in out and "Recommendation 1" in out and "(overdue)" in out


def test_an_empty_register_says_how_items_arrive() -> None:
    code, out = run("register")
    assert code == 0 and "marked published" in out


def test_update_stores_status_rag_note_and_evidence() -> None:
    first = published()[0]
    code, out = run(
        "register",
        "update",
        str(first),
        "--status",
        "in_progress",
        "--rag",
        "amber",
        "--note",
        "Plan drafted.",
        "--evidence",
        "https://a.test/plan",
        "--evidence",
        "https://b.test/minutes",
    )
    assert code == 0, out
    assert "in progress" in out and "RAG amber" in out
    item = repo().register.get(first)
    assert (item.status, item.rag) == (RegisterStatus.IN_PROGRESS, Rag.AMBER)
    last = item.last_update
    assert last is not None and last.actor == "cli" and last.note == "Plan drafted."
    assert last.evidence == ("https://a.test/plan", "https://b.test/minutes")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--status", "finished", "--note", "x"], 2, "Unknown status 'finished'"),
        (["--status", "in_progress"], 2, "needs a note"),
        (["--status", "closed", "--note", "Done."], 1, "cannot go to closed"),
        (["--rag", "purple", "--note", "x"], 2, "RAG rating"),
    ],
)
def test_bad_updates_are_refused_with_a_clear_error(args: list[str], code: int, message: str) -> None:
    first = published()[0]
    exit_code, out = run("register", "update", str(first), *args)
    assert exit_code == code and message in " ".join(out.split())
    assert len(repo().register.get(first).history) == 1  # nothing stored


def test_an_unknown_item_points_at_the_register() -> None:
    published()
    code, out = run("register", "update", "999", "--note", "x")
    assert code == 3 and "no register item with id 999" in out and "responder register" in out


def test_closing_from_the_command_line_needs_a_reviewer(monkeypatch: pytest.MonkeyPatch) -> None:
    first = published()[0]
    monkeypatch.setenv("RESPONDER_REVIEWERS", REVIEWER)
    assert run("register", "update", str(first), "--status", "implemented", "--note", "Done.")[0] == 0
    code, out = run("register", "update", str(first), "--status", "closed", "--note", "Seen.", "--by", "U_OTHER")
    assert code == 1 and "Only the configured reviewers can close a register item" in " ".join(out.split())
    code, out = run("register", "update", str(first), "--status", "closed", "--note", "Seen.", "--by", REVIEWER)
    assert code == 0, out
    assert repo().register.get(first).status is RegisterStatus.CLOSED


def test_export_xlsx_has_the_header_and_a_row_an_item_with_real_dates(tmp_path: Path) -> None:
    ids = published()
    path = tmp_path / "register.xlsx"
    code, out = run("register", "export", "--format", "xlsx", "--output", str(path))
    assert code == 0, out
    assert "Wrote 3 register item(s)" in out

    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    assert [row[0] for row in rows[1:]] == ids
    first = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert first["Due"] == datetime(2024, 12, 31)  # a date cell (openpyxl reads dates back as datetimes)
    assert isinstance(first["Created"], datetime) and first["Status"] == "open"
    assert sheet.column_dimensions["A"].width >= 6 and sheet.column_dimensions["F"].width <= 60


def test_export_csv_has_the_same_columns(tmp_path: Path) -> None:
    ids = published()
    path = tmp_path / "register.csv"
    code, out = run("register", "export", "--format", "csv", "--output", str(path))
    assert code == 0, out
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [int(row[0]) for row in rows[1:]] == ids
    assert rows[1][EXPORT_COLUMNS.index("Due")] == "2024-12-31"
    assert date.fromisoformat(rows[1][EXPORT_COLUMNS.index("Created")])
    assert rows[2][EXPORT_COLUMNS.index("Due")] == ""


def test_an_unknown_format_is_refused() -> None:
    code, out = run("register", "export", "--format", "pdf")
    assert code == 2 and "pdf" in out


def test_an_update_from_the_command_line_becomes_the_forces_latest_position_in_the_library() -> None:
    first = published()[0]
    note = "We have published a problem profile for child sexual exploitation, refreshed every year."
    code, out = run("register", "update", str(first), "--status", "in_progress", "--note", note, "--by", "U_LEAD")
    assert code == 0, out
    assert "latest position" in " ".join(out.split())

    code, out = run("search", "problem profile for child sexual exploitation refreshed", "--json")
    assert code == 0, out
    assert f"register-item-{first}" in out


def test_assign_and_due_set_an_owner_and_a_date_by_hand() -> None:
    first = published()[1]
    code, out = run("register", "assign", str(first), "--owner", "<@U_OWNER>", "--by", "U_LEAD")
    assert code == 0 and "owner U_OWNER" in out, out
    code, out = run("register", "due", str(first), "2026-03-31", "--by", "U_LEAD")
    assert code == 0 and "due" in out, out
    (row,) = [row for row in listed("--owner", "U_OWNER")]
    assert row["id"] == first and row["due"] == "2026-03-31"

    assert run("register", "due", str(first), "31 Smarch")[0] == 2
    assert run("register", "assign", str(first))[0] == 2  # neither an owner nor --clear
    code, out = run("register", "assign", str(first), "--clear")
    assert code == 0 and "owner none" in out
    assert [entry["kind"] for entry in listed()[1]["history"]] == ["create", "assign", "set_due", "assign"]
