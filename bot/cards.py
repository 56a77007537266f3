"""Turn what the tracker stores about one finding into the `DraftCard` its Slack message shows."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.blocks import DraftCard
from drafting.models import GuardFinding, SourceRef, is_grounded
from tracker.repository import Repository
from tracker.review import BOT_AUTHOR, ReviewAction, ReviewState
from tracker.views import DraftView, FindingView, ReviewView

T = TypeVar("T", bound=BaseModel)


def load_card(store: Repository, finding_id: int, *, seconds: float = 0.0, busy: str | None = None) -> DraftCard | None:
    """The card for the latest version, or None before the first draft."""
    finding = store.get_finding(finding_id)
    draft = store.latest_draft(finding_id)
    if draft is None:
        return None
    title = store.get_inspection(finding.inspection_id).title if finding.inspection_id else ""
    return build_card(finding, draft, store.reviews(finding_id), store.policy.required_approvals, title, seconds, busy)


def build_card(
    finding: FindingView,
    draft: DraftView,
    reviews: list[ReviewView],
    required_approvals: int,
    inspection_title: str = "",
    seconds: float = 0.0,
    busy: str | None = None,
) -> DraftCard:
    on_latest = [r for r in reviews if r.draft_version == draft.version]
    approvers = list(dict.fromkeys(r.reviewer for r in on_latest if r.action is ReviewAction.APPROVE))
    actor, at, comment = None, None, None
    last = reviews[-1] if reviews else None
    if finding.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REOPENED) and last:
        actor, at = last.reviewer, last.created_at
        if last.action is ReviewAction.REQUEST_CHANGES:
            comment = last.comment
    elif finding.state is ReviewState.REDRAFTED:
        actor = draft.author if draft.author != BOT_AUTHOR else draft.requested_by
        at = draft.created_at
    sources = _valid(SourceRef, draft.sources)
    guard = _valid(GuardFinding, draft.guard_findings)
    grounded = is_grounded(any(s.cited for s in sources), guard)
    return DraftCard(
        finding_id=finding.id,
        version=draft.version,
        finding=finding.to_finding(),
        inspection_title=inspection_title,
        text=draft.text,
        sources=sources,
        guard=guard,
        placeholders=draft.placeholders,
        notes=draft.notes,
        engine=draft.engine,
        seconds=seconds,
        grounded=grounded,
        state=finding.state,
        actor=actor,
        acted_at=at,
        comment=comment,
        approvers=approvers,
        required_approvals=required_approvals,
        author=draft.author,
        instruction=draft.instruction,
        busy=busy,
    )


def _valid(model: type[T], items: list[dict[str, Any]]) -> list[T]:
    """Stored JSON read back leniently: a record from an older release is skipped, not fatal to the card."""
    out = []
    for item in items:
        try:
            out.append(model.model_validate(item))
        except ValidationError:
            continue
    return out
