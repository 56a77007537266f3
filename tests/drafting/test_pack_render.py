"""The response pack laid out as the office's published responses (the Northumbria seeds), in Markdown and Word."""

from __future__ import annotations

import re
import sys
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from drafting.pack import Pack, PackAnswer, PackHeader, PackIncomplete
from drafting.pack_render import (
    DEFAULT_TEMPLATE,
    PDF_MISSING,
    PackTemplateError,
    answer_groups,
    export_docx,
    export_pdf,
    pdf_command,
    render_markdown,
)
from drafting.pack_template import build_template
from retrieval.models import Finding, FindingKind, InspectionType

ROOT = Path(__file__).parents[2]
TITLE = "An inspection of group-based child sexual exploitation"
OFFICE = "Office of the Police and Crime Commissioner for Northumbria"
R1 = Finding(number="1", text="All chief constables should review problem profiles.")
R2 = Finding(number="2", text="The Home Office should publish guidance.")
AFI = Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve its audits.")
COC = Finding(kind=FindingKind.CAUSE_OF_CONCERN, number="1", text="The force does not safeguard children well.")
COC_R = Finding(text="To address this cause of concern, the force should review its triage within six months.")
CC = "The Chief Constable has provided me with a position statement in respect of Northumbria Police (NP)."
INVENTED = ("Response to each finding", "Sign-off", "PCC's comments", "Chief Constable's comments")


def pack(
    approved: tuple[bool, ...] = (True, True, True),
    watermark: bool = False,
    findings: tuple[Finding, ...] = (R1, R2, AFI),
    kind: InspectionType = InspectionType.NATIONAL_THEMATIC,
    **fields: object,
) -> Pack:
    values: dict[str, object] = {
        "force": "Northumbria",
        "pcc_name": "A. Commissioner",
        "pcc_comments": "I welcome the report on group-based child sexual exploitation.",
        "chief_constable_comments": CC,
        **fields,
    }
    return Pack(
        header=PackHeader(
            inspection_title=TITLE,
            inspection_type=kind,
            published=date(2023, 12, 8),
            last_day=date(2024, 2, 1),
            deadline_rule="published + 55 days, s.55(5A)",
        ),
        answers=[
            PackAnswer(finding=f, text=f"Answer {i}", approved=ok, version=1)
            for i, (f, ok) in enumerate(zip(findings, approved, strict=True), start=1)
        ],
        watermark=watermark,
        **values,
    )


def body(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def table(path: Path) -> dict[str, str]:
    return {row.cells[0].text: row.cells[1].text for row in Document(str(path)).tables[0].rows}


# ── Markdown ─────────────────────────────────────────────────────────────────────────────────────────────


def test_markdown_follows_the_seeds_layout_in_report_order() -> None:
    text = render_markdown(pack())
    assert text.startswith("**OFFICIAL**\n\n# NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE\n")
    assert "| Type of inspection | ☐ Northumbria-specific ☒ National Thematic |" in text
    assert "| Deadline for PCC response (56 days) | 1 February 2024 (published + 55 days, s.55(5A)) |" in text
    assert "| Recommendations | ☒ National ☐ Local |" in text
    assert "\n## NORTHUMBRIA PCC RESPONSE TO HMICFRS\n" in text
    one = f"**Recommendation 1** ({R1.text})\n\nAnswer 1"
    two = f"**Recommendation 2** ({R2.text})\n\nAnswer 2"
    afi = f"**Area for Improvement** ({AFI.text})\n\nAnswer 3"
    assert text.index(CC) < text.index(one) < text.index(two) < text.index(afi)
    assert "**Recommendation** (The force should improve" not in text
    close = text.index("I will monitor progress where further action is required")
    assert "through my regular HMICFRS Scrutiny process." in text[close:]
    assert text.index(afi) < close < text.index("Yours sincerely,") < text.index("A. Commissioner")
    assert text.rstrip().endswith("PCC for Northumbria\n\n**OFFICIAL**")
    assert not [heading for heading in INVENTED if heading in text]
    assert "WORKING DRAFT" not in text


@pytest.mark.parametrize(
    ("kind", "type_row", "scope_row"),
    [
        (InspectionType.FORCE_SPECIFIC, "☒ Northumbria-specific ☐ National Thematic", "☐ National ☒ Local"),
        (InspectionType.PEEL, "☒ Northumbria-specific ☐ National Thematic", "☐ National ☒ Local"),
        (InspectionType.NATIONAL_THEMATIC, "☐ Northumbria-specific ☒ National Thematic", "☒ National ☐ Local"),
        (
            InspectionType.UNKNOWN,
            "☐ Northumbria-specific ☐ National Thematic [CONFIRM: type of inspection]",
            "☐ National ☐ Local",
        ),
    ],
)
def test_the_right_boxes_are_ticked_in_both_renderings(
    tmp_path: Path, kind: InspectionType, type_row: str, scope_row: str
) -> None:
    text = render_markdown(pack(kind=kind))
    assert f"| Type of inspection | {type_row} |" in text and f"| Recommendations | {scope_row} |" in text
    rows = table(export_docx(pack(kind=kind), tmp_path / "pack.docx"))
    assert (rows["Type of inspection"], rows["Recommendations"]) == (type_row, scope_row)


def test_a_cause_of_concern_is_answered_together_with_the_recommendation_after_it(tmp_path: Path) -> None:
    findings = (R1, COC, COC_R, AFI)
    complete = pack(approved=(True,) * 4, findings=findings)
    assert [[a.finding for a in group] for group in answer_groups(complete.answers)] == [[R1], [COC, COC_R], [AFI]]
    text = render_markdown(complete)
    block = f"**Cause of concern 1** ({COC.text})\n\n**Recommendation** ({COC_R.text})\n\nAnswer 2\n\nAnswer 3\n\n"
    assert block in text

    paragraphs = body(export_docx(complete, tmp_path / "pack.docx"))
    start = paragraphs.index(f"Cause of concern 1 ({COC.text})")
    assert paragraphs[start : start + 4] == [
        f"Cause of concern 1 ({COC.text})",
        f"Recommendation ({COC_R.text})",
        "Answer 2",
        "Answer 3",
    ]


def test_a_cause_of_concern_without_a_recommendation_after_it_stands_alone() -> None:
    answers = pack(approved=(True,) * 3, findings=(COC, AFI, R1)).answers
    assert [len(group) for group in answer_groups(answers)] == [1, 1, 1]


def test_pack_refuses_while_an_answer_is_unapproved_and_lists_it() -> None:
    with pytest.raises(PackIncomplete) as info:
        render_markdown(pack(approved=(True, False, True)))
    assert [m.label for m in info.value.missing] == [R2.label]
    assert "Recommendation 2" in str(info.value)


def test_watermarked_working_copy_is_allowed_and_marked(tmp_path: Path) -> None:
    working = pack(approved=(False, False, True), watermark=True)
    text = render_markdown(working)
    assert text.startswith("**OFFICIAL**\n\n> **WORKING DRAFT")
    assert f"**Recommendation 1** *(not approved)* ({R1.text})" in text
    paragraphs = body(export_docx(working, tmp_path / "pack.docx"))
    assert paragraphs[0] == "WORKING DRAFT: NOT APPROVED, NOT FOR PUBLICATION"
    assert f"Recommendation 1 (not approved) ({R1.text})" in paragraphs


# ── Word ─────────────────────────────────────────────────────────────────────────────────────────────────


def test_docx_has_the_seeds_structure(tmp_path: Path) -> None:
    path = export_docx(pack(), tmp_path / "pack.docx")
    document = Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == [
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE",
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS",
    ]
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert [row[0] for row in rows] == [
        "Inspection title",
        "Type of inspection",
        "Date inspection published",
        "Deadline for PCC response (56 days)",
        "Recommendations",
    ]
    assert rows[0][1] == TITLE and rows[2][1] == "8 December 2023"
    assert rows[1][1] == "☐ Northumbria-specific ☒ National Thematic" and rows[4][1] == "☒ National ☐ Local"

    paragraphs = body(path)
    assert not [p for p in paragraphs if p in INVENTED]
    for label, answer in [
        (f"Recommendation 1 ({R1.text})", "Answer 1"),
        (f"Recommendation 2 ({R2.text})", "Answer 2"),
        (f"Area for Improvement ({AFI.text})", "Answer 3"),
    ]:
        assert paragraphs[paragraphs.index(label) + 1] == answer
    assert not [p for p in paragraphs if p.startswith("Recommendation") and AFI.text in p]
    assert paragraphs.index(CC) < paragraphs.index(f"Recommendation 1 ({R1.text})")
    assert paragraphs[-3:] == ["Yours sincerely,", "A. Commissioner", "PCC for Northumbria"]
    assert paragraphs[-4].startswith("I will monitor progress where further action is required")


def test_docx_carries_the_letterhead_page_number_fields_and_the_office_as_author(tmp_path: Path) -> None:
    document = Document(str(export_docx(pack(), tmp_path / "pack.docx")))
    section = document.sections[0]
    assert [p.text for p in section.header.paragraphs] == ["OFFICIAL", OFFICE]  # the marking tops every page
    assert section.footer.paragraphs[-1].text == "OFFICIAL"
    footer = section.footer._element.xml
    instructions = re.findall(r'w:instr="([^"]*)"', footer) + re.findall(r"<w:instrText[^>]*>([^<]*)<", footer)
    assert {i.split()[0] for i in instructions} >= {"PAGE", "NUMPAGES"}
    assert re.search(r">Page </w:t>.*instr=\" PAGE .*> of </w:t>.*instr=\" NUMPAGES ", footer, re.DOTALL)
    props = document.core_properties
    assert props.title == TITLE
    assert props.author == props.last_modified_by == OFFICE
    assert "python-docx" not in f"{props.author} {props.comments} {props.last_modified_by}"


def test_an_office_name_on_the_pack_is_the_letterhead_and_author(tmp_path: Path) -> None:
    office = "Northumbria Police and Crime Commissioner's Office, Wansbeck Square"
    document = Document(str(export_docx(pack(office=office), tmp_path / "pack.docx")))
    assert document.sections[0].header.paragraphs[1].text == office
    assert document.core_properties.author == office


def test_a_replaced_template_changes_the_letterhead(tmp_path: Path) -> None:
    custom = Document()
    custom.sections[0].header.paragraphs[0].text = "Victim First Letterhead | {{ office }} | Ref {{ pcc_role }}"
    custom.add_paragraph("{{ title }}")
    custom.add_paragraph("Signed: {{ pcc_name }}")
    custom.save(str(tmp_path / "ours.docx"))

    document = Document(str(export_docx(pack(), tmp_path / "pack.docx", template=tmp_path / "ours.docx")))
    marking, header = (p.text for p in document.sections[0].header.paragraphs)
    assert marking == "OFFICIAL"  # an office's own template is marked too, without a placeholder for it
    assert header == f"Victim First Letterhead | {OFFICE} | Ref PCC for Northumbria"
    assert body(tmp_path / "pack.docx") == [
        "NORTHUMBRIA PCC RESPONSE TO HMICFRS INSPECTIONS OF NORTHUMBRIA POLICE",
        "Signed: A. Commissioner",
    ]
    assert document.core_properties.author == OFFICE


def test_a_missing_or_broken_template_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackTemplateError, match="does not exist"):
        export_docx(pack(), tmp_path / "pack.docx", template=tmp_path / "nope.docx")
    (tmp_path / "text.docx").write_text("not a word file", encoding="utf-8")
    with pytest.raises(PackTemplateError, match=r"not a Word \.docx"):
        export_docx(pack(), tmp_path / "pack.docx", template=tmp_path / "text.docx")
    broken = Document()
    broken.add_paragraph("{{ title ")
    broken.save(str(tmp_path / "broken.docx"))
    with pytest.raises(PackTemplateError, match="could not be filled"):
        export_docx(pack(), tmp_path / "pack.docx", template=tmp_path / "broken.docx")
    assert not (tmp_path / "pack.docx").exists()


def test_template_syntax_and_markup_in_text_come_out_literally(tmp_path: Path) -> None:
    answer = "Keep {{ x }} and {% if %} as typed; {_{ a_b }_} {%p endfor %} <w:t>&amp; “quotes” 'too'"
    finding = Finding(number="3", text="Chief constables should {{ finding }} {% raw %} & <review>.")
    comments = "{{ office }} is not a placeholder here.\n\nA second {% for %} paragraph."
    literal = Pack(
        **{
            **pack().model_dump(),
            "answers": [PackAnswer(finding=finding, text=answer, approved=True)],
            "pcc_comments": comments,
        }
    )
    text = render_markdown(literal)
    assert answer in text and f"**Recommendation 3** ({finding.text})" in text
    assert "{{ office }} is not a placeholder here." in text

    paragraphs = body(export_docx(literal, tmp_path / "pack.docx"))
    assert paragraphs[paragraphs.index(f"Recommendation 3 ({finding.text})") + 1] == answer
    assert "{{ office }} is not a placeholder here." in paragraphs and "A second {% for %} paragraph." in paragraphs


def test_docx_export_refuses_incomplete_pack(tmp_path: Path) -> None:
    with pytest.raises(PackIncomplete):
        export_docx(pack(approved=(False, True, True)), tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()


def test_the_bundled_template_is_what_the_script_builds_and_is_package_data(tmp_path: Path) -> None:
    rebuilt = build_template(tmp_path / "response.docx")
    with zipfile.ZipFile(DEFAULT_TEMPLATE) as committed, zipfile.ZipFile(rebuilt) as fresh:
        assert committed.namelist() == fresh.namelist()
        changed = [name for name in committed.namelist() if committed.read(name) != fresh.read(name)]
    assert changed == [], "re-run `python -m drafting.pack_template` and commit drafting/templates/response.docx"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "templates/*.docx" in config["tool"]["setuptools"]["package-data"]["drafting"]
    assert any(dep.startswith("docxtpl") for dep in config["project"]["dependencies"])


# ── PDF ──────────────────────────────────────────────────────────────────────────────────────────────────


def test_pdf_is_not_produced_without_libreoffice_and_says_how_to_install_it(tmp_path: Path) -> None:
    docx = export_docx(pack(), tmp_path / "pack.docx")
    result = export_pdf(docx, soffice=str(tmp_path / "no-such-soffice"))
    assert result.pdf is None
    assert (
        result.message
        == PDF_MISSING
        == ("PDF not produced: LibreOffice is not installed (apt install libreoffice-writer)")
    )
    assert not list(tmp_path.glob("*.pdf"))


def test_pdf_command_is_a_headless_conversion_with_a_private_profile(tmp_path: Path) -> None:
    command = pdf_command("/usr/bin/soffice", tmp_path / "pack.docx", tmp_path / "out", tmp_path / "profile")
    assert command == [
        "/usr/bin/soffice",
        f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path / "out"),
        str(tmp_path / "pack.docx"),
    ]


def stand_in_soffice(tmp_path: Path, writes_pdf: bool) -> Path:
    """An executable that takes soffice's arguments; it writes the PDF (or fails) as LibreOffice would."""
    script = tmp_path / "soffice"
    action = (
        "(out / (src.stem + '.pdf')).write_bytes(b'%PDF-1.4 stand-in')"
        if writes_pdf
        else "sys.stderr.write('Error: source file could not be loaded'); sys.exit(1)"
    )
    script.write_text(
        f"#!{sys.executable}\nimport pathlib, sys\nargs = sys.argv[1:]\n"
        "out = pathlib.Path(args[args.index('--outdir') + 1])\nsrc = pathlib.Path(args[-1])\n"
        f"assert '--headless' in args and args[args.index('--convert-to') + 1] == 'pdf'\n{action}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_pdf_is_written_where_a_converter_is_installed_and_a_failure_is_reported(tmp_path: Path) -> None:
    docx = export_docx(pack(), tmp_path / "pack.docx")
    done = export_pdf(docx, tmp_path / "out", soffice=str(stand_in_soffice(tmp_path, writes_pdf=True)))
    assert done.pdf == tmp_path / "out" / "pack.pdf" and done.pdf.read_bytes().startswith(b"%PDF")
    failed = export_pdf(docx, tmp_path / "again", soffice=str(stand_in_soffice(tmp_path, writes_pdf=False)))
    assert failed.pdf is None and "source file could not be loaded" in failed.message
