"""Reviewers' decisions on answers: approve, request changes, edit, reopen, each one transaction.

Decisions are checked twice against concurrent clicks: against the draft version the person saw
(`expected_version`), and by the findings row's version_id column, which makes the UPDATE fail for whoever
commits second (a ConcurrentChange, "refresh and try again"). Who may decide is `tracker.review`'s policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import schema
from tracker.errors import InvalidInput
from tracker.findings import check_expected, latest_draft_row, snapshot_of, store_version
from tracker.review import (
    REVIEWER_ACTIONS,
    ApprovalPolicy,
    ReviewAction,
    ReviewSnapshot,
    check_allowed,
    drafter_of,
    transition,
)
from tracker.store import Store, enum_value, get_row
from tracker.views import DraftView, FindingView, NewDraft, ReviewOutcome, ReviewView, placeholders_in

EDIT_ENGINE = "edit"


class Reviews:
    def __init__(self, store: Store, policy: ApprovalPolicy) -> None:
        self._store = store
        self.policy = policy

    def of(self, finding_id: int) -> list[ReviewView]:
        with self._store.transaction() as session:
            rows = session.execute(
                select(schema.Review, schema.Draft.version)
                .join(schema.Draft, schema.Draft.id == schema.Review.draft_id)
                .where(schema.Review.finding_id == finding_id)
                .order_by(schema.Review.id)
            ).all()
            return [ReviewView.of(review, draft_version=version) for review, version in rows]

    def record(
        self,
        finding_id: int,
        reviewer: str,
        groups: Iterable[str] = (),
        action: ReviewAction | str = ReviewAction.APPROVE,
        comment: str | None = None,
        expected_version: int | None = None,
        new_text: str | None = None,
    ) -> ReviewOutcome:
        """Apply one reviewer's click. `expected_version` is the draft version the reviewer was shown.

        Raises IllegalTransition (state forbids it), NotAllowed (policy), ConcurrentChange (someone else got
        there first), InvalidInput (missing comment or text) or NotFound; nothing is stored when it raises.
        """
        act = enum_value(ReviewAction, action, "review action")
        if act not in REVIEWER_ACTIONS:
            raise InvalidInput(
                f"{act.value!r} is not a reviewer's action; use approve, request_changes, edit or reopen."
            )
        with self._store.transaction() as session:
            return self._record(session, finding_id, reviewer, tuple(groups), act, comment, expected_version, new_text)

    def _record(
        self,
        session: Session,
        finding_id: int,
        reviewer: str,
        groups: tuple[str, ...],
        action: ReviewAction,
        comment: str | None,
        expected_version: int | None,
        new_text: str | None,
    ) -> ReviewOutcome:
        finding = get_row(session, schema.Finding, finding_id, "finding")
        latest = latest_draft_row(session, finding_id)
        check_expected(latest, expected_version)
        snapshot = snapshot_of(session, finding, latest)
        new_state = transition(snapshot, action, self.policy.required_approvals)
        assert latest is not None  # transition() refuses every reviewer action before the first draft
        comment = (comment or "").strip() or None
        drafter = drafter_of(latest.author, latest.requested_by)
        check_allowed(self.policy, action, reviewer, groups, drafter, snapshot, comment, new_text)
        target = latest
        if action is ReviewAction.EDIT:
            edited = NewDraft(
                text=(new_text or "").strip(),
                engine=EDIT_ENGINE,
                sources=latest.sources,
                placeholders=placeholders_in(new_text or ""),
                rationale=f"Edited by {reviewer} from v{latest.version}.",
                plan=latest.plan,  # the same evidence: an edit changes the words, not what they rest on
            )
            target = store_version(self._store, session, finding, latest, edited, reviewer, comment, None)
        now = self._store.now()
        session.add(
            schema.Review(
                finding_id=finding_id,
                draft_id=target.id,
                reviewer=reviewer,
                action=action.value,
                comment=comment,
                created_at=now,
            )
        )
        finding.state = new_state.value
        finding.updated_at = now
        session.flush()
        approvers = _approvers_after(snapshot, action, reviewer)
        self._store.audit(
            session,
            reviewer,
            action.value,
            "finding",
            finding_id,
            {"state": snapshot.state.value, "version": latest.version, "approvers": list(snapshot.approvers)},
            {"state": new_state.value, "version": target.version, "approvers": list(approvers), "comment": comment},
        )
        return ReviewOutcome(
            finding=FindingView.of(finding, latest_version=target.version),
            draft=DraftView.of(target),
            state_before=snapshot.state,
            state_after=new_state,
            approvers=approvers,
        )


def _approvers_after(snapshot: ReviewSnapshot, action: ReviewAction, reviewer: str) -> tuple[str, ...]:
    # Approvals belong to the version they were given on; any other decision leaves none that still count.
    return (*snapshot.approvers, reviewer) if action is ReviewAction.APPROVE else ()
