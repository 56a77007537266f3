"""The response pack: the document the PCC publishes under s.55, assembled in report order.

Markdown and Word renderings of one `Pack`. The completeness check (s.55(5B): every recommendation needs
an answer) refuses a final pack while any answer is unapproved; a watermarked working copy is allowed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from drafting.composer import force_name
from retrieval.models import Finding, FindingKind, InspectionType

WATERMARK = "WORKING DRAFT: NOT APPROVED, NOT FOR PUBLICATION"


class PackAnswer(BaseModel):
    finding: Finding
    text: str = ""
    approved: bool = False
    approved_by: str = ""
    version: int | None = None


class PackHeader(BaseModel):
    inspection_title: str
    inspection_type: InspectionType = InspectionType.UNKNOWN
    published: date | None = None
    last_day: date | None = None
    deadline_rule: str = Field("", description="One line saying how the last day was computed")


class Pack(BaseModel):
    header: PackHeader
    force: str
    pcc_name: str = ""
    pcc_comments: str = ""
    chief_constable_comments: str = ""
    answers: list[PackAnswer]
    watermark: bool = False


class IncompletePack(ValueError):
    """Raised when a final pack is asked for while answers are missing or unapproved."""

    def __init__(self, missing: list[Finding]) -> None:
        self.missing = missing
        names = ", ".join(f.label for f in missing)
        super().__init__(
            f"The response cannot be exported: {len(missing)} finding(s) lack an approved answer ({names}). "
            "Approve them first, or export a working copy with the draft watermark."
        )


def missing_answers(pack: Pack) -> list[Finding]:
    return [a.finding for a in pack.answers if not (a.approved and a.text.strip())]


def require_complete(pack: Pack) -> None:
    if not pack.watermark and (missing := missing_answers(pack)):
        raise IncompletePack(missing)


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
