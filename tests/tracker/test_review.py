"""The review state machine and the approval policy, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.slack.ui.common import mention
from tracker.clock import format_when
from tracker.errors import IllegalTransition
from tracker.people import name_people, person
from tracker.review import (
    ApprovalPolicy,
    ReviewAction,
    ReviewSnapshot,
    ReviewState,
    current_approvers,
    drafter_of,
    transition,
)

S, A = ReviewState, ReviewAction
AT = datetime(2024, 1, 10, 14, 2, tzinfo=UTC)


def test_the_full_lifecycle_walks_every_documented_transition() -> None:
    steps = [
        (S.AWAITING_DRAFT, A.DRAFT, S.DRAFTED),
        (S.DRAFTED, A.REQUEST_CHANGES, S.CHANGES_REQUESTED),
        (S.CHANGES_REQUESTED, A.DRAFT, S.REDRAFTED),
        (S.REDRAFTED, A.APPROVE, S.APPROVED),
        (S.APPROVED, A.REOPEN, S.REOPENED),
        (S.REOPENED, A.EDIT, S.REDRAFTED),
        (S.REDRAFTED, A.APPROVE, S.APPROVED),
    ]
    for before, action, after in steps:
        assert transition(ReviewSnapshot(before, version=1), action) is after


@pytest.mark.parametrize("state", [S.DRAFTED, S.REDRAFTED, S.CHANGES_REQUESTED, S.REOPENED])
def test_any_new_version_lands_in_redrafted(state: ReviewState) -> None:
    for action in (A.DRAFT, A.EDIT):
        assert transition(ReviewSnapshot(state, version=2), action) is S.REDRAFTED


def test_drafted_can_be_approved_directly_and_reopened_can_get_change_requests() -> None:
    assert transition(ReviewSnapshot(S.DRAFTED, 1), A.APPROVE) is S.APPROVED
    assert transition(ReviewSnapshot(S.REOPENED, 1), A.REQUEST_CHANGES) is S.CHANGES_REQUESTED


def test_approved_answer_refuses_everything_but_reopen_with_who_and_when() -> None:
    snapshot = ReviewSnapshot(S.APPROVED, version=3, approvers=("U123",), last_actor="U123", last_at=AT)
    for action in (A.APPROVE, A.EDIT, A.REQUEST_CHANGES, A.DRAFT):
        with pytest.raises(IllegalTransition) as caught:
            transition(snapshot, action)
        assert str(caught.value) == (
            "This answer is already approved (v3 by U123 at 10 Jan 2024 14:02); reopen it first."
        )


def test_approving_while_changes_are_requested_is_refused() -> None:
    snapshot = ReviewSnapshot(S.CHANGES_REQUESTED, version=2, last_actor="U9", last_at=AT)
    with pytest.raises(IllegalTransition, match=r"Changes were requested on v2 by U9 at 10 Jan 2024 14:02"):
        transition(snapshot, A.APPROVE)


def test_nothing_to_review_before_the_first_draft() -> None:
    for action in (A.APPROVE, A.REQUEST_CHANGES, A.EDIT, A.REOPEN):
        with pytest.raises(IllegalTransition, match="no draft to review yet"):
            transition(ReviewSnapshot(S.AWAITING_DRAFT), action)


@pytest.mark.parametrize("state", [S.DRAFTED, S.REDRAFTED, S.CHANGES_REQUESTED, S.REOPENED])
def test_only_approved_answers_reopen(state: ReviewState) -> None:
    with pytest.raises(IllegalTransition, match=f"Only an approved answer can be reopened; this one is {state.label}"):
        transition(ReviewSnapshot(state, version=1), A.REOPEN)


def test_a_mistaken_reopen_is_undone_by_approving_the_same_version_again() -> None:
    assert transition(ReviewSnapshot(S.REOPENED, 1, last_actor="U2"), A.APPROVE) is S.APPROVED
    # with two approvals required, the approvals given before the reopening no longer count
    assert transition(ReviewSnapshot(S.REOPENED, 1), A.APPROVE, required_approvals=2) is S.REOPENED


def test_n_approvals_by_distinct_people() -> None:
    assert transition(ReviewSnapshot(S.DRAFTED, 1), A.APPROVE, required_approvals=2) is S.DRAFTED
    assert transition(ReviewSnapshot(S.DRAFTED, 1, approvers=("U1",)), A.APPROVE, required_approvals=2) is S.APPROVED
    assert transition(ReviewSnapshot(S.REDRAFTED, 1, approvers=("U1",)), A.APPROVE, 3) is S.REDRAFTED


def test_approvals_stand_only_while_their_version_is_unquestioned() -> None:
    """One rule for the count, the card and the pack: a change request or a reopening withdraws them."""
    first = SimpleNamespace(reviewer="U1", action=A.APPROVE)
    second = SimpleNamespace(reviewer="U2", action=A.APPROVE.value)  # a stored row holds the plain string
    assert current_approvers(S.DRAFTED, [first]) == ("U1",)
    assert current_approvers(S.APPROVED, [first, second]) == ("U1", "U2")
    questioned = [first, SimpleNamespace(reviewer="U2", action=A.REQUEST_CHANGES)]
    assert current_approvers(S.CHANGES_REQUESTED, questioned) == ()
    assert current_approvers(S.REOPENED, [first, second, SimpleNamespace(reviewer="U3", action=A.REOPEN)]) == ()


def test_policy_reviewers_by_user_and_by_group() -> None:
    policy = ApprovalPolicy.of(["U1", " S_LEGAL ", ""])
    assert policy.can_approve("U1") == (True, "You are a configured reviewer.")
    allowed, reason = policy.can_approve("U7", groups=["S_OTHER", "S_LEGAL"])
    assert allowed and "S_LEGAL" in reason
    allowed, reason = policy.can_approve("U7", groups=["S_OTHER"])
    assert not allowed
    assert name_people(reason, mention) == (
        "Only the configured reviewers can approve answers (<!subteam^S_LEGAL>, <@U1>); ask one of them."
    )


def test_policy_drafter_rule() -> None:
    strict = ApprovalPolicy.of(["U1", "U2"], drafter_may_approve=False)
    assert strict.can_approve("U1", draft_author="U1") == (
        False,
        "You wrote or requested this version; someone else must approve it.",
    )
    assert strict.can_approve("U2", draft_author="U1")[0]
    assert ApprovalPolicy.of(["U1"]).can_approve("U1", draft_author="U1")[0]


def test_policy_without_reviewers_lets_any_person_but_never_the_bot() -> None:
    open_policy = ApprovalPolicy()
    assert open_policy.can_approve("U5")[0]
    assert open_policy.can_approve("responder") == (False, "Only a person can approve an answer.")
    assert not open_policy.can_approve("")[0]


def test_policy_reopen_needs_reviewer_standing_but_not_the_drafter_rule() -> None:
    policy = ApprovalPolicy.of(["U1"], drafter_may_approve=False)
    assert policy.can_reopen("U1")[0]
    assert not policy.can_reopen("U2")[0]


def test_policy_needs_at_least_one_approval() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ApprovalPolicy(required_approvals=0)


def test_drafter_of_bot_drafts_is_the_requester() -> None:
    assert drafter_of("responder", "U3") == "U3"
    assert drafter_of("U4", None) == "U4"


def test_mentions_and_times() -> None:
    assert [mention(x) for x in ("U1", "W2", "S3", "someone")] == ["<@U1>", "<@W2>", "<!subteam^S3>", "someone"]
    assert name_people(f"by {person('U1')} and {person('S3')}", mention) == "by <@U1> and <!subteam^S3>"
    summer = datetime(2024, 7, 1, 8, 5, tzinfo=UTC)
    assert format_when(summer) == "1 Jul 2024 09:05"  # shown in UK time (BST here)
