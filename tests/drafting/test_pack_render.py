from datetime import date

import pytest
from docx import Document

from drafting.pack import Pack, PackAnswer, PackHeader, PackIncomplete
from drafting.pack_render import export_docx, render_markdown
from retrieval.models import Finding, FindingKind, InspectionType

R1 = Finding(number="1", text="All chief constables should review problem profiles.")
R2 = Finding(number="2", text="The Home Office should publish guidance.")
AFI = Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve its audits.")


def pack(approved: tuple[bool, ...] = (True, True, True), watermark: bool = False) -> Pack:
    findings = [R1, R2, AFI]
    return Pack(
        header=PackHeader(
            inspection_title="An inspection of group-based child sexual exploitation",
            inspection_type=InspectionType.NATIONAL_THEMATIC,
            published=date(2023, 12, 8),
            last_day=date(2024, 2, 1),
            deadline_rule="published + 55 days, s.55(5A)",
        ),
        force="Northumbria",
        pcc_name="A. Commissioner",
        answers=[
            PackAnswer(finding=f, text=f"Answer {i}", approved=ok, version=1)
            for i, (f, ok) in enumerate(zip(findings, approved, strict=True), start=1)
        ],
        watermark=watermark,
    )


def test_complete_pack_renders_in_report_order_with_header_and_sign_off() -> None:
    text = render_markdown(pack())
    assert (
        text.index("### Recommendation 1") < text.index("### Recommendation 2") < text.index("### Area for improvement")
    )
    assert "| Last day for PCC response (56 days) | 1 February 2024 (published + 55 days, s.55(5A)) |" in text
    assert "| Recommendations | National |" in text
    assert "A. Commissioner" in text and "PCC for Northumbria" in text
    assert "WORKING DRAFT" not in text


def test_pack_refuses_while_an_answer_is_unapproved_and_lists_it() -> None:
    with pytest.raises(PackIncomplete) as info:
        render_markdown(pack(approved=(True, False, True)))
    assert [m.label for m in info.value.missing] == [R2.label]
    assert "Recommendation 2" in str(info.value)


def test_watermarked_working_copy_is_allowed_and_marked() -> None:
    text = render_markdown(pack(approved=(False, False, True), watermark=True))
    assert text.startswith("> **WORKING DRAFT")
    assert "### Recommendation 1 *(not approved)*" in text


def test_docx_export_has_headings_and_a_real_header_table(tmp_path) -> None:
    path = export_docx(pack(), tmp_path / "pack.docx")
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "NORTHUMBRIA PCC RESPONSE TO HMICFRS"
    assert "Recommendation 2" in headings and "Area for improvement" in headings
    rows = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert rows[0] == ["Inspection title", "An inspection of group-based child sexual exploitation"]
    assert rows[2] == ["Date inspection published", "8 December 2023"]


def test_docx_export_refuses_incomplete_pack(tmp_path) -> None:
    with pytest.raises(PackIncomplete):
        export_docx(pack(approved=(False, True, True)), tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()
