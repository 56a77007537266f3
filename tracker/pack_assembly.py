"""From the system of record to the publication pack, in report order, and out to Markdown and Word.

The header comes from the inspection, the opening sections from the PCC's and the chief constable's comments
stored on it, and each finding brings its approved answer (findings' positions keep the report's order). A final
pack is refused while any finding lacks an approved answer, or the inspection has none (`PackIncomplete`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from drafting.pack import MissingAnswer, Pack, PackAnswer, PackHeader, PackIncomplete
from drafting.pack_render import export_docx, render_markdown
from tracker.deadlines import deadline_rule_line
from tracker.review import ReviewState, current_approvers
from tracker.views import AnswerView, InspectionView

if TYPE_CHECKING:
    from tracker.repository import Repository

DOC_ID_PREFIX = "inspection-"


class ExportedPack(BaseModel):
    markdown: Path
    docx: Path
    watermark: bool
    answers: int


def is_final(answer: AnswerView) -> bool:
    """Approved, and with text: what the pack and the learning loop accept."""
    return answer.approved and answer.draft is not None and bool(answer.draft.text.strip())


def missing_answers(answers: list[AnswerView]) -> list[MissingAnswer]:
    return [_missing(answer) for answer in answers if not is_final(answer)]


def _missing(answer: AnswerView) -> MissingAnswer:
    finding = answer.finding
    if answer.draft is None:
        reason = "not drafted yet"
    elif finding.state is ReviewState.CHANGES_REQUESTED:
        reason = f"changes requested on v{answer.draft.version}"
    else:
        reason = f"v{answer.draft.version} {finding.state.label}, not approved"
    return MissingAnswer(
        finding_id=finding.id,
        label=finding.label,
        reason=reason,
        message_ts=finding.message_ts,
        channel_id=finding.channel_id,
    )


def check_complete(inspection: InspectionView, answers: list[AnswerView]) -> None:
    """The s.55(5B) rule for a final pack: raises PackIncomplete while an answer is missing, or there are none."""
    missing = missing_answers(answers)
    if missing or not answers:
        raise PackIncomplete(inspection.title, inspection.findings_total, missing)


def build_pack(repo: Repository, inspection_id: int, pcc_name: str = "", watermark: bool = False) -> Pack:
    """The pack in report order. Raises PackIncomplete unless `watermark`."""
    return _assemble(repo, repo.inspections.get(inspection_id), pcc_name, watermark)


def _assemble(repo: Repository, inspection: InspectionView, pcc_name: str, watermark: bool) -> Pack:
    answers = repo.findings.answers(inspection.id)
    if not watermark:
        check_complete(inspection, answers)
    comments = repo.inspections.comments(inspection.id)
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
        answers=[_pack_answer(repo, answer) for answer in answers],
        watermark=watermark,
    )


def _pack_answer(repo: Repository, answer: AnswerView) -> PackAnswer:
    draft = answer.draft
    approvers: tuple[str, ...] = ()
    if answer.approved and draft is not None:  # a working copy names no one for an answer not yet approved
        on_latest = (review for review in repo.reviews.of(answer.finding.id) if review.draft_version == draft.version)
        approvers = current_approvers(answer.finding.state, on_latest)
    return PackAnswer(
        finding=answer.finding.to_finding(),
        text=draft.text if draft else "",
        approved=is_final(answer),
        approved_by=", ".join(approvers),
        version=draft.version if draft else None,
    )


def pack_stem(inspection: InspectionView, watermark: bool) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", inspection.title.lower()).strip("-")[:60].rstrip("-") or "inspection"
    return f"{DOC_ID_PREFIX}{inspection.id}-{slug}-response" + ("-WORKING-DRAFT" if watermark else "")


def export_pack(
    repo: Repository, inspection_id: int, out_dir: Path, pcc_name: str = "", watermark: bool = False
) -> ExportedPack:
    """Write `<stem>.md` and `<stem>.docx` into out_dir; an incomplete final pack raises PackIncomplete."""
    inspection = repo.inspections.get(inspection_id)
    pack = _assemble(repo, inspection, pcc_name, watermark)
    stem = pack_stem(inspection, watermark)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / f"{stem}.md"
    markdown.write_text(render_markdown(pack), encoding="utf-8")
    docx = export_docx(pack, out_dir / f"{stem}.docx")
    return ExportedPack(markdown=markdown, docx=docx, watermark=watermark, answers=len(pack.answers))
