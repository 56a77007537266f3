"""Store views built by hand for pure tests (Block Kit builders, parsers) that need no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from retrieval.models import FindingKind, InspectionType
from tracker.deadlines import statutory_last_day
from tracker.review import ReviewState
from tracker.views import FindingView, InspectionView

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def finding_view(
    id: int,
    number: str | None,
    kind: FindingKind = FindingKind.RECOMMENDATION,
    position: int | None = None,
    text: str = "",
) -> FindingView:
    """A drafted finding in thread 1.1 of C1; its position is its id unless given."""
    return FindingView(
        id=id,
        inspection_id=1,
        position=id if position is None else position,
        number=number,
        kind=kind,
        text=text or "The force should act.",
        addressees=(),
        due=None,
        channel_id="C1",
        thread_ts="1.1",
        message_ts=f"2.{id}",
        state=ReviewState.DRAFTED,
        version_id=1,
        latest_version=1,
        requested_by="U1",
        created_at=NOW,
        updated_at=NOW,
    )


def inspection_view(number: int, title: str, published: date, **fields: Any) -> InspectionView:
    """An open PEEL inspection of Northumbria, 1 of 4 answers approved; `fields` override any value."""
    values: dict[str, Any] = {
        "id": number,
        "title": title,
        "inspection_type": InspectionType.PEEL,
        "force": "Northumbria",
        "published": published,
        "last_day": statutory_last_day(published),
        "cc_comments_due": published,
        "first_drafts_due": published,
        "reviews_complete_due": published,
        "reminder_days": (7,),
        "channel_id": "C1",
        "thread_ts": None,
        "status": "open",
        "published_at": None,
        "sent_hmicfrs_at": None,
        "sent_home_office_at": None,
        "created_by": "U1",
        "created_at": datetime(2023, 12, 1, tzinfo=UTC),
        "findings_total": 4,
        "findings_approved": 1,
    }
    return InspectionView(**(values | fields))
