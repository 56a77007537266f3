"""Set-up shared by the deadline, pack and slash-command tests: an inspection with drafted findings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from retrieval.models import InspectionType
from tests.support.store import draft, findings
from tracker.repository import Repository
from tracker.views import InspectionView

TITLE = "An inspection of group-based child sexual exploitation"
PUBLISHED = date(2023, 12, 8)
REVIEWER = "U_REVIEWER"
ANSWERS = (
    "The force has a problem profile for child sexual exploitation, refreshed every quarter since March 2024.",
    "This recommendation is for the Home Office; the force will support the national work on funding.",
    "Audits of exploitation cases now run monthly under the detective superintendent for safeguarding.",
)


def seed_inspection(
    repo: Repository,
    approve: Sequence[bool] = (True, True, True),
    channel: str | None = "C_REVIEWS",
    title: str = TITLE,
    published: date = PUBLISHED,
) -> InspectionView:
    """A national thematic inspection with the three sample findings, each drafted; some approved."""
    inspection = repo.inspections.create(
        title, published, InspectionType.NATIONAL_THEMATIC, "Northumbria", channel, "U_LEAD"
    )
    stored = repo.findings.add(inspection.id, findings())
    for finding, text, ok in zip(stored, ANSWERS, approve, strict=True):
        repo.drafts.add(finding.id, draft(text))
        if ok:
            repo.reviews.record(finding.id, REVIEWER, action="approve")
    return repo.inspections.get(inspection.id)


def approve_all(repo: Repository, inspection_id: int) -> None:
    for finding in repo.findings.of_inspection(inspection_id):
        if not finding.approved:
            repo.reviews.record(finding.id, REVIEWER, action="approve")
