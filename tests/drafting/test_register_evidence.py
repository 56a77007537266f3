"""A register update is the force's latest reported position: indexed for real, found for the next finding on the
same matter, and stated with its date and citation; bookkeeping and superseded notes are never evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from drafting.chain import Drafter, mask_fixed, unmask
from drafting.models import DraftRequest, GuardKind
from retrieval.config import RetrievalConfig
from retrieval.embeddings import MiniLMEmbeddings
from retrieval.findings import make_finding
from retrieval.index import PrecedentIndex
from retrieval.models import DocumentKind
from tests.support.store import FakeClock, draft, make_repo
from tracker.register_evidence import doc_id_for, index_positions, position_document
from tracker.repository import Repository

PUBLISHED = date(2025, 3, 3)
FIRST = make_finding(
    "Within six months, the force should make sure that stalking protection orders are considered in every "
    "stalking investigation."
)
REVISIT = make_finding(
    "By 30 September 2026, the force should make sure that officers consider applying for stalking protection "
    "orders in all stalking investigations."
)
UPDATE = (
    "We have trained 240 investigators in applying for stalking protection orders, and a stalking coordinator "
    "now reviews every stalking investigation for an order."
)
TITLE = "An inspection of the police response to stalking"


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    clock = FakeClock(datetime(2026, 3, 12, 10, tzinfo=UTC))
    store = make_repo(tmp_path, clock=clock)
    inspection = store.inspections.create(TITLE, PUBLISHED, "force-specific", "Northumbria", "C1", "U_LEAD")
    (finding,) = store.findings.add(inspection.id, [FIRST])
    store.drafts.add(finding.id, draft("The force will consider stalking protection orders in every case."))
    store.reviews.record(finding.id, "U_REVIEWER", action="approve")
    store.inspections.mark_recipient(inspection.id, "published", "U_LEAD", require_findings=True)
    return store


@pytest.fixture
def index(tmp_path: Path, model: MiniLMEmbeddings) -> PrecedentIndex:
    return PrecedentIndex(RetrievalConfig(data_dir=tmp_path / "index"), embeddings=model)


def revisit_draft(index: PrecedentIndex):  # type: ignore[no-untyped-def]
    request = DraftRequest(finding=REVISIT, inspection_title="Stalking: a revisit", force="Northumbria")
    return Drafter(index, None, "composer", today=lambda: date(2026, 12, 1)).draft(request)


def test_the_next_draft_on_the_matter_states_the_latest_update_with_its_date_and_cites_it(
    repo: Repository, index: PrecedentIndex
) -> None:
    (item,) = repo.register.items()
    repo.register.update(item.id, "U_OWNER", status="in_progress", rag="amber", note=UPDATE)
    assert index_positions(repo.register, index) == 1

    result = revisit_draft(index)

    assert "As at March 2026, the force reports: “The force has trained 240 investigators" in result.text
    cited = {source.doc_id for source in result.sources}
    assert doc_id_for(item.id) in cited
    (source,) = [s for s in result.sources if s.doc_id == doc_id_for(item.id)]
    assert source.kind is DocumentKind.REGISTER_UPDATE
    assert not [g for g in result.guard if g.kind is GuardKind.UNSUPPORTED_FACT]


def test_only_the_latest_update_is_the_position_and_bookkeeping_is_never_indexed(
    repo: Repository, index: PrecedentIndex
) -> None:
    (item,) = repo.register.items()
    repo.register.assign(item.id, "U_OWNER", "U_LEAD")
    repo.register.set_due(item.id, date(2026, 9, 30), "U_LEAD")
    assert position_document(repo.register.get(item.id)) is None  # nobody has reported progress yet
    assert index_positions(repo.register, index) == 0 and index.count() == 0

    repo.register.update(item.id, "U_OWNER", note="We are scoping training on stalking protection orders.")
    index_positions(repo.register, index)
    repo.store.clock.advance(days=30)  # type: ignore[attr-defined]
    repo.register.update(item.id, "U_OWNER", note=UPDATE)
    index_positions(repo.register, index, [item.id])
    index_positions(repo.register, index, [item.id])  # again: nothing changes

    texts = [chunk.response for chunk in index.get_chunks(_ids(index))]
    assert texts == [UPDATE]
    doc = position_document(repo.register.get(item.id))
    assert doc is not None and doc.meta.response_date == date(2026, 4, 11) and doc.meta.force == "Northumbria"


def test_a_register_update_keeps_its_date_through_the_models_rewrite() -> None:
    composed = "As at March 2026, the force reports: “The force has trained 240 investigators.” [CONFIRM: who owns it]"
    masked, markers = mask_fixed(composed)
    assert masked == "[D1] The force has trained 240 investigators. [P1]"
    text, dropped = unmask("[D1] the force has now trained 240 investigators. [P1]", markers)
    assert text.startswith("As at March 2026, the force reports: the force has now trained") and dropped == []
    assert unmask("The force has trained 240 investigators. [P1]", markers)[1] == ["[D1]"]  # undated: refused


def _ids(index: PrecedentIndex) -> list[str]:
    return [chunk_id for chunk_id, _text, _md in index._iter_records(include_text=False)]


def test_an_item_superseded_leaves_the_library_and_its_reason_is_never_evidence(
    repo: Repository, index: PrecedentIndex
) -> None:
    (item,) = repo.register.items()
    repo.register.update(item.id, "U_OWNER", note=UPDATE)
    index_positions(repo.register, index)
    assert index.count() > 0

    reason = "Replaced by the 2026 national stalking recommendation."
    withdrawn = repo.register.update(item.id, "U_REVIEWER", status="superseded", note=reason)
    assert position_document(withdrawn) is None
    index_positions(repo.register, index, [item.id])

    assert index.count() == 0
    assert "240 investigators" not in revisit_draft(index).text
