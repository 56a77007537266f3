"""The learning loop: once a response is published, its final answers become this force's precedents.

Only answers approved by people with no `[CONFIRM: …]` left are learned: an approved answer that still holds
one (approved before that was refused) is held back and named, so a placeholder never returns as evidence.

The published response is indexed as a document of the force (doc id `inspection-<id>`), so the next similar
recommendation finds the office's own words first. Re-running it changes nothing (content-hashed chunks).

Each learned answer keeps the protective marking of its version, so an OFFICIAL-SENSITIVE answer is only ever
found again under a ceiling that allows it; the document (and its comments) is marked with the highest of them,
as the pack is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, Field

from retrieval.dates import format_date_long
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
from tracker.errors import InvalidInput
from tracker.pack_assembly import DOC_ID_PREFIX, is_final

if TYPE_CHECKING:
    from tracker.repository import Repository


class PackIndex(Protocol):
    """What the learning loop needs from retrieval.index.PrecedentIndex (kept narrow for tests)."""

    def upsert_document(self, doc: ParsedDocument) -> object: ...


class LearnResult(BaseModel):
    doc_id: str
    precedents: int
    added: int = 0
    held_back: list[str] = Field(
        default_factory=list, description="Approved answers left out: their text still holds a [CONFIRM: …]"
    )


def doc_id_for(inspection_id: int) -> str:
    return f"{DOC_ID_PREFIX}{inspection_id}"


def published_document(repo: Repository, inspection_id: int) -> ParsedDocument:
    """The published response as a document of this force: its approved answers are the precedents."""
    inspection = repo.inspections.get(inspection_id)
    comments = repo.inspections.comments(inspection_id)
    answers = [answer for answer in repo.findings.answers(inspection_id) if is_final(answer)]
    responded = inspection.published_at.date() if inspection.published_at else None
    national = inspection.inspection_type is InspectionType.NATIONAL_THEMATIC
    learned = [answer for answer in answers if answer.draft is not None]
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
            classification=Classification.highest(answer.draft.marking for answer in learned if answer.draft),
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
            Precedent(
                finding=answer.finding.to_finding(),
                response=answer.draft.text.strip(),
                classification=answer.draft.marking,
            )
            for answer in learned
            if answer.draft is not None
        ],
    )


def learn_from_published(repo: Repository, index: PackIndex, inspection_id: int) -> LearnResult:
    """Index the approved answers of a published response; idempotent (re-running changes nothing)."""
    inspection = repo.inspections.get(inspection_id)
    if inspection.published_at is None:
        raise InvalidInput(
            f"Inspection {inspection_id} is not marked published; only a published response joins the library."
        )
    doc = published_document(repo, inspection_id)
    held = [a.finding.label for a in repo.findings.answers(inspection_id) if a.approved and not is_final(a)]
    if not doc.precedents:
        return LearnResult(doc_id=doc.meta.doc_id, precedents=0, held_back=held)
    result = index.upsert_document(doc)
    added = int(getattr(result, "added", 0))
    return LearnResult(doc_id=doc.meta.doc_id, precedents=len(doc.precedents), added=added, held_back=held)
