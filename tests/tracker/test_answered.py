"""Findings already answered: a repeated recommendation names the earlier approved answer, and Reuse copies it in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retrieval.models import Classification, Finding, InspectionType
from tests.support.store import FakeClock, draft, make_repo
from tracker.answered import THRESHOLD, differences, similarity
from tracker.errors import IllegalTransition, InvalidInput, NotAllowed
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewState

NATIONAL = (
    "By 31 December 2024, all chief constables should make sure that their forces have problem profiles for child "
    "sexual exploitation that are updated at least every year."
)
ANSWER = "The force has a problem profile for child sexual exploitation, refreshed every quarter since March 2024."
SOURCES = [{"ref": "S1", "chunk_id": "c1", "force": "Northumbria"}]
PLAN = {"asks": [], "context": []}


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (NATIONAL, True),  # verbatim, as a force-specific report repeats it
        (NATIONAL.replace("By 31 December 2024", "By 30 June 2026"), True),  # re-issued with a new date
        (NATIONAL.replace("every year", "every six months"), True),  # a word or two changed
        (
            "Within six months, the force should make sure that it has problem profiles for child sexual "
            "exploitation that are updated at least every year.",
            True,
        ),  # the national wording turned force-specific
        (
            "By 31 December 2024, all chief constables should make sure that their forces record the ethnicity of "
            "victims and suspects of child sexual exploitation accurately.",
            False,
        ),  # another recommendation on the same topic
        ("The force should improve how it supervises missing children investigations.", False),
    ],
)
def test_near_duplicates_match_and_other_recommendations_do_not(other: str, same: bool) -> None:
    assert (similarity(NATIONAL, other) >= THRESHOLD) is same, similarity(NATIONAL, other)


STALKING = (
    "By 31 March 2025, chief constables should make sure that victims of domestic abuse are referred to a "
    "specialist advocate within 24 hours of reporting."
)


@pytest.mark.parametrize(
    ("earlier", "later", "same"),
    [
        # The 2019 reports' "We recommend that …" opening, dropped when the recommendation is issued again.
        (
            "We recommend that, by 31 December 2024, chief constables make sure that their forces have problem "
            "profiles for child sexual exploitation that are updated at least every year.",
            NATIONAL,
            True,
        ),
        (NATIONAL.replace("By 31 December 2024", "With immediate effect"), NATIONAL, True),
        # One matter swapped for another in a long sentence: a different recommendation (found by the bench).
        (STALKING, STALKING.replace("victims of domestic abuse", "victims of stalking"), False),
        (
            "By 31 March 2025, chief constables should make sure that children who go missing repeatedly are "
            "referred to a multi-agency panel within a week.",
            "By 31 March 2025, chief constables should make sure that children who are arrested repeatedly are "
            "referred to a multi-agency panel within a week.",
            False,
        ),
    ],
)
def test_openings_and_timescales_are_read_past_and_another_matter_is_never_the_same(
    earlier: str, later: str, same: bool
) -> None:
    assert (similarity(earlier, later) >= THRESHOLD) is same, similarity(earlier, later)


def test_the_card_is_told_where_two_near_duplicates_differ() -> None:
    changed = NATIONAL.replace("every year", "every six months")
    assert differences(changed, NATIONAL) == (("six months", "year"),)
    assert differences(NATIONAL.replace("By 31 December 2024", "By 30 June 2026"), NATIONAL) == ()


def test_short_findings_on_the_same_subject_are_not_the_same() -> None:
    a = "The force should improve how it supervises missing children investigations."
    assert similarity(a, a.replace("missing children", "domestic abuse")) < THRESHOLD


def _inspection(repo: Repository, title: str, kind: InspectionType, text: str, channel: str = "C1") -> int:
    inspection = repo.inspections.create(title, date(2023, 12, 8), kind, "Northumbria", channel, "U_LEAD")
    (finding,) = repo.findings.add(inspection.id, [Finding(number="1", text=text)])
    return finding.id


def answered_before(tmp_path: Path, policy: ApprovalPolicy | None = None) -> tuple[Repository, int, int]:
    """A national report's recommendation answered and approved; a force report repeating it, drafted."""
    repo = make_repo(tmp_path, policy, FakeClock())
    earlier = _inspection(repo, "Group-based CSE", InspectionType.NATIONAL_THEMATIC, NATIONAL)
    repo.drafts.add(earlier, draft(ANSWER, sources=SOURCES, plan=PLAN))
    repo.reviews.record(earlier, "U_REV", action="approve")
    repo.findings.set_message(earlier, "C1", "111.222")
    repeated = NATIONAL.replace("all chief constables should make sure that their forces have", "the force should have")
    later = _inspection(repo, "Northumbria CSE inspection", InspectionType.FORCE_SPECIFIC, repeated)
    repo.drafts.add(later, draft("A first draft that says less."))
    return repo, earlier, later


def test_a_repeated_recommendation_names_the_earlier_approved_answer(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path)
    inspection_id = repo.findings.get(earlier).inspection_id
    assert inspection_id is not None
    repo.inspections.mark_recipient(inspection_id, "published", "U_LEAD")  # the answer joins the register
    (found,) = repo.answered.of(later)
    assert (found.finding_id, found.label, found.inspection_title) == (earlier, "Recommendation 1", "Group-based CSE")
    assert (found.version, found.text, found.approvers) == (1, ANSWER, ("U_REV",))
    assert found.inspection_type is InspectionType.NATIONAL_THEMATIC and found.force_specific_note
    assert found.register_item_id == repo.register.items(inspection_id=inspection_id)[0].id
    assert (found.channel_id, found.message_ts) == ("C1", "111.222") and found.approved_at is not None
    assert found.similarity >= THRESHOLD
    # the earlier one is not "already answered" by the later, unapproved one; nor by itself
    assert repo.answered.of(earlier) == []


def test_only_approved_answers_of_other_inspections_count(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path)
    repo.reviews.record(earlier, "U_REV", action="reopen")
    assert repo.answered.of(later) == []


def test_reuse_copies_the_approved_answer_in_as_a_new_version_still_needing_approval(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path, ApprovalPolicy.of(drafter_may_approve=False))
    outcome = repo.reviews.record(later, "U_EDITOR", action="edit", expected_version=1, reuse_of=earlier)
    assert outcome.state_after is ReviewState.REDRAFTED and outcome.draft.version == 2
    new = repo.drafts.latest(later)
    assert new is not None and new.text == ANSWER and new.author == "U_EDITOR"
    assert new.sources == SOURCES and new.plan == PLAN and new.marking is Classification.OFFICIAL
    said = "Reused the approved answer to Recommendation 1 of Group-based CSE (v1)."
    assert new.notes == [said] and new.instruction is None
    audit = repo.audit.events("finding", later)[-1]
    assert audit.action == "edit" and audit.after["reused_from"] == {"finding_id": earlier, "version": 1}
    assert audit.after["comment"] == said
    # the normal rules: whoever reused it wrote this version, so (four eyes) someone else approves it
    with pytest.raises(NotAllowed, match="someone else must approve"):
        repo.reviews.record(later, "U_EDITOR", action="approve", expected_version=2)
    assert repo.reviews.record(later, "U_REV", action="approve", expected_version=2).finding.approved


def test_reuse_is_refused_once_the_earlier_answer_is_not_approved(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path)
    repo.reviews.record(earlier, "U_REV", action="reopen")
    with pytest.raises(InvalidInput, match="no longer approved \\(it is reopened\\)"):
        repo.reviews.record(later, "U_EDITOR", action="edit", reuse_of=earlier)
    assert repo.drafts.latest(later).version == 1  # type: ignore[union-attr]


def test_reuse_is_refused_on_an_approved_answer_and_with_a_placeholder_left(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path)
    with pytest.raises(InvalidInput, match="cannot reuse itself"):
        repo.reviews.record(earlier, "U_EDITOR", action="edit", reuse_of=earlier)
    with pytest.raises(InvalidInput, match="goes with edit"):
        repo.reviews.record(later, "U_EDITOR", action="approve", reuse_of=earlier)
    repo.reviews.record(later, "U_REV", action="approve")
    with pytest.raises(IllegalTransition, match="already approved"):
        repo.reviews.record(later, "U_EDITOR", action="edit", reuse_of=earlier)


def test_an_earlier_answer_marked_above_this_one_is_not_copied_in(tmp_path: Path) -> None:
    repo, earlier, later = answered_before(tmp_path)
    repo.reviews.record(earlier, "U_REV", action="reopen")
    marked = draft(ANSWER, marking=Classification.OFFICIAL_SENSITIVE)
    repo.drafts.add(earlier, marked)
    repo.reviews.record(earlier, "U_REV", action="approve")
    with pytest.raises(InvalidInput, match="marked OFFICIAL-SENSITIVE, above this answer's OFFICIAL"):
        repo.reviews.record(later, "U_EDITOR", action="edit", reuse_of=earlier)
