"""What a reviewer's decision did, in one line for the thread. Pure."""

from __future__ import annotations

from bot.slack.ui.common import mention
from tracker.review import ReviewAction, ReviewState
from tracker.views import ReviewOutcome


def review_outcome_text(outcome: ReviewOutcome) -> str:
    who, required, version = mention(outcome.reviewer), outcome.required_approvals, outcome.draft.version
    match outcome.action:
        case ReviewAction.APPROVE if outcome.state_after is ReviewState.APPROVED:
            return f"Approved v{version} by {', '.join(mention(a) for a in outcome.approvers)}."
        case ReviewAction.APPROVE:
            return f"{who} approved v{version}: {len(outcome.approvers)} of {required} approvals; waiting for more."
        case ReviewAction.REQUEST_CHANGES:
            return f"{who} asked for changes to v{version}."
        case ReviewAction.EDIT:
            return f"{who} saved v{version} (edited from v{outcome.seen_version})."
    return f"{who} reopened v{version}; it needs a new version and approval again."
