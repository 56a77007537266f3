"""From the system of record to the publication pack, in report order, and out to Markdown and Word.

The header comes from the inspection, the opening sections from the PCC's and the chief constable's comments
stored on it, and each finding brings its approved answer (findings' positions keep the report's order). A final
pack is refused while any finding lacks an approved answer with no placeholder left, the inspection has none, or
the letter lacks the PCC's name or the chief constable's comments without a waiver (`PackIncomplete`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from drafting.pack import (
    MissingAnswer,
    Pack,
    PackAnswer,
    PackHeader,
    PackIncomplete,
    answer_problem,
    letter_problems,
)
from drafting.pack_render import export_docx, export_pdf, render_markdown
from retrieval.models import Classification
from tracker.deadlines import deadline_rule_line
from tracker.review import ApprovalPolicy, ReviewState, current_signatures, stage_signatures
from tracker.views import AnswerView, InspectionComments, InspectionView, ReviewView

if TYPE_CHECKING:
    from tracker.repository import Repository

DOC_ID_PREFIX = "inspection-"


class ExportedPack(BaseModel):
    markdown: Path
    docx: Path
    watermark: bool
    answers: int
    marking: Classification = Classification.OFFICIAL
    pdf: Path | None = None
    pdf_note: str = Field("", description="What the PDF conversion did, or why there is no PDF")


def is_final(answer: AnswerView) -> bool:
    """Approved by people, written, and with no `[CONFIRM: …]` left: what the pack and the learning loop accept."""
    return answer.draft is not None and answer_problem(answer.approved, answer.draft.text) is None


def missing_answers(answers: list[AnswerView], waiting: Mapping[int, str] | None = None) -> list[MissingAnswer]:
    """`waiting`: by finding id, the sign-off stage an answer waits for (`waiting_stages`), said in its reason."""
    return [_missing(answer, (waiting or {}).get(answer.finding.id)) for answer in answers if not is_final(answer)]


def waiting_stages(repo: Repository, answers: list[AnswerView]) -> dict[int, str]:
    """For a chain of several stages: what each unapproved answer's latest version still waits for."""
    policy = repo.policy
    if not policy.staged:
        return {}
    out = {}
    for answer in answers:
        draft, state = answer.draft, answer.finding.state
        if draft is None or answer.approved or state is ReviewState.CHANGES_REQUESTED:
            continue
        on_latest = [r for r in repo.reviews.of(answer.finding.id) if r.draft_version == draft.version]
        signed = [s.user for s in current_signatures(state, on_latest)]
        out[answer.finding.id] = (
            f"signed by {len(signed)} of {policy.total_approvals}, waiting for {policy.stage_to_sign(signed).name}"
        )
    return out


def _missing(answer: AnswerView, waiting: str | None = None) -> MissingAnswer:
    finding = answer.finding
    if answer.draft is None:
        reason = "not drafted yet"
    elif finding.state is ReviewState.CHANGES_REQUESTED:
        reason = f"changes requested on v{answer.draft.version}"
    elif answer.approved:  # approved, yet not final: text that still holds a placeholder (approved before 0004)
        reason = f"v{answer.draft.version} {answer_problem(answer.approved, answer.draft.text)}"
    elif waiting:
        reason = f"v{answer.draft.version} {finding.state.label}, not approved ({waiting})"
    else:
        reason = f"v{answer.draft.version} {finding.state.label}, not approved"
    return MissingAnswer(
        finding_id=finding.id,
        label=finding.label,
        reason=reason,
        message_ts=finding.message_ts,
        channel_id=finding.channel_id,
    )


def check_complete(
    inspection: InspectionView,
    answers: list[AnswerView],
    letter: PackLetter,
    comments: InspectionComments,
    waiting: Mapping[int, str] | None = None,
) -> None:
    """The rules for a final pack: raises PackIncomplete while an answer is missing or unconfirmed, there are
    none, or the letter lacks the PCC's name or comments, or the chief constable's (and no waiver says why)."""
    missing = missing_answers(answers, waiting)
    problems = letter_problems(letter.pcc_name, comments.pcc or "", comments.chief_constable or "", letter.cc_waiver)
    if missing or problems or not answers:
        raise PackIncomplete(inspection.title, inspection.findings_total, missing, problems)


class PackLetter(BaseModel):
    """What the office supplies around the answers at export time."""

    pcc_name: str = ""
    cc_waiver: str = Field("", description="Why the pack goes without the chief constable's comments")


class PackStyle(BaseModel):
    """How the office's pack looks: its own Word template (letterhead), and whether a PDF is wanted too."""

    template: Path | None = None
    pdf: bool = False


def build_pack(repo: Repository, inspection_id: int, letter: PackLetter | None = None, watermark: bool = False) -> Pack:
    """The pack in report order. Raises PackIncomplete unless `watermark`."""
    return _assemble(repo, repo.inspections.get(inspection_id), letter or PackLetter(), watermark)


def _assemble(repo: Repository, inspection: InspectionView, letter: PackLetter, watermark: bool) -> Pack:
    answers = repo.findings.answers(inspection.id)
    comments = repo.inspections.comments(inspection.id)
    if not watermark:
        check_complete(inspection, answers, letter, comments, waiting_stages(repo, answers))
    pcc_name = letter.pcc_name
    return Pack(
        header=PackHeader(
            inspection_title=inspection.title,
            inspection_type=inspection.inspection_type,
            published=inspection.published,
            last_day=inspection.last_day,
            deadline_rule=deadline_rule_line(inspection.published),
        ),
        force=inspection.force,
        pcc_name=pcc_name,
        pcc_comments=comments.pcc or "",
        chief_constable_comments=comments.chief_constable or "",
        chief_constable_waiver=letter.cc_waiver,
        answers=[_pack_answer(repo, answer) for answer in answers],
        watermark=watermark,
    )


def _pack_answer(repo: Repository, answer: AnswerView) -> PackAnswer:
    draft = answer.draft
    approved_by = ""
    if answer.approved and draft is not None:  # a working copy names no one for an answer not yet approved
        on_latest = [review for review in repo.reviews.of(answer.finding.id) if review.draft_version == draft.version]
        approved_by = signed_off_by(repo.policy, answer.finding.state, on_latest)
    return PackAnswer(
        finding=answer.finding.to_finding(),
        text=draft.text if draft else "",
        approved=is_final(answer),
        approved_by=approved_by,
        version=draft.version if draft else None,
        marking=draft.marking if draft else Classification.OFFICIAL,
    )


def signed_off_by(policy: ApprovalPolicy, state: ReviewState, on_latest: list[ReviewView]) -> str:
    """Who approved, as the card counts them: `U1, U2` for one stage, `Policy lead: U1; PCC: U2` by stage."""
    signatures = current_signatures(state, on_latest)
    if not policy.staged:
        return ", ".join(signature.user for signature in signatures)
    stages = stage_signatures(policy.chain, signatures)
    return "; ".join(f"{stage.name}: {', '.join(s.user for s in stage.signers)}" for stage in stages if stage.signers)


def pack_stem(inspection: InspectionView, watermark: bool) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", inspection.title.lower()).strip("-")[:60].rstrip("-") or "inspection"
    return f"{DOC_ID_PREFIX}{inspection.id}-{slug}-response" + ("-WORKING-DRAFT" if watermark else "")


def export_pack(
    repo: Repository,
    inspection_id: int,
    out_dir: Path,
    letter: PackLetter | None = None,
    watermark: bool = False,
    actor: str = "",
    template: Path | None = None,
    pdf: bool = False,
) -> ExportedPack:
    """Write `<stem>.md` and `<stem>.docx` (and, with `pdf`, `<stem>.pdf` where LibreOffice is installed) into
    out_dir; an incomplete final pack raises PackIncomplete.

    A final export is audited (who, and any waiver of the chief constable's comments with its reason).
    """
    inspection = repo.inspections.get(inspection_id)
    letter = letter or PackLetter()
    pack = _assemble(repo, inspection, letter, watermark)
    stem = pack_stem(inspection, watermark)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / f"{stem}.md"
    markdown.write_text(render_markdown(pack), encoding="utf-8")
    docx = export_docx(pack, out_dir / f"{stem}.docx", template=template)  # None: the bundled template
    if not watermark:
        after = {
            "answers": len(pack.answers),
            "docx": docx.name,
            "cc_waiver": letter.cc_waiver or None,
            "marking": pack.marking.value,
        }
        repo.audit.record(actor or "cli", "pack_exported", "inspection", inspection_id, after)
    converted = export_pdf(docx) if pdf else None
    return ExportedPack(
        markdown=markdown,
        docx=docx,
        watermark=watermark,
        answers=len(pack.answers),
        marking=pack.marking,
        pdf=converted.pdf if converted else None,
        pdf_note=converted.message if converted else "",
    )
