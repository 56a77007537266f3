"""Markdown, Word and PDF renderings of one `Pack`, laid out as the office's published responses are.

The layout is the seeds' (Northumbria's responses): a title line, the header table with check boxes, the PCC's
opening comments, the chief constable's position, each finding as "**Recommendation N** (its text)" followed by
the answer, the monitoring close and "Yours sincerely". Markdown and Word share one `Layout`, so they cannot
drift apart.

The Word file is filled from a .docx template the office can replace (docxtpl); the bundled one
(`drafting/templates/response.docx`, built by `drafting.pack_template`) holds the letterhead, the page-number
footer and the styles. Text from people and reports only ever travels as context values, never as template
source, so `{{ … }}` or `{% … %}` in an answer comes out as typed.

All refuse a final pack that is not complete (`drafting.pack.require_complete`); a working copy carries the
watermark at its top.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup
from pydantic import BaseModel

from drafting.composer import force_name
from drafting.pack import Pack, PackAnswer, require_complete
from retrieval.models import FindingKind, InspectionType

if TYPE_CHECKING:
    from docxtpl import DocxTemplate

WATERMARK = "WORKING DRAFT: NOT APPROVED, NOT FOR PUBLICATION"
DEFAULT_TEMPLATE = Path(__file__).with_name("templates") / "response.docx"
TICKED, UNTICKED = "☒", "☐"
NO_ANSWER = "[CONFIRM: answer not yet drafted]"
NOT_APPROVED = "(not approved)"
PDF_MISSING = "PDF not produced: LibreOffice is not installed (apt install libreoffice-writer)"

# The report's own words for each kind of finding, as the office's responses label them (seed 003).
KIND_LABELS = {
    FindingKind.RECOMMENDATION: "Recommendation",
    FindingKind.AREA_FOR_IMPROVEMENT: "Area for Improvement",
    FindingKind.CAUSE_OF_CONCERN: "Cause of concern",
}
# The header's "Type of inspection" box: the seeds tick "<Force>-specific" for a joint targeted area
# inspection (seed 000), and PEEL inspects one force; only a national thematic ticks the other box.
FORCE_SPECIFIC_TYPES = frozenset({InspectionType.FORCE_SPECIFIC, InspectionType.JOINT, InspectionType.PEEL})


class PackTemplateError(ValueError):
    """The Word template is missing, is not a .docx, or its placeholders cannot be filled."""


class Label(BaseModel):
    """One finding as the response quotes it: bold name, then its text in brackets."""

    name: str
    text: str
    approved: bool = True


class Section(BaseModel):
    """Findings answered together (a cause of concern with its recommendation), then their answers."""

    labels: list[Label]
    answers: list[str]


class Layout(BaseModel):
    """The pack's content in publication order, shared by the Markdown and Word renderings."""

    marking: str
    watermark: str
    title: str
    letter_heading: str
    rows: list[tuple[str, str]]
    opening: list[str]
    chief_constable: list[str]
    sections: list[Section]
    monitoring: str
    pcc_name: str
    pcc_role: str
    office: str


class PdfResult(BaseModel):
    """What the PDF conversion did: the file, or why there is none (it never raises)."""

    pdf: Path | None = None
    message: str


# ── content ──────────────────────────────────────────────────────────────────────────────────────────────


def short_force(force: str) -> str:
    """'Northumbria Police' → 'Northumbria': the name the seeds use in "PCC for …" and "…-specific"."""
    return re.sub(r"\s+(?:police(?:\s+service)?|constabulary)$", "", force.strip(), flags=re.IGNORECASE)


def office_name(pack: Pack) -> str:
    return pack.office.strip() or f"Office of the Police and Crime Commissioner for {short_force(pack.force)}"


def title_line(pack: Pack) -> str:
    return f"{short_force(pack.force)} PCC RESPONSE TO HMICFRS INSPECTIONS OF {force_name(pack.force)}".upper()


def letter_heading(pack: Pack) -> str:
    return f"{short_force(pack.force)} PCC RESPONSE TO HMICFRS".upper()


def boxes(*options: tuple[str, bool]) -> str:
    return " ".join(f"{TICKED if ticked else UNTICKED} {name}" for name, ticked in options)


def header_rows(pack: Pack) -> list[tuple[str, str]]:
    h = pack.header
    national = h.inspection_type is InspectionType.NATIONAL_THEMATIC
    local = h.inspection_type in FORCE_SPECIFIC_TYPES
    kind = boxes((f"{short_force(pack.force)}-specific", local), ("National Thematic", national))
    if not (national or local):  # an unknown type ticks neither box and says so
        kind += " [CONFIRM: type of inspection]"
    return [
        ("Inspection title", h.inspection_title),
        ("Type of inspection", kind),
        ("Date inspection published", _date(h.published)),
        (
            "Deadline for PCC response (56 days)",
            _date(h.last_day) + (f" ({h.deadline_rule})" if h.deadline_rule else ""),
        ),
        ("Recommendations", boxes(("National", national), ("Local", local))),
    ]


def opening(pack: Pack) -> list[str]:
    if pack.pcc_comments.strip():
        return paragraphs(pack.pcc_comments)
    return [
        f"I welcome the report on {pack.header.inspection_title}. "
        "[CONFIRM: the PCC's comments on the report as a whole]"
    ]


def chief_constable(pack: Pack) -> list[str]:
    if pack.chief_constable_comments.strip():
        return paragraphs(pack.chief_constable_comments)
    if pack.chief_constable_waiver.strip():  # a final pack without them says why, never claims a statement
        reason = pack.chief_constable_waiver.strip().rstrip(".")
        return [f"The Chief Constable's comments are not included: {reason}."]
    return [
        f"The Chief Constable has provided me with a position statement in respect of {force_name(pack.force)} "
        f"against the {_kinds_answered(pack)}."
    ]


def monitoring(pack: Pack) -> str:
    return (
        "I will monitor progress where further action is required to ensure that "
        f"{force_name(pack.force)} are compliant through my regular HMICFRS Scrutiny process."
    )


def finding_label(answer: PackAnswer) -> Label:
    finding = answer.finding
    kind = KIND_LABELS[finding.kind]
    name = f"{kind} {finding.number}" if finding.number else kind
    return Label(name=name, text=finding.text.strip(), approved=answer.approved)


def answer_groups(answers: list[PackAnswer]) -> list[list[PackAnswer]]:
    """Findings in report order, a cause of concern grouped with the recommendation right after it.

    The finding model has no explicit link; the report parser (`drafting.report`) keeps a cause of concern
    immediately before its recommendation, so that order is the pairing. A cause of concern with no
    recommendation after it stands alone.
    """
    groups: list[list[PackAnswer]] = []
    for answer in answers:
        previous = groups[-1] if groups else []
        if (
            answer.finding.kind is FindingKind.RECOMMENDATION
            and len(previous) == 1
            and previous[0].finding.kind is FindingKind.CAUSE_OF_CONCERN
        ):
            previous.append(answer)
        else:
            groups.append([answer])
    return groups


def layout(pack: Pack) -> Layout:
    sections = [
        Section(
            labels=[finding_label(answer) for answer in group],
            answers=[line for answer in group for line in paragraphs(answer.text) or [NO_ANSWER]],
        )
        for group in answer_groups(pack.answers)
    ]
    return Layout(
        marking=pack.marking.value,
        watermark=WATERMARK if pack.watermark else "",
        title=title_line(pack),
        letter_heading=letter_heading(pack),
        rows=header_rows(pack),
        opening=opening(pack),
        chief_constable=chief_constable(pack),
        sections=sections,
        monitoring=monitoring(pack),
        pcc_name=pack.pcc_name.strip() or "[CONFIRM: PCC name]",
        pcc_role=f"PCC for {short_force(pack.force)}",
        office=office_name(pack),
    )


def paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; a single line break stays inside its paragraph."""
    return [part.strip() for part in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if part.strip()]


# ── Markdown ─────────────────────────────────────────────────────────────────────────────────────────────


def render_markdown(pack: Pack) -> str:
    require_complete(pack)
    page = layout(pack)
    # The protective marking is the first line and the last, as a marked paper carries it top and bottom.
    lines = [f"**{page.marking}**", ""]
    lines += [f"> **{page.watermark}**", ""] if page.watermark else []
    lines += [f"# {page.title}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in page.rows]
    lines += ["", f"## {page.letter_heading}", ""]
    for paragraph in [*page.opening, *page.chief_constable]:
        lines += [paragraph, ""]
    for section in page.sections:
        lines += [line for label in section.labels for line in (_markdown_label(label), "")]
        lines += [line for answer in section.answers for line in (answer, "")]
    lines += [
        page.monitoring,
        "",
        "Yours sincerely,",
        "",
        f"{page.pcc_name}  ",
        page.pcc_role,
        "",
        f"**{page.marking}**",
    ]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_label(label: Label) -> str:
    status = "" if label.approved else f" *{NOT_APPROVED}*"
    return f"**{label.name}**{status} ({label.text})"


# ── Word ─────────────────────────────────────────────────────────────────────────────────────────────────


def export_docx(pack: Pack, path: Path, template: Path | None = None) -> Path:
    """Write the pack as Word from `template` (the bundled one by default); raises PackTemplateError."""
    require_complete(pack)
    page = layout(pack)
    document = _load_template(template or DEFAULT_TEMPLATE)
    _fill(document, page, template or DEFAULT_TEMPLATE)
    _set_properties(document, pack, page)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    _mark(path, page.marking)
    return path


def docx_context(page: Layout) -> dict[str, object]:
    """The values a template can use; every one is escaped XML, so none is read as template source."""
    return {
        "watermark": _literal(page.watermark),
        "title": _literal(page.title),
        "letter_heading": _literal(page.letter_heading),
        "header_rows": [{"label": _literal(k), "value": _literal(v)} for k, v in page.rows],
        **{_key(k): _literal(v) for k, v in page.rows},
        "opening": [_literal(p) for p in page.opening],
        "chief_constable": [_literal(p) for p in page.chief_constable],
        "findings": [
            {"labels": [_label_runs(label) for label in s.labels], "answers": [_literal(a) for a in s.answers]}
            for s in page.sections
        ],
        "monitoring": _literal(page.monitoring),
        "pcc_name": _literal(page.pcc_name),
        "pcc_role": _literal(page.pcc_role),
        "office": _literal(page.office),
    }


def _load_template(template: Path) -> DocxTemplate:
    from docxtpl import DocxTemplate  # heavy to import; only the Word export needs it

    if not template.is_file():
        raise PackTemplateError(f"The response template {template} does not exist.")
    try:
        document = DocxTemplate(str(template))
        document.init_docx()
    except Exception as error:  # python-docx raises several kinds for a file that is not a .docx
        raise PackTemplateError(f"The response template {template} is not a Word .docx file: {error}") from error
    return document


def _fill(document: DocxTemplate, page: Layout, template: Path) -> None:
    from jinja2 import TemplateError

    try:
        document.render(docx_context(page), autoescape=True)
    except TemplateError as error:
        raise PackTemplateError(f"The response template {template} could not be filled: {error}") from error


def _set_properties(document: DocxTemplate, pack: Pack, page: Layout) -> None:
    """Who wrote it and what it is, as Word's File > Info shows: the office, never the library."""
    now = datetime.now(UTC).replace(microsecond=0)
    props = document.docx.core_properties
    props.title = pack.header.inspection_title
    props.subject = f"{page.pcc_role}: response under section 55 of the Police Act 1996"
    props.author = props.last_modified_by = page.office
    props.comments = page.watermark
    props.keywords = "HMICFRS; Police Act 1996 s.55"
    props.language = "en-GB"
    props.created = props.modified = now
    props.revision = 1


def _mark(path: Path, marking: str) -> None:
    """The protective marking as the first line of every page's header and the last of its footer, whatever the
    template: an office's own letterhead need not know about markings for every page to carry one.

    Done on the saved file: docxtpl swaps in new header and footer parts as it renders, which python-docx's view
    of the sections does not see until the file is opened again.
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document(str(path))
    for i, section in enumerate(document.sections):
        parts = [(section.header, True), (section.footer, False)]
        if section.different_first_page_header_footer:
            parts += [(section.first_page_header, True), (section.first_page_footer, False)]
        if document.settings.odd_and_even_pages_header_footer:
            parts += [(section.even_page_header, True), (section.even_page_footer, False)]
        for part, on_top in parts:
            if i and part.is_linked_to_previous:
                continue  # it shows the previous section's, which is already marked
            first = part.paragraphs[0] if on_top and part.paragraphs else None
            paragraph = first.insert_paragraph_before() if first is not None else part.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(marking).bold = True
    document.core_properties.category = marking  # Word's File > Info "Categories", for whoever files it
    document.save(str(path))


def _literal(text: str) -> Markup:
    """Text as escaped XML for a `{{ }}` value: drops characters XML cannot hold and hides underscores
    from docxtpl's `{_{` → `{{` post-pass, so what was typed is what Word shows."""
    clean = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text.replace("\r\n", "\n").replace("\r", "\n"))
    return Markup(escape(clean, quote=False).replace("_", "&#95;"))


def _label_runs(label: Label) -> Markup:
    """Run XML for a `{{r }}` placeholder: the bold name, then the finding's text in brackets."""
    runs = [_run(label.name, "<w:b/>")]
    if not label.approved:
        runs.append(_run(f" {NOT_APPROVED}", "<w:i/>"))
    runs.append(_run(f" ({label.text})"))
    return Markup("".join(runs))


def _run(text: str, properties: str = "") -> str:
    props = f"<w:rPr>{properties}</w:rPr>" if properties else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{_literal(text)}</w:t></w:r>'


def _key(label: str) -> str:
    """'Date inspection published' → 'date_inspection_published', for templates that lay out fixed rows."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


# ── PDF ──────────────────────────────────────────────────────────────────────────────────────────────────


def find_libreoffice(binary: str | None = None) -> str | None:
    """The LibreOffice executable: `binary` if given and present, else soffice/libreoffice on PATH."""
    if binary is not None:
        return binary if Path(binary).is_file() or shutil.which(binary) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_command(soffice: str, docx: Path, out_dir: Path, profile: Path) -> list[str]:
    # A private profile: a second soffice sharing the user's profile would hand the job to a running
    # instance (or fail on its lock) instead of converting.
    return [
        soffice,
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        str(docx),
    ]


def export_pdf(docx: Path, out_dir: Path | None = None, soffice: str | None = None, timeout: float = 180) -> PdfResult:
    """Convert the .docx to PDF with LibreOffice where it is installed; says why when no PDF was made."""
    binary = find_libreoffice(soffice)
    if binary is None:
        return PdfResult(message=PDF_MISSING)
    target_dir = out_dir or docx.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="responder-soffice-") as profile:
        command = pdf_command(binary, docx, target_dir, Path(profile))
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return PdfResult(message=f"PDF not produced: LibreOffice took longer than {timeout:.0f} s.")
        except OSError as error:
            return PdfResult(message=f"PDF not produced: LibreOffice could not be started ({error}).")
    pdf = target_dir / f"{docx.stem}.pdf"
    if done.returncode != 0 or not pdf.is_file():
        detail = (done.stderr or done.stdout).strip()[-300:] or f"exit code {done.returncode}"
        return PdfResult(message=f"PDF not produced: LibreOffice failed ({detail}).")
    return PdfResult(pdf=pdf, message=f"PDF written: {pdf.name}")


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────


def _kinds_answered(pack: Pack) -> str:
    kinds = {answer.finding.kind for answer in pack.answers}
    names = [plural for kind, plural in _PLURALS.items() if kind in kinds] or ["recommendations"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


_PLURALS = {
    FindingKind.RECOMMENDATION: "recommendations",
    FindingKind.CAUSE_OF_CONCERN: "causes of concern",
    FindingKind.AREA_FOR_IMPROVEMENT: "areas for improvement",
}


def _date(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "[CONFIRM: date]"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
