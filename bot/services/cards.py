"""The draft card of one finding, read fresh from the store (what every post and update of its message shows)."""

from __future__ import annotations

from bot.slack.ui.draft_card import DraftCard, Linker, build_card
from tracker.repository import Repository


def load_card(
    store: Repository,
    finding_id: int,
    *,
    seconds: float = 0.0,
    busy: str | None = None,
    link: Linker | None = None,
) -> DraftCard | None:
    """The card for the latest version, or None before the first draft: with every stage of the sign-off chain
    and the approved answers of other inspections this finding repeats (`link` makes their links)."""
    finding = store.findings.get(finding_id)
    draft = store.drafts.latest(finding_id)
    if draft is None:
        return None
    title = store.inspections.get(finding.inspection_id).title if finding.inspection_id else ""
    reviews = store.reviews.of(finding_id)
    policy = store.policy
    return build_card(
        finding,
        draft,
        reviews,
        policy.total_approvals,
        title,
        seconds,
        busy,
        chain=policy.chain,
        earlier=store.answered.of(finding_id),
        link=link,
    )
