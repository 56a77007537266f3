"""`responder deadlines …` and `responder pack`, through typer's CliRunner against a data dir in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from tests.support.cli import repo, run
from tests.support.inspections import ANSWERS, TITLE, approve_all, seed_inspection
from tests.support.store import findings


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    monkeypatch.delenv("RESPONDER_DATABASE_URL", raising=False)
    monkeypatch.setenv("RESPONDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESPONDER_FORCE", "Northumbria")
    monkeypatch.setenv("RESPONDER_PCC_NAME", "Susan Dungworth")
    return tmp_path / "data"


def listed() -> list[dict]:
    code, out = run("deadlines", "--json")
    assert code == 0, out
    return json.loads(out)


def test_add_then_list_soonest_first_with_the_statutory_last_day() -> None:
    code, out = run("deadlines", "add", "8", "Dec", "2023", *TITLE.split(), "--type", "national")
    assert code == 0, out
    assert "Last day 1 Feb 2024" in out and "s.55(5A)" in out
    code, out = run("deadlines", "add", "7th November 2023", "PEEL 2023: Northumbria Police", "--type", "peel")
    assert code == 0, out

    rows = listed()
    assert [row["title"] for row in rows] == ["PEEL 2023: Northumbria Police", TITLE]
    assert [row["last_day"] for row in rows] == ["2024-01-01", "2024-02-01"]
    assert rows[1]["inspection_type"] == "national thematic" and rows[0]["inspection_type"] == "PEEL"
    assert rows[1]["cc_comments_due"] == "2024-01-05"
    assert "56 days beginning with publication on 8 Dec 2023" in rows[1]["deadline_line"]
    assert (rows[1]["findings_approved"], rows[1]["findings_total"]) == (0, 0)

    code, out = run("deadlines")
    assert code == 0 and "1 Feb 2024" in out and "published + 55 days" in out
    assert json.loads(run("deadlines", "list", "--json")[1]) == rows


def test_the_list_counts_approvals() -> None:
    seed_inspection(repo(), approve=(True, False, True))
    (row,) = listed()
    assert (row["findings_approved"], row["findings_total"]) == (2, 3)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["31/02/2024", "A title"], "February 2024 has 29 days"),
        (["8", "Decc", "2023", "A title"], "'decc' is not a month name"),
        (["next", "Tuesday", "A title"], "relative dates"),
        (["2023-12-08"], "title"),
    ],
)
def test_malformed_dates_are_refused_with_exit_code_2(words: list[str], message: str) -> None:
    code, out = run("deadlines", "add", *words)
    assert code == 2
    assert message in " ".join(out.split())
    assert listed() == []


def test_unknown_ids_exit_3_and_bad_steps_exit_2() -> None:
    for args in (("show", "42"), ("done", "42", "published"), ("remind", "42", "7"), ("pack", "42")):
        command = ("deadlines", *args) if args[0] != "pack" else args
        code, out = run(*command)
        assert code == 3, (args, out)
        assert "no inspection with id 42" in out
    inspection = seed_inspection(repo())
    code, out = run("deadlines", "done", str(inspection.id), "posted")
    assert code == 2 and "published, sent-hmicfrs, sent-home-office" in " ".join(out.split())
    code, out = run("deadlines", "remind", str(inspection.id), "30,60")
    assert code == 2 and "0–55" in out


def test_show_remind_done_and_comments() -> None:
    inspection = seed_inspection(repo())
    code, out = run("deadlines", "remind", str(inspection.id), "21, 7,0")
    assert code == 0 and "21, 7, 0 days before 1 Feb 2024" in " ".join(out.split())
    (Path("pcc.txt")).write_text("I welcome the report.\n", encoding="utf-8")
    code, out = run("deadlines", "comments", str(inspection.id), "--pcc-file", "pcc.txt", "--cc", "The CC agrees.")
    assert code == 0, out
    code, out = run("deadlines", "done", str(inspection.id), "sent-hmicfrs")
    assert code == 0 and "sent to HMICFRS" in out

    code, out = run("deadlines", "show", str(inspection.id), "--json")
    detail = json.loads(out)
    assert detail["reminder_days"] == [21, 7, 0]
    assert detail["pcc_comments"] == "I welcome the report." and detail["chief_constable_comments"] == "The CC agrees."
    assert [r["done"] for r in detail["recipients"]] == [True, False]
    assert [f["label"] for f in detail["findings"]] == ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    assert "s.55(4)" in detail["cc_comments_line"]

    code, out = run("deadlines", "show", str(inspection.id))
    assert code == 0 and "Chief constable" in out and "Recommendation 2" in out


def test_pack_is_refused_listing_the_missing_answer_then_written_once_approved(tmp_path: Path) -> None:
    inspection = seed_inspection(repo(), approve=(True, False, True))
    out_dir = tmp_path / "packs"
    code, out = run("pack", str(inspection.id), "--out", str(out_dir))
    assert code == 4
    flat = " ".join(out.split())
    assert "Recommendation 2" in flat and "v1 drafted, not approved" in flat
    assert not out_dir.exists()

    code, out = run("pack", str(inspection.id), "--out", str(out_dir), "--draft-watermark")
    assert code == 0 and "NOT FOR PUBLICATION" in out
    assert len(list(out_dir.glob("*-WORKING-DRAFT.docx"))) == 1

    approve_all(repo(), inspection.id)
    code, out = run("pack", str(inspection.id), "--out", str(out_dir))
    flat = " ".join(out.split())
    assert code == 4 and "PCC's opening comments" in flat and "chief constable's comments" in flat
    repo().inspections.set_comments(inspection.id, "U_LEAD", pcc="I welcome the report.")
    waiver = "comments to follow under separate cover"
    code, out = run("pack", str(inspection.id), "--out", str(out_dir), "--waive-cc-comments", waiver)
    assert code == 0, out
    assert repo().audit.events("inspection", inspection.id)[-1].after["cc_waiver"] == waiver
    (docx,) = [p for p in out_dir.glob("*.docx") if "WORKING" not in p.name]
    document = Document(str(docx))
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows[0] == ["Inspection title", TITLE]
    assert rows[4] == ["Recommendations", "☒ National ☐ Local"]
    texts = [p.text for p in document.paragraphs]
    assert ANSWERS[1] in texts and "Susan Dungworth" in texts
    markdown = docx.with_suffix(".md").read_text(encoding="utf-8")
    assert markdown.count("\n**Recommendation ") + markdown.count("\n**Area for Improvement** (") == 3


def test_done_published_adds_the_answers_to_the_library_and_search_finds_them() -> None:
    inspection = seed_inspection(repo())
    code, out = run("search", "problem profile refreshed every quarter", "--json")
    assert code == 0 and json.loads(out) == []

    code, out = run("deadlines", "done", str(inspection.id), "published")
    assert code == 0, out
    flat = " ".join(out.split())
    assert "marked published" in flat and "3 approved answers added to the library" in flat
    assert "Still to send to: HMICFRS, Home Secretary" in flat
    assert [row["id"] for row in listed()] == [inspection.id]  # listed until sent to both recipients

    code, out = run("search", "problem profile for child sexual exploitation refreshed every quarter", "--json")
    hits = json.loads(out)
    assert hits[0]["chunk"]["doc_id"] == f"inspection-{inspection.id}"
    assert hits[0]["chunk"]["meta"]["force"] == "Northumbria"
    assert ANSWERS[0] in hits[0]["chunk"]["response"]


def test_a_failed_learning_loop_keeps_the_mark_and_says_to_run_again() -> None:
    from bot.services.inspection_desk import InspectionDesk

    def broken_index() -> object:
        raise OSError("disk full")

    store = repo()
    inspection = seed_inspection(store)
    service = InspectionDesk(store, force="Northumbria", index=broken_index)
    result = service.done(inspection.id, "published", "U_LEAD")
    assert result.learned is None and result.learn_error == "OSError"
    assert "run the same command again" in result.message
    assert store.inspections.get(inspection.id).published_at is not None  # the mark itself is kept


def test_comments_text_and_file_together_are_refused() -> None:
    inspection = seed_inspection(repo())
    Path("pcc.txt").write_text("From a file.", encoding="utf-8")
    code, out = run("deadlines", "comments", str(inspection.id), "--pcc", "Inline", "--pcc-file", "pcc.txt")
    assert code == 2 and "not both" in out
    code, out = run("deadlines", "comments", str(inspection.id), "--cc-file", "missing.txt")
    assert code == 2 and "cannot read" in out


# ── every statutory step seen through ────────────────────────────────────────────────────────────────────


def test_done_published_needs_a_finding_and_the_inspection_stays_listed_until_sent_to_both() -> None:
    code, out = run("deadlines", "add", "8 Dec 2023", TITLE)
    assert code == 0, out
    code, out = run("deadlines", "done", "1", "published")
    flat = " ".join(out.split())
    assert code == 1 and "has no findings recorded" in flat and "responder deadlines attach 1 --report FILE" in flat
    assert repo().inspections.get(1).published_at is None

    repo().findings.add(1, findings())
    code, out = run("deadlines", "done", "1", "published")
    assert code == 0 and "Still to send to: HMICFRS, Home Secretary" in " ".join(out.split())
    (row,) = listed()
    assert "next: send to HMICFRS" in row["deadline_line"]
    assert run("deadlines", "done", "1", "sent-home-office")[0] == 0
    (row,) = listed()
    assert "next: send to HMICFRS" in row["deadline_line"]
    code, out = run("deadlines", "done", "1", "sent-hmicfrs")
    assert code == 0 and "Every statutory step is done" in " ".join(out.split())
    assert listed() == []


def test_adding_the_same_inspection_twice_is_refused_with_the_first_id() -> None:
    assert run("deadlines", "add", "8 Dec 2023", TITLE)[0] == 0
    code, out = run("deadlines", "add", "2023-12-08", f"  {TITLE.lower()}  ")
    flat = " ".join(out.split())
    assert code == 1 and "already tracked as inspection #1" in flat and "nothing was added" in flat
    assert [row["id"] for row in listed()] == [1]


def test_attach_stores_a_reports_findings_once_and_is_audited(tmp_path: Path) -> None:
    from tests.support.slack_harness import REPORT_TEXT

    report = tmp_path / "missing-children.txt"
    report.write_text(REPORT_TEXT.replace("Published: 4 March 2025\n", ""), encoding="utf-8")
    assert run("deadlines", "add", "4 March 2025", "Missing children")[0] == 0

    code, out = run("deadlines", "attach", "1", "--report", str(report))
    flat = " ".join(out.split())
    assert code == 0, out
    assert "Attached 3 finding(s) from missing-children.txt to inspection 1" in flat and "Skipped 0" in flat
    store = repo()
    attached = store.findings.of_inspection(1)
    assert [f.label for f in attached] == ["Recommendation 1", "Recommendation 2", "Area for improvement"]
    events = [e for f in attached for e in store.audit.events("finding", f.id) if e.action == "attach"]
    assert [e.actor for e in events] == ["cli"] * 3 and events[0].after["source"] == "missing-children.txt"

    code, out = run("deadlines", "attach", "1", "--report", str(report))
    assert code == 0 and "Attached 0 finding(s)" in out and "Skipped 3 already attached" in " ".join(out.split())
    assert repo().inspections.get(1).findings_total == 3

    assert run("deadlines", "attach", "42", "--report", str(report))[0] == 3
    assert run("deadlines", "attach", "1", "--report", str(tmp_path / "missing.pdf"))[0] == 2
