"""The sign-off chain: stages in order, each with its approvers and count; final only after the last stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from drafting.pack import PackIncomplete
from tests.support.inspections import ANSWERS, seed_inspection
from tests.support.store import FakeClock, draft, findings, make_repo
from tracker.errors import IllegalTransition, NotAllowed
from tracker.pack_assembly import PackLetter, build_pack, export_pack
from tracker.people import name_people
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewState, Signature, Stage, stage_signatures

LEAD, CHIEF, PCC, GROUP, GROUPIE = "U_LEAD", "U_CHIEF", "U_PCC", "S_EXEC", "U_EXEC"
CHAIN = (
    Stage("Policy lead", frozenset({LEAD})),
    Stage("Chief executive", frozenset({CHIEF, GROUP})),
    Stage("PCC", frozenset({PCC})),
)
THREE = ApprovalPolicy.of(["U_REVIEWER"], stages=CHAIN)


def drafted(repo: Repository, text: str = "The force has a problem profile, refreshed every quarter.") -> int:
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    repo.drafts.add(finding.id, draft(text))
    return finding.id


# ── the policy, as pure functions ───────────────────────────────────────────────────────────────────────


def test_the_default_chain_is_one_review_stage_of_the_required_approvals() -> None:
    policy = ApprovalPolicy.of(["U1", "U2"], required_approvals=2)
    assert policy.chain == (Stage("Review", frozenset(), 2),) and policy.total_approvals == 2
    assert not policy.staged
    assert THREE.total_approvals == 3 and THREE.staged
    assert ApprovalPolicy.of(stages=(Stage("A", required=2), Stage("B"))).total_approvals == 3


def test_stage_approvers_join_the_reviewers_for_the_offices_other_actions() -> None:
    assert THREE.reviewers == {"U_REVIEWER", LEAD, CHIEF, GROUP, PCC}
    assert THREE.is_reviewer(PCC)[0] and THREE.is_reviewer(GROUPIE, (GROUP,))[0]
    assert not THREE.is_reviewer("U_STRANGER")[0]


def test_approvals_fill_the_stages_in_order() -> None:
    chain = (Stage("A", required=2), Stage("B"))
    progress = stage_signatures(chain, ["U1", "U2", "U3"])
    assert [(s.name, [x.user for x in s.signers], s.signed) for s in progress] == [
        ("A", ["U1", "U2"], True),
        ("B", ["U3"], True),
    ]
    partial = stage_signatures(chain, [Signature("U1")])
    assert [s.signed for s in partial] == [False, False] and partial[1].signers == ()


def test_only_the_stage_being_signed_may_sign_and_the_refusal_names_it_and_who_can() -> None:
    assert THREE.can_approve(LEAD)[0]
    allowed, reason = THREE.can_approve(CHIEF)
    assert not allowed
    assert (
        name_people(reason) == "This answer waits for Policy lead to sign, which only U_LEAD can do; ask one of them."
    )
    # after the policy lead, a member of the chief executive's group may sign
    assert THREE.can_approve(GROUPIE, (GROUP,), signed=(LEAD,)) == (
        True,
        "You sign as Chief executive (in <person:S_EXEC>).",
    )
    assert not THREE.can_approve(PCC, signed=(LEAD,))[0]


def test_nobody_signs_two_stages() -> None:
    chain = (Stage("Policy lead", frozenset({LEAD})), Stage("Chief executive", frozenset({LEAD, CHIEF})))
    policy = ApprovalPolicy.of(stages=chain)
    allowed, reason = policy.can_approve(LEAD, signed=(LEAD,))
    assert not allowed and reason == "You signed as Policy lead; Chief executive must be someone else."


def test_four_eyes_holds_at_every_stage() -> None:
    policy = ApprovalPolicy.of(drafter_may_approve=False, stages=CHAIN)
    assert policy.can_approve(CHIEF, (), draft_author=CHIEF, signed=(LEAD,))[1].startswith("You wrote or requested")
    assert policy.can_approve(PCC, (), requester=PCC, signed=(LEAD, CHIEF))[1].startswith("You asked for this")


# ── through the store ───────────────────────────────────────────────────────────────────────────────────


def test_a_three_stage_chain_is_approved_only_when_the_last_stage_signs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE)
    finding_id = drafted(repo)
    first = repo.reviews.record(finding_id, LEAD, action="approve", expected_version=1)
    assert first.state_after is ReviewState.DRAFTED and first.approvers == (LEAD,)
    second = repo.reviews.record(finding_id, GROUPIE, (GROUP,), action="approve", expected_version=1)
    assert second.state_after is ReviewState.DRAFTED
    last = repo.reviews.record(finding_id, PCC, action="approve", expected_version=1)
    assert last.state_after is ReviewState.APPROVED and last.approvers == (LEAD, GROUPIE, PCC)
    assert repo.audit.events("finding", finding_id)[-1].after["approvers"] == [LEAD, GROUPIE, PCC]


def test_an_approver_out_of_turn_or_twice_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE)
    finding_id = drafted(repo)
    with pytest.raises(NotAllowed, match="waits for Policy lead to sign"):
        repo.reviews.record(finding_id, PCC, action="approve")
    repo.reviews.record(finding_id, LEAD, action="approve")
    with pytest.raises(NotAllowed, match="You signed as Policy lead; Chief executive must be someone else"):
        repo.reviews.record(finding_id, LEAD, action="approve")
    assert [r.reviewer for r in repo.reviews.of(finding_id)] == [LEAD]


def test_the_same_person_twice_on_one_stage_is_told_it_needs_someone_else(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(stages=(Stage("Panel", frozenset({"U1", "U2"}), 2), Stage("PCC"))))
    finding_id = drafted(repo)
    repo.reviews.record(finding_id, "U1", action="approve")
    with pytest.raises(IllegalTransition, match="already approved v1 as Panel; it needs 2 more approvals"):
        repo.reviews.record(finding_id, "U1", action="approve")


def test_an_edit_after_a_stage_signed_sends_it_back_to_the_first_stage(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE)
    finding_id = drafted(repo)
    repo.reviews.record(finding_id, LEAD, action="approve")
    repo.reviews.record(finding_id, CHIEF, action="approve")
    edited = repo.reviews.record(finding_id, CHIEF, action="edit", new_text="Shorter.", expected_version=1)
    assert edited.state_after is ReviewState.REDRAFTED and edited.approvers == ()
    with pytest.raises(NotAllowed, match="waits for Policy lead"):
        repo.reviews.record(finding_id, PCC, action="approve", expected_version=2)
    assert repo.reviews.record(finding_id, LEAD, action="approve", expected_version=2).approvers == (LEAD,)


def test_a_three_stage_chain_refuses_the_pack_until_the_last_stage_has_signed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, THREE, FakeClock())
    inspection = seed_inspection(repo, approve=(False, False, False))
    repo.inspections.set_comments(inspection.id, "U_LEAD", pcc="I welcome this report.", chief_constable="Agreed.")
    letter = PackLetter(pcc_name="Susan Dungworth")
    answers = repo.findings.of_inspection(inspection.id)
    for signer, groups in ((LEAD, ()), (GROUPIE, (GROUP,))):
        for finding in answers:
            repo.reviews.record(finding.id, signer, groups, action="approve")
        with pytest.raises(PackIncomplete) as refused:
            export_pack(repo, inspection.id, tmp_path / "out", letter)
        assert [m.label for m in refused.value.missing] == [f.label for f in answers]
        assert all("not approved" in m.reason for m in refused.value.missing)
    for finding in answers:
        repo.reviews.record(finding.id, PCC, action="approve")
    pack = build_pack(repo, inspection.id, letter)
    assert [a.text for a in pack.answers] == list(ANSWERS)
    assert pack.answers[0].approved_by == f"Policy lead: {LEAD}; Chief executive: {GROUPIE}; PCC: {PCC}"
    assert export_pack(repo, inspection.id, tmp_path / "out", letter).answers == 3
