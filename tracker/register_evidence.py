"""Register updates as evidence: the force's latest reported progress on a published recommendation.

Each register item with a person's progress update is indexed as one document of its force (doc id
`register-item-<id>`, kind `register-update`, dated the day of that update), holding the latest update's note
as the answer to the item's finding. So the next draft on the same matter finds the position the office was
last given, and states it with its date ("As at March 2026, the force reports: …") and its citation.

Only the latest update counts: an earlier note the force has since moved on from is not its position any more,
so re-indexing an item replaces its document (content-hashed chunks; stale ones are removed). Bookkeeping
entries (created, owner assigned, due date set) are nobody's position and are never indexed; an item superseded
or not accepted leaves the library (its last note is the office's reason). Re-running it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from retrieval.models import DocumentKind, DocumentMeta, Office, ParsedDocument, Precedent
from tracker.clock import UK
from tracker.register import WITHDRAWN, Register, RegisterItemView

DOC_ID_PREFIX = "register-item-"


class EvidenceIndex(Protocol):
    """What indexing needs from retrieval.index.PrecedentIndex (kept narrow for tests)."""

    def upsert_document(self, doc: ParsedDocument) -> object: ...
    def delete_document(self, doc_id: str) -> object: ...


def doc_id_for(item_id: int) -> str:
    return f"{DOC_ID_PREFIX}{item_id}"


def position_document(item: RegisterItemView) -> ParsedDocument | None:
    """The item's latest progress update as a dated document of its force; None before anyone has given one, and
    for an item superseded or not accepted (its last note is the office's reason, not the force's progress)."""
    latest = item.latest_position
    if latest is None or item.recommendation is None or item.status in WITHDRAWN:
        return None
    day = latest.at.astimezone(UK).date()
    return ParsedDocument(
        meta=DocumentMeta(
            doc_id=doc_id_for(item.id),
            title=f"Register update on {item.finding_label} of {item.inspection_title} ({day:%-d %B %Y})",
            force=item.force,
            office=Office.FORCE,
            inspection_title=item.inspection_title,
            published=day,
            response_date=day,
            classification=item.marking,
            kind=DocumentKind.REGISTER_UPDATE,
            source=f"responder:register/{item.id}/update/{latest.id}",
        ),
        precedents=[Precedent(finding=item.recommendation, response=latest.note, classification=item.marking)],
    )


def index_positions(register: Register, index: EvidenceIndex, item_ids: Iterable[int] | None = None) -> int:
    """Index the latest position of the given items (all of them when None); returns how many were indexed."""
    items = register.items() if item_ids is None else [register.get(item_id) for item_id in item_ids]
    indexed = 0
    for item in items:
        if (doc := position_document(item)) is not None:
            index.upsert_document(doc)
            indexed += 1
        elif item.status in WITHDRAWN:
            index.delete_document(doc_id_for(item.id))  # what it said before is no position on a live matter
    return indexed
