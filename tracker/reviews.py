"""Reviewers' decisions on answers: approve, request changes, edit, reopen, each one transaction.

Decisions are checked twice against concurrent clicks: against the draft version the person saw
(`expected_version`), and by the findings row's version_id column, which makes the UPDATE fail for whoever
commits second (a ConcurrentChange, "refresh and try again"). Who may decide is `tracker.review`'s policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from drafting.fact_check import PLACEHOLDER
from retrieval.models import Classification
from tracker import schema
from tracker.errors import InvalidInput
from tracker.findings import check_expected, latest_draft_row, snapshot_of, store_version
from tracker.review import (
    REVIEWER_ACTIONS,
    ApprovalPolicy,
    ReviewAction,
    ReviewSnapshot,
    ReviewState,
    check_allowed,
    drafter_of,
    transition,
    without_marker,
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
        marker: str | None = None,
        reuse_of: int | None = None,
    ) -> ReviewOutcome:
        """Apply one reviewer's click. `expected_version` is the draft version the reviewer was shown;
        `marker` is the `[CONFIRM: …]` a CONFIRM vouches for (its note is the `comment`); `reuse_of`, with EDIT,
        is another finding whose approved answer becomes this one's next version (text, sources, plan, marking).

        Raises IllegalTransition (state forbids it), NotAllowed (policy), ConcurrentChange (someone else got
        there first), InvalidInput (missing comment or text) or NotFound; nothing is stored when it raises.
        """
        act = enum_value(ReviewAction, action, "review action")
        if act not in REVIEWER_ACTIONS:
            raise InvalidInput(
                f"{act.value!r} is not a reviewer's action; use approve, request_changes, edit, confirm or reopen."
            )
        if reuse_of is not None and act is not ReviewAction.EDIT:
            raise InvalidInput(
                f"Reusing an earlier answer makes a new version: it goes with edit, not with {act.value}."
            )
        decision = _Decision(reviewer, tuple(groups), act, (comment or "").strip() or None, new_text, marker)
        with self._store.transaction() as session:
            if reuse_of is not None:
                decision = _reusing(session, finding_id, reuse_of, decision)
            return self._record(session, finding_id, decision, expected_version)

    def _record(
        self, session: Session, finding_id: int, decision: _Decision, expected_version: int | None
    ) -> ReviewOutcome:
        finding = get_row(session, schema.Finding, finding_id, "finding")
        latest = latest_draft_row(session, finding_id)
        check_expected(latest, expected_version)
        snapshot = snapshot_of(session, finding, latest)
        action, reviewer = decision.action, decision.reviewer
        new_state = transition(snapshot, action, self.policy.total_approvals)
        assert latest is not None  # transition() refuses every reviewer action before the first draft
        drafter = drafter_of(latest.author, latest.requested_by)
        unconfirmed = tuple(placeholders_in(latest.text))
        check_allowed(
            self.policy,
            action,
            reviewer,
            decision.groups,
            drafter,
            snapshot,
            decision.comment,
            decision.new_text,
            unconfirmed,
            decision.marker,
            requester=finding.requested_by,
        )
        target = latest
        if action in (ReviewAction.EDIT, ReviewAction.CONFIRM):
            edited = decision.reused.draft if decision.reused else _new_version(latest, decision)
            # A reviewer's words go with the version as its instruction; a confirmation's note only in the review,
            # and so a reuse's sentence, which is no instruction to follow (it is on the version's notes).
            plain_edit = action is ReviewAction.EDIT and decision.reused is None
            instruction = decision.comment if plain_edit else None
            target = store_version(self._store, session, finding, latest, edited, reviewer, instruction, None)
        now = self._store.now()
        session.add(
            schema.Review(
                finding_id=finding_id,
                draft_id=target.id,
                reviewer=reviewer,
                action=action.value,
                comment=decision.comment,
                created_at=now,
                round=_round(session, target.id) + (action is ReviewAction.REOPEN),
            )
        )
        finding.state = new_state.value
        finding.updated_at = now
        session.flush()
        approvers = _approvers_after(snapshot, action, reviewer)
        after: dict[str, object] = {"state": new_state.value, "version": target.version, "approvers": list(approvers)}
        after["comment"] = decision.comment
        if action is ReviewAction.CONFIRM:
            after["confirmed"] = decision.marker
        if decision.reused is not None:
            after["reused_from"] = {"finding_id": decision.reused.finding_id, "version": decision.reused.version}
        if action is ReviewAction.APPROVE and snapshot.state is ReviewState.REOPENED:
            after["undid_reopen"] = True
        self._store.audit(
            session,
            reviewer,
            action.value,
            "finding",
            finding_id,
            {"state": snapshot.state.value, "version": latest.version, "approvers": list(snapshot.approvers)},
            after,
        )
        return ReviewOutcome(
            finding=FindingView.of(finding, latest_version=target.version),
            draft=DraftView.of(target),
            state_before=snapshot.state,
            state_after=new_state,
            approvers=approvers,
        )


@dataclass(frozen=True)
class _Decision:
    """One reviewer's decision as typed: who, what, and the words that go with it."""

    reviewer: str
    groups: tuple[str, ...]
    action: ReviewAction
    comment: str | None
    new_text: str | None
    marker: str | None
    reused: _Reused | None = None


@dataclass(frozen=True)
class _Reused:
    """Another finding's approved answer, taken as this one's next version."""

    finding_id: int
    version: int
    draft: NewDraft


def _reusing(session: Session, finding_id: int, earlier_id: int, decision: _Decision) -> _Decision:
    """The decision with the earlier approved answer as its new text; InvalidInput if it cannot be reused."""
    if earlier_id == finding_id:
        raise InvalidInput("An answer cannot reuse itself; choose the earlier finding's answer.")
    earlier = get_row(session, schema.Finding, earlier_id, "finding")
    source = latest_draft_row(session, earlier_id)
    label = FindingView.of(earlier, latest_version=source.version if source else 0).label
    title = _inspection_title(session, earlier)
    if earlier.state != ReviewState.APPROVED.value or source is None:
        state = ReviewState(earlier.state).label
        raise InvalidInput(
            f"The answer to {label} of {title} is no longer approved (it is {state}); reuse it once it is "
            "approved again, or edit this answer yourself."
        )
    if left := placeholders_in(source.text):
        raise InvalidInput(
            f"The approved answer to {label} of {title} (v{source.version}) still holds {'; '.join(left)}; "
            "confirm it there first, or edit this answer yourself."
        )
    latest = latest_draft_row(session, finding_id)
    if latest is not None and Classification(source.marking).level > Classification(latest.marking).level:
        raise InvalidInput(
            f"The answer to {label} of {title} is marked {source.marking}, above this answer's {latest.marking}; "
            "reusing it here could show it where that marking is not cleared. Copy it by hand in a channel "
            "cleared for it."
        )
    sentence = f"Reused the approved answer to {label} of {title} (v{source.version})."
    draft = NewDraft(
        text=source.text,
        engine=EDIT_ENGINE,
        sources=source.sources,
        placeholders=[],
        notes=[sentence],
        rationale=f"{sentence} By {decision.reviewer}.",
        plan=source.plan,
        marking=Classification(source.marking),
    )
    return replace(decision, comment=sentence, new_text=source.text, reused=_Reused(earlier_id, source.version, draft))


def _inspection_title(session: Session, finding: schema.Finding) -> str:
    if finding.inspection_id is None:
        return "a pasted recommendation"
    inspection = session.get(schema.Inspection, finding.inspection_id)
    return inspection.title if inspection else f"inspection #{finding.inspection_id}"


def _new_version(latest: schema.Draft, decision: _Decision) -> NewDraft:
    """A reviewer's edit, or the latest text with one placeholder confirmed as written: same sources, same plan."""
    if decision.action is ReviewAction.CONFIRM:
        assert decision.marker is not None  # check_allowed refuses a confirm without its marker
        text = without_marker(latest.text, decision.marker)
        if not any(ch.isalnum() for ch in PLACEHOLDER.sub("", text)):
            raise InvalidInput(
                f"{decision.marker} is all this answer says: there are no words of its own to confirm. Use Edit "
                "to write the answer, then approve it."
            )
        rationale = f"{decision.marker} confirmed as written by {decision.reviewer} on v{latest.version}."
    else:
        text = (decision.new_text or "").strip()
        rationale = f"Edited by {decision.reviewer} from v{latest.version}."
    return NewDraft(
        text=text,
        engine=EDIT_ENGINE,
        sources=latest.sources,
        placeholders=placeholders_in(text),
        rationale=rationale,
        plan=latest.plan,  # the same evidence: an edit changes the words, not what they rest on
        marking=Classification(latest.marking),  # and so the same marking: the words came from those sources
    )


def _round(session: Session, draft_id: int) -> int:
    """How many times this version has been reopened: each reopening starts a new round of approvals."""
    reopened = select(func.count()).where(
        schema.Review.draft_id == draft_id, schema.Review.action == ReviewAction.REOPEN.value
    )
    return session.scalar(reopened) or 0


def _approvers_after(snapshot: ReviewSnapshot, action: ReviewAction, reviewer: str) -> tuple[str, ...]:
    # Approvals belong to the version they were given on; any other decision leaves none that still count.
    return (*snapshot.approvers, reviewer) if action is ReviewAction.APPROVE else ()
