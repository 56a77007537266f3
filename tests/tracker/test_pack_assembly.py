"""The publication pack from the store (report order, comments, approved text only) and the learning loop."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from drafting.pack import PackIncomplete
from drafting.pack_render import WATERMARK
from retrieval.config import RetrievalConfig
from retrieval.index import PrecedentIndex
from retrieval.models import DocumentKind, InspectionType, ParsedDocument, SearchFilters
from tests.support.inspections import ANSWERS, PUBLISHED, REVIEWER, TITLE, approve_all, seed_inspection
from tests.support.store import draft, make_repo
from tracker.errors import InvalidInput, NotFound
from tracker.learning import learn_from_published, published_document
from tracker.pack_assembly import PackLetter, build_pack, export_pack, missing_answers
from tracker.repository import Repository

PCC = "I welcome this report and the focus it brings to the exploitation of children in our communities."
CC = "The Chief Constable accepts every recommendation and has set out the force's position below."
LETTER = PackLetter(pcc_name="Susan Dungworth")


def with_comments(repo: Repository, inspection_id: int) -> int:
    repo.inspections.set_comments(inspection_id, "U_LEAD", pcc=PCC, chief_constable=CC)
    return inspection_id


def headings(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.style.name.startswith(("Heading", "Title"))]


def test_the_pack_is_refused_while_one_answer_is_unapproved_and_names_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo, approve=(True, False, True))
    with pytest.raises(PackIncomplete) as refused:
        export_pack(repo, inspection.id, tmp_path / "out")
    assert [item.label for item in refused.value.missing] == ["Recommendation 2"]
    assert refused.value.missing[0].reason == "v1 drafted, not approved"
    assert "1 of 3 finding(s)" in str(refused.value) and "s.55(5B)" in str(refused.value)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_inspection_without_findings_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = repo.inspections.create(TITLE, PUBLISHED, "national thematic", "Northumbria", None, "U1")
    with pytest.raises(PackIncomplete, match="no findings recorded"):
        build_pack(repo, inspection.id)


def test_a_complete_pack_exports_markdown_and_a_word_file_python_docx_reopens(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    repo.inspections.set_comments(inspection.id, "U_LEAD", pcc=PCC, chief_constable=CC)
    exported = export_pack(repo, inspection.id, tmp_path / "out", LETTER)

    assert exported.markdown.name == f"inspection-{inspection.id}-{'-'.join(TITLE.lower().split())}-response.md"
    found = headings(exported.docx)
    # The seeds' layout: a title line and the letter's own heading; findings are bold labels, not headings.
    assert found == [
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE",
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS",
    ]
    rows = {row.cells[0].text: row.cells[1].text for row in Document(str(exported.docx)).tables[0].rows}
    assert rows["Inspection title"] == TITLE
    assert rows["Type of inspection"] == "☐ Northumbria-specific ☒ National Thematic"
    assert rows["Date inspection published"] == "8 December 2023"
    assert rows["Deadline for PCC response (56 days)"] == (
        "1 February 2024 (56 days beginning with publication on 8 Dec 2023, Police Act 1996 s.55(5A))"
    )
    assert rows["Recommendations"] == "☒ National ☐ Local"

    text = exported.markdown.read_text(encoding="utf-8")
    assert PCC in text and CC in text and "Susan Dungworth" in text
    positions = [text.index(answer) for answer in ANSWERS]
    assert positions == sorted(positions), "answers must follow the report's order"
    assert WATERMARK not in text


def test_the_pack_carries_the_approved_version_not_an_older_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo, approve=(True, True, False))
    last = repo.findings.of_inspection(inspection.id)[2]
    repo.reviews.record(last.id, REVIEWER, action="request_changes", comment="Name the audit lead.")
    repo.drafts.add(last.id, draft("Monthly audits are led by the head of public protection."))
    repo.reviews.record(last.id, REVIEWER, action="approve")
    pack = build_pack(repo, with_comments(repo, inspection.id), LETTER)
    assert missing_answers(repo.findings.answers(inspection.id)) == []
    assert pack.answers[2].text == "Monthly audits are led by the head of public protection."
    assert pack.answers[2].version == 2 and pack.answers[2].approved_by == REVIEWER


def test_a_watermarked_working_copy_is_allowed_and_marked(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo, approve=(False, False, True))
    exported = export_pack(repo, inspection.id, tmp_path, watermark=True)
    assert exported.docx.name.endswith("-WORKING-DRAFT.docx")
    paragraphs = [p.text for p in Document(str(exported.docx)).paragraphs]
    assert paragraphs[0] == WATERMARK
    text = exported.markdown.read_text(encoding="utf-8")
    assert "**Recommendation 1** *(not approved)* (" in text
    assert "[CONFIRM: the PCC's comments on the report as a whole]" in text  # none recorded yet


def test_reopening_an_approved_answer_makes_the_pack_refuse_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    build_pack(repo, with_comments(repo, inspection.id), LETTER)
    first = repo.findings.of_inspection(inspection.id)[0]
    repo.reviews.record(first.id, REVIEWER, action="reopen")
    with pytest.raises(PackIncomplete) as refused:
        build_pack(repo, inspection.id, LETTER)
    assert refused.value.missing[0].label == "Recommendation 1"
    assert "reopened" in refused.value.missing[0].reason


def test_comments_are_stored_audited_and_validated(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    repo.inspections.set_comments(inspection.id, "U_LEAD", pcc=f"  {PCC}\n")
    repo.inspections.set_comments(inspection.id, "U_LEAD", chief_constable=CC)
    stored = repo.inspections.comments(inspection.id)
    assert (stored.pcc, stored.chief_constable) == (PCC, CC)  # the second call kept the first text
    events = [e for e in repo.audit.events("inspection", inspection.id) if e.action == "set_comments"]
    assert [e.after for e in events] == [{"pcc_comments": PCC}, {"cc_comments": CC}]
    with pytest.raises(InvalidInput, match="empty"):
        repo.inspections.set_comments(inspection.id, "U_LEAD", pcc="   ")
    with pytest.raises(InvalidInput):
        repo.inspections.set_comments(inspection.id, "U_LEAD")
    with pytest.raises(NotFound):
        repo.inspections.set_comments(999, "U_LEAD", pcc=PCC)
    assert repo.inspections.comments(inspection.id).pcc == PCC  # refusals changed nothing


class RecordingIndex:
    def __init__(self) -> None:
        self.documents: list[ParsedDocument] = []

    def upsert_document(self, doc: ParsedDocument) -> object:
        self.documents.append(doc)
        return None


def test_only_a_published_response_joins_the_library_with_the_inspections_metadata(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo, approve=(True, True, False))
    index = RecordingIndex()
    with pytest.raises(InvalidInput, match="not marked published"):
        learn_from_published(repo, index, inspection.id)
    repo.inspections.mark_recipient(inspection.id, "published", "U_LEAD")
    result = learn_from_published(repo, index, inspection.id)
    (doc,) = index.documents
    assert result.doc_id == doc.meta.doc_id == f"inspection-{inspection.id}"
    assert doc.meta.force == "Northumbria" and doc.meta.kind is DocumentKind.PCC_RESPONSE
    assert doc.meta.inspection_title == TITLE
    assert doc.meta.inspection_type is InspectionType.NATIONAL_THEMATIC
    assert doc.meta.published == inspection.published
    # Only approved answers become precedents: the unapproved third one is not published wording.
    assert [p.response for p in doc.precedents] == list(ANSWERS[:2])
    assert [p.finding.label for p in doc.precedents] == ["Recommendation 1", "Recommendation 2"]


def test_published_answers_are_found_by_search_in_a_real_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    approve_all(repo, inspection.id)
    repo.inspections.mark_recipient(inspection.id, "published", "U_LEAD")
    index = PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "data"))
    first = learn_from_published(repo, index, inspection.id)
    assert (first.precedents, first.added > 0) == (3, True)
    again = learn_from_published(repo, index, inspection.id)
    assert again.added == 0, "re-running the learning loop must not duplicate precedents"

    hits = index.search("problem profile for child sexual exploitation refreshed quarterly", k=3)
    assert hits and hits[0].chunk.doc_id == f"inspection-{inspection.id}"
    assert ANSWERS[0] in hits[0].chunk.response
    own = index.search("monthly audits of exploitation cases", k=1, filters=SearchFilters(force="Northumbria"))
    assert own[0].chunk.meta.inspection_title == TITLE
    assert published_document(repo, inspection.id).meta.response_date is not None
