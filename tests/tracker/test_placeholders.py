"""Nothing unconfirmed is final: a `[CONFIRM: …]` blocks approval, the pack and the learning loop, and a
reviewer can vouch for one as written (audited), or undo a mistaken Reopen."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from drafting.pack import Pack, PackAnswer, PackHeader, PackIncomplete, require_complete
from retrieval.models import Finding
from tests.support.inspections import REVIEWER, seed_inspection
from tests.support.store import draft, findings, make_repo
from tracker import schema
from tracker.errors import InvalidInput, NotAllowed
from tracker.learning import published_document
from tracker.pack_assembly import PackLetter, build_pack, export_pack
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewState, Unconfirmed, without_marker

TWO_GAPS = (
    "In March 2023 the force reported that its problem profile is refreshed quarterly "
    "[CONFIRM: still the current position?]. [CONFIRM: the owner of the refresh and its next date]"
)
STILL = "[CONFIRM: still the current position?]"
OWNER = "[CONFIRM: the owner of the refresh and its next date]"
CC = "The Chief Constable has provided a position statement against each recommendation."


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return make_repo(tmp_path, ApprovalPolicy.of(["U_REV1", "U_REV2"]))


def _with_gaps(repo: Repository) -> int:
    finding = repo.findings.add_request(findings()[0], "C1", "111.222", "U_ASK")
    repo.drafts.add(finding.id, draft(TWO_GAPS), requested_by="U_ASK")
    return finding.id


def test_approval_is_refused_while_the_text_holds_a_placeholder_and_says_which(repo: Repository) -> None:
    finding_id = _with_gaps(repo)
    with pytest.raises(Unconfirmed) as refused:
        repo.reviews.record(finding_id, "U_REV1", action="approve")
    assert refused.value.markers == (STILL, OWNER)
    assert "v1 still holds 2 placeholders" in str(refused.value) and "Confirm as written" in str(refused.value)
    assert repo.findings.get(finding_id).state is ReviewState.DRAFTED
    assert repo.reviews.of(finding_id) == []  # nothing stored
    assert [e.action for e in repo.audit.events("finding", finding_id)] == ["add", "draft"]


def test_confirming_as_written_makes_a_version_without_the_marker_and_audits_the_note(repo: Repository) -> None:
    finding_id = _with_gaps(repo)
    outcome = repo.reviews.record(
        finding_id, "U_REV1", action="confirm", marker=STILL, comment="Checked with the CSE lead, 2 Dec"
    )
    assert outcome.draft.version == 2 and outcome.state_after is ReviewState.REDRAFTED
    assert STILL not in outcome.draft.text and OWNER in outcome.draft.text
    assert "refreshed quarterly. [CONFIRM: the owner" in outcome.draft.text  # the spacing tidied, words kept
    assert outcome.draft.placeholders == [OWNER]
    event = repo.audit.events("finding", finding_id)[-1]
    assert event.action == "confirm" and event.actor == "U_REV1"
    assert event.after["confirmed"] == STILL and event.after["comment"] == "Checked with the CSE lead, 2 Dec"
    with pytest.raises(Unconfirmed, match="1 placeholder to confirm"):
        repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=2)
    repo.reviews.record(finding_id, "U_REV1", action="confirm", marker=OWNER, comment="Owner is DCI Smith")
    approved = repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=3)
    assert approved.state_after is ReviewState.APPROVED and "[CONFIRM" not in approved.draft.text


def test_a_confirmation_needs_a_reviewer_a_note_and_a_marker_in_the_text(repo: Repository) -> None:
    finding_id = _with_gaps(repo)
    with pytest.raises(NotAllowed, match="confirm a placeholder"):
        repo.reviews.record(finding_id, "U_STRANGER", action="confirm", marker=STILL, comment="fine")
    with pytest.raises(InvalidInput, match="audit log"):
        repo.reviews.record(finding_id, "U_REV1", action="confirm", marker=STILL, comment="  ")
    with pytest.raises(InvalidInput, match="not in the latest text"):
        repo.reviews.record(finding_id, "U_REV1", action="confirm", marker="[CONFIRM: made up]", comment="x")
    assert repo.drafts.latest(finding_id).version == 1


def test_a_placeholder_that_is_the_whole_answer_cannot_be_confirmed_as_written(repo: Repository) -> None:
    finding = repo.findings.add_request(findings()[0], "C1", "111.333", "U_ASK")
    repo.drafts.add(finding.id, draft(f"{OWNER}."), requested_by="U_ASK")
    with pytest.raises(InvalidInput, match=r"no words of its own to confirm\. Use Edit"):
        repo.reviews.record(finding.id, "U_REV1", action="confirm", marker=OWNER, comment="nothing to add")
    assert repo.drafts.latest(finding.id).version == 1


def test_an_edit_that_removes_the_placeholders_can_be_approved(repo: Repository) -> None:
    finding_id = _with_gaps(repo)
    repo.reviews.record(
        finding_id, "U_REV1", action="edit", new_text="The profile is refreshed quarterly by DCI Smith."
    )
    assert repo.reviews.record(finding_id, "U_REV2", action="approve").state_after is ReviewState.APPROVED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Refreshed in 2023 [CONFIRM: still current?].", "Refreshed in 2023."),
        ("[CONFIRM: still current?] The lead is named.", "The lead is named."),
        ("A, [CONFIRM: still current?], B.", "A, B."),
        ("Line one [CONFIRM: still current?]\n\nLine two.", "Line one\n\nLine two."),
    ],
)
def test_without_marker_keeps_the_words_and_tidies_the_spacing(text: str, expected: str) -> None:
    assert without_marker(text, "[CONFIRM: still current?]") == expected


def test_a_final_pack_refuses_placeholders_a_missing_pcc_name_and_missing_cc_comments() -> None:
    answer = PackAnswer(finding=Finding(number="1", text="Do X."), text=f"Done {STILL}", approved=True)
    pack = Pack(header=PackHeader(inspection_title="T"), force="Northumbria", answers=[answer])
    with pytest.raises(PackIncomplete) as refused:
        require_complete(pack)
    assert refused.value.missing[0].reason == f"approved text still holds {STILL}"
    assert any("PCC's name" in p for p in refused.value.problems)
    assert any("chief constable's comments" in p for p in refused.value.problems)
    waived = pack.model_copy(
        update={
            "answers": [answer.model_copy(update={"text": "Done."})],
            "pcc_name": "Susan Dungworth",
            "pcc_comments": "I welcome the report.",
            "chief_constable_waiver": "comments to follow",
        }
    )
    require_complete(waived)  # nothing left to refuse
    require_complete(pack.model_copy(update={"watermark": True}))  # a working copy is never refused


def _legacy_approved_with_placeholder(repo: Repository, finding_id: int) -> None:
    """An answer approved before this release, whose text still holds a placeholder."""
    with repo.store.transaction() as session:
        session.execute(
            update(schema.Draft).where(schema.Draft.finding_id == finding_id).values(text=f"Approved once {STILL}")
        )


def test_the_store_pack_names_an_approved_answer_that_still_holds_a_placeholder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    repo.inspections.set_comments(inspection.id, "U_LEAD", pcc="I welcome the report.", chief_constable=CC)
    letter = PackLetter(pcc_name="Susan Dungworth")
    build_pack(repo, inspection.id, letter)  # complete
    first = repo.findings.of_inspection(inspection.id)[0]
    _legacy_approved_with_placeholder(repo, first.id)
    with pytest.raises(PackIncomplete) as refused:
        build_pack(repo, inspection.id, letter)
    assert [m.label for m in refused.value.missing] == ["Recommendation 1"]
    assert refused.value.missing[0].reason == f"v1 approved text still holds {STILL}"


def test_a_waiver_of_the_cc_comments_is_needed_and_audited_with_its_reason(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo)
    with pytest.raises(PackIncomplete, match="PCC's opening comments"):
        export_pack(repo, inspection.id, tmp_path / "out", PackLetter(pcc_name="Susan Dungworth"))
    repo.inspections.set_comments(inspection.id, "U_LEAD", pcc="I welcome the report.")
    with pytest.raises(PackIncomplete, match="chief constable's comments are not recorded"):
        export_pack(repo, inspection.id, tmp_path / "out", PackLetter(pcc_name="Susan Dungworth"))
    with pytest.raises(PackIncomplete, match="PCC's name"):
        export_pack(repo, inspection.id, tmp_path / "out", PackLetter(cc_waiver="to follow"))
    letter = PackLetter(pcc_name="Susan Dungworth", cc_waiver="comments to follow under separate cover")
    exported = export_pack(repo, inspection.id, tmp_path / "out", letter, actor="U_LEAD")
    text = exported.markdown.read_text(encoding="utf-8")
    assert "[CONFIRM" not in text and "Susan Dungworth" in text
    # the letter says so, rather than claim a position statement it does not have
    assert "The Chief Constable's comments are not included: comments to follow under separate cover." in text
    assert "has provided me with a position statement" not in text
    event = repo.audit.events("inspection", inspection.id)[-1]
    assert event.action == "pack_exported" and event.actor == "U_LEAD"
    assert event.after["cc_waiver"] == "comments to follow under separate cover"


def test_only_placeholder_free_approved_answers_become_precedents(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    inspection = seed_inspection(repo, approve=(True, True, False))
    first = repo.findings.of_inspection(inspection.id)[0]
    _legacy_approved_with_placeholder(repo, first.id)
    repo.inspections.mark_recipient(inspection.id, "published", REVIEWER)
    labels = [p.finding.label for p in published_document(repo, inspection.id).precedents]
    assert labels == ["Recommendation 2"]  # 1 holds a placeholder, 3 is not approved
