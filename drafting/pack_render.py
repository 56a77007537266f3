"""Markdown and Word renderings of one `Pack` (pure, apart from writing the .docx file).

Both refuse a final pack that is not complete (`drafting.pack.require_complete`); a working copy carries the
watermark at its top.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from drafting.composer import force_name
from drafting.pack import Pack, PackAnswer, require_complete
from retrieval.models import FindingKind, InspectionType

WATERMARK = "WORKING DRAFT: NOT APPROVED, NOT FOR PUBLICATION"


def header_rows(pack: Pack) -> list[tuple[str, str]]:
    h = pack.header
    national = h.inspection_type is InspectionType.NATIONAL_THEMATIC
    return [
        ("Inspection title", h.inspection_title),
        ("Type of inspection", h.inspection_type.value),
        ("Date inspection published", _date(h.published)),
        (
            "Last day for PCC response (56 days)",
            _date(h.last_day) + (f" ({h.deadline_rule})" if h.deadline_rule else ""),
        ),
        ("Recommendations", "National" if national else "Local"),
    ]


def opening(pack: Pack) -> str:
    if pack.pcc_comments.strip():
        return pack.pcc_comments.strip()
    return (
        f"I welcome the report on {pack.header.inspection_title}. "
        "[CONFIRM: the PCC's comments on the report as a whole]"
    )


def chief_constable(pack: Pack) -> str:
    if pack.chief_constable_comments.strip():
        return pack.chief_constable_comments.strip()
    return (
        f"The Chief Constable has provided me with a position statement in respect of {force_name(pack.force)} "
        "against the recommendations, set out below."
    )


def sign_off(pack: Pack) -> list[str]:
    name = pack.pcc_name or "[CONFIRM: PCC name]"
    return [
        "I will monitor progress where further action is required through my regular HMICFRS scrutiny process.",
        "Yours sincerely,",
        name,
        f"PCC for {pack.force}",
    ]


def answer_heading(answer: PackAnswer) -> str:
    finding = answer.finding
    if finding.kind is FindingKind.RECOMMENDATION and finding.number:
        return f"Recommendation {finding.number}"
    return finding.label


def render_markdown(pack: Pack) -> str:
    require_complete(pack)
    title = f"{pack.force.upper()} PCC RESPONSE TO HMICFRS"
    lines = [f"> **{WATERMARK}**", ""] if pack.watermark else []
    lines += [f"# {title}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in header_rows(pack)]
    lines += ["", "## PCC's comments", "", opening(pack), "", "## Chief Constable's comments", ""]
    lines += [chief_constable(pack), "", "## Response to each finding", ""]
    for answer in pack.answers:
        status = "" if answer.approved else " *(not approved)*"
        lines += [f"### {answer_heading(answer)}{status}", "", f"*{answer.finding.text.strip()}*", ""]
        lines += [answer.text.strip() or "[CONFIRM: answer not yet drafted]", ""]
    lines += ["## Sign-off", "", *[f"{line}  " for line in sign_off(pack)]]
    return "\n".join(lines).rstrip() + "\n"


def export_docx(pack: Pack, path: Path) -> Path:
    """Write the pack as a Word document: real headings and the header as a real table."""
    from docx import Document  # python-docx is heavy to import; only the export needs it

    require_complete(pack)
    doc = Document()
    if pack.watermark:
        doc.add_paragraph().add_run(WATERMARK).bold = True
    doc.add_heading(f"{pack.force.upper()} PCC RESPONSE TO HMICFRS", level=0)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in header_rows(pack):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    doc.add_heading("PCC's comments", level=1)
    doc.add_paragraph(opening(pack))
    doc.add_heading("Chief Constable's comments", level=1)
    doc.add_paragraph(chief_constable(pack))
    doc.add_heading("Response to each finding", level=1)
    for answer in pack.answers:
        doc.add_heading(answer_heading(answer), level=2)
        doc.add_paragraph().add_run(answer.finding.text.strip()).italic = True
        doc.add_paragraph(answer.text.strip() or "[CONFIRM: answer not yet drafted]")
    doc.add_heading("Sign-off", level=1)
    for line in sign_off(pack):
        doc.add_paragraph(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _date(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "[CONFIRM: date]"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
