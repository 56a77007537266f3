"""From the system of record to the publication pack, and from a published pack back into the library.

The pack is assembled from the store in report order (findings' positions): the header from the inspection,
the PCC's and the chief constable's comments stored on it, and each finding with its approved answer. s.55(5B)
needs an answer to every recommendation, so a final export refuses while any finding lacks an approved
answer (or the inspection has no findings at all); a watermarked working copy is always allowed.

Learning loop: once the response is published, its approved answers become precedents of this force in the
index (doc id `inspection-<id>`), so the next similar recommendation finds the office's own words first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from drafting.pack import Pack, PackAnswer, PackHeader, export_docx, render_markdown
from retrieval.models import (
    Classification,
    DocumentKind,
    DocumentMeta,
    InspectionType,
    Office,
    ParsedDocument,
    Precedent,
    ResponseHeader,
)
from tracker import schema
from tracker.dates import format_date, format_date_long
from tracker.deadlines import STATUTE, STATUTORY_PERIOD_DAYS
from tracker.errors import InvalidInput, NotFound, TrackerError
from tracker.review import ReviewAction, ReviewState
from tracker.views import AnswerView, InspectionView

if TYPE_CHECKING:
    from tracker.repository import Repository

MAX_COMMENTS_CHARS = 20_000
DOC_ID_PREFIX = "inspection-"


class PackIndex(Protocol):
    """What the learning loop needs from retrieval.index.PrecedentIndex (kept narrow for tests)."""

    def upsert_document(self, doc: ParsedDocument) -> object: ...


class InspectionComments(BaseModel):
    model_config = ConfigDict(frozen=True)

    pcc: str | None = None
    chief_constable: str | None = None


class MissingAnswer(BaseModel):
    """One finding that stops the final pack, and why, in words a reviewer can act on."""

    model_config = ConfigDict(frozen=True)

    finding_id: int
    label: str
    reason: str
    message_ts: str | None = None
    channel_id: str | None = None


class PackIncomplete(TrackerError):
    """The final pack was asked for while findings lack an approved answer (s.55(5B))."""

    def __init__(self, inspection: InspectionView, missing: list[MissingAnswer]) -> None:
        self.inspection = inspection
        self.missing = missing
        if not missing:
            detail = "it has no findings recorded yet. Upload the report in the inspection's thread first"
        else:
            listed = "; ".join(f"{item.label} ({item.reason})" for item in missing)
            detail = (
                f"{len(missing)} of {inspection.findings_total} finding(s) lack an approved answer: {listed}. "
                "Every recommendation needs an approved answer (s.55(5B)); approve them first"
            )
        super().__init__(
            f"The response to “{inspection.title}” cannot be exported: {detail}, "
            "or export a working copy with the draft watermark."
        )


class ExportedPack(BaseModel):
    markdown: Path
    docx: Path
    watermark: bool
    answers: int


class LearnResult(BaseModel):
    doc_id: str
    precedents: int
    added: int = 0


# ── comments ─────────────────────────────────────────────────────────────────────────────────────────────


def get_comments(repo: Repository, inspection_id: int) -> InspectionComments:
    with repo.sessions.begin() as session:
        row = _inspection_row(session, inspection_id)
        return InspectionComments(pcc=row.pcc_comments, chief_constable=row.cc_comments)


def set_comments(
    repo: Repository,
    inspection_id: int,
    actor: str,
    pcc: str | None = None,
    chief_constable: str | None = None,
    now: datetime | None = None,
) -> InspectionComments:
    """Store either or both texts (None leaves one unchanged); audited like every other change."""
    if pcc is None and chief_constable is None:
        raise InvalidInput("Give the PCC's comments, the chief constable's comments, or both.")
    values = {"pcc_comments": pcc, "cc_comments": chief_constable}
    updates = {column: _comment_text(text, column) for column, text in values.items() if text is not None}
    with repo.sessions.begin() as session:
        row = _inspection_row(session, inspection_id)
        before = {column: getattr(row, column) for column in updates}
        for column, text in updates.items():
            setattr(row, column, text)
        session.add(
            schema.AuditEntry(
                at=now or datetime.now(UTC),
                actor=actor,
                action="set_comments",
                entity="inspection",
                entity_id=str(inspection_id),
                before=before,
                after=updates,
            )
        )
        return InspectionComments(pcc=row.pcc_comments, chief_constable=row.cc_comments)


def _comment_text(text: str, column: str) -> str:
    who = "PCC's" if column == "pcc_comments" else "chief constable's"
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput(f"The {who} comments are empty; give the text (or a file holding it).")
    if len(cleaned) > MAX_COMMENTS_CHARS:
        raise InvalidInput(f"The {who} comments are {len(cleaned):,} characters; the limit is {MAX_COMMENTS_CHARS:,}.")
    return cleaned


def _inspection_row(session: Session, inspection_id: int) -> schema.Inspection:
    row = session.get(schema.Inspection, inspection_id)
    if row is None:
        raise NotFound(f"There is no inspection with id {inspection_id}.")
    return row


# ── the pack ─────────────────────────────────────────────────────────────────────────────────────────────


def deadline_rule(inspection: InspectionView) -> str:
    """The short rule shown beside the last day in the header table."""
    return f"{STATUTORY_PERIOD_DAYS} days beginning with publication on {format_date(inspection.published)}, {STATUTE}"


def missing_answers(answers: list[AnswerView]) -> list[MissingAnswer]:
    return [_missing(answer) for answer in answers if not _usable(answer)]


def _usable(answer: AnswerView) -> bool:
    return answer.approved and answer.draft is not None and bool(answer.draft.text.strip())


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


def build_pack(
    repo: Repository, inspection_id: int, pcc_name: str = "", watermark: bool = False
) -> tuple[Pack, list[MissingAnswer]]:
    """The pack in report order, plus what is missing. Raises PackIncomplete unless `watermark`."""
    inspection = repo.get_inspection(inspection_id)
    answers = repo.answers(inspection_id)
    missing = missing_answers(answers)
    if not watermark and (missing or not answers):
        raise PackIncomplete(inspection, missing)
    comments = get_comments(repo, inspection_id)
    pack = Pack(
        header=PackHeader(
            inspection_title=inspection.title,
            inspection_type=inspection.inspection_type,
            published=inspection.published,
            last_day=inspection.last_day,
            deadline_rule=deadline_rule(inspection),
        ),
        force=inspection.force,
        pcc_name=pcc_name,
        pcc_comments=comments.pcc or "",
        chief_constable_comments=comments.chief_constable or "",
        answers=[_pack_answer(repo, answer) for answer in answers],
        watermark=watermark,
    )
    return pack, missing


def _pack_answer(repo: Repository, answer: AnswerView) -> PackAnswer:
    draft = answer.draft
    approvers: list[str] = []
    if answer.approved and draft is not None:
        approvers = [
            review.reviewer
            for review in repo.reviews(answer.finding.id)
            if review.action is ReviewAction.APPROVE and review.draft_version == draft.version
        ]
    return PackAnswer(
        finding=answer.finding.to_finding(),
        text=draft.text if draft else "",
        approved=_usable(answer),
        approved_by=", ".join(dict.fromkeys(approvers)),
        version=draft.version if draft else None,
    )


def pack_stem(inspection: InspectionView, watermark: bool) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", inspection.title.lower()).strip("-")[:60].rstrip("-") or "inspection"
    return f"{DOC_ID_PREFIX}{inspection.id}-{slug}-response" + ("-WORKING-DRAFT" if watermark else "")


def export_pack(
    repo: Repository, inspection_id: int, out_dir: Path, pcc_name: str = "", watermark: bool = False
) -> ExportedPack:
    """Write `<stem>.md` and `<stem>.docx` into out_dir; an incomplete final pack raises PackIncomplete."""
    pack, _missing = build_pack(repo, inspection_id, pcc_name, watermark)
    stem = pack_stem(repo.get_inspection(inspection_id), watermark)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / f"{stem}.md"
    markdown.write_text(render_markdown(pack), encoding="utf-8")
    docx = export_docx(pack, out_dir / f"{stem}.docx")
    return ExportedPack(markdown=markdown, docx=docx, watermark=watermark, answers=len(pack.answers))


# ── the learning loop ────────────────────────────────────────────────────────────────────────────────────


def doc_id_for(inspection_id: int) -> str:
    return f"{DOC_ID_PREFIX}{inspection_id}"


def published_document(repo: Repository, inspection_id: int) -> ParsedDocument:
    """The published response as a document of this force: its approved answers are the precedents."""
    inspection = repo.get_inspection(inspection_id)
    comments = get_comments(repo, inspection_id)
    answers = [answer for answer in repo.answers(inspection_id) if _usable(answer)]
    responded = inspection.published_at.date() if inspection.published_at else None
    national = inspection.inspection_type is InspectionType.NATIONAL_THEMATIC
    return ParsedDocument(
        meta=DocumentMeta(
            doc_id=doc_id_for(inspection.id),
            title=f"{inspection.force} PCC response to HMICFRS: {inspection.title}",
            force=inspection.force,
            office=Office.PCC,
            inspection_title=inspection.title,
            inspection_type=inspection.inspection_type,
            published=inspection.published,
            response_date=responded,
            classification=Classification.OFFICIAL,
            kind=DocumentKind.PCC_RESPONSE,
            source=f"responder:inspection/{inspection.id}",
        ),
        header=ResponseHeader(
            inspection_title=inspection.title,
            inspection_type=inspection.inspection_type,
            published_as_written=format_date_long(inspection.published),
            deadline_as_written=format_date_long(inspection.last_day),
            recommendations_scope="national" if national else "local",
        ),
        comments=[text for text in (comments.pcc, comments.chief_constable) if text],
        precedents=[
            Precedent(finding=answer.finding.to_finding(), response=answer.draft.text.strip())
            for answer in answers
            if answer.draft is not None
        ],
    )


def learn_from_published(repo: Repository, index: PackIndex, inspection_id: int) -> LearnResult:
    """Index the approved answers of a published response; idempotent (re-running changes nothing)."""
    inspection = repo.get_inspection(inspection_id)
    if inspection.published_at is None:
        raise InvalidInput(
            f"Inspection {inspection_id} is not marked published; only a published response joins the library."
        )
    doc = published_document(repo, inspection_id)
    if not doc.precedents:
        return LearnResult(doc_id=doc.meta.doc_id, precedents=0)
    result = index.upsert_document(doc)
    return LearnResult(doc_id=doc.meta.doc_id, precedents=len(doc.precedents), added=int(getattr(result, "added", 0)))
