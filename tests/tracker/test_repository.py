"""The repository API the bot and CLI call: typed views, state changes, and an audit row for each change."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest
from pydantic import BaseModel

from drafting.models import AnswerShape, Draft, GuardFinding, GuardKind, SourceRef
from retrieval.models import Addressee, Finding, FindingKind, InspectionType
from tests.support.store import FakeClock, draft, findings, make_repo
from tracker.deadlines import DeadlineStatus
from tracker.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotAllowed, NotFound
from tracker.pack_assembly import missing_answers
from tracker.repository import Repository
from tracker.review import ApprovalPolicy, ReviewAction, ReviewState
from tracker.views import NewDraft

REVIEWERS = ApprovalPolicy.of(["U_REV1", "U_REV2", "S_LEGAL"])


@pytest.fixture
def repo(tmp_path: Path, clock: FakeClock) -> Repository:
    return make_repo(tmp_path, REVIEWERS, clock)


def _inspection(repo: Repository, title: str = "Child sexual exploitation", published: date = date(2023, 12, 8)):
    return repo.inspections.create(title, published, InspectionType.NATIONAL_THEMATIC, "Northumbria", "C1", "U_ME")


def _unanswered(repo: Repository, inspection_id: int) -> list[int]:
    """Findings still lacking an approved answer (s.55(5B)), as the pack reads them."""
    return [missing.finding_id for missing in missing_answers(repo.findings.answers(inspection_id))]


def _drafted_finding(repo: Repository, requested_by: str = "U_ASK") -> int:
    finding = repo.findings.add_request(findings()[0], "C1", "111.222", requested_by)
    repo.drafts.add(finding.id, draft(), requested_by=requested_by)
    return finding.id


# ── inspections ──────────────────────────────────────────────────────────────────────────────────────────


def test_create_inspection_computes_every_date_and_audits(repo: Repository, clock: FakeClock) -> None:
    view = repo.inspections.create(
        "  JTAI early help  ",
        date(2023, 11, 7),
        "force-specific",
        "Northumbria",
        "C1",
        "U_ME",
        reminder_days=[7, 28, 7, 0],
    )
    assert view.title == "JTAI early help"
    assert view.inspection_type is InspectionType.FORCE_SPECIFIC
    assert (view.last_day, view.cc_comments_due) == (date(2024, 1, 1), date(2023, 12, 5))
    assert (view.first_drafts_due, view.reviews_complete_due) == (date(2023, 11, 28), date(2023, 12, 19))
    assert view.reminder_days == (28, 7, 0)
    assert view.status == "open" and view.created_at == clock.current
    assert [recipient.done for recipient in view.recipients] == [False, False]
    (event,) = repo.audit.events("inspection", view.id)
    assert (event.actor, event.action, event.before) == ("U_ME", "create", None)
    assert event.after is not None and event.after["last_day"] == "2024-01-01"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "  "}, "title is empty"),
        ({"inspection_type": "thematic-ish"}, "Unknown inspection type 'thematic-ish'"),
        ({"reminder_days": [28, 56]}, "0–55"),
        ({"reminder_days": []}, "at least one reminder offset"),
        ({"cc_days": 0}, "1–55 days after publication"),
    ],
)
def test_create_inspection_refuses_bad_input_and_stores_nothing(repo: Repository, kwargs: dict, message: str) -> None:
    args = {
        "title": "Title",
        "published": date(2023, 12, 8),
        "inspection_type": "PEEL",
        "force": "Northumbria",
        "channel": "C1",
        "actor": "U1",
    } | kwargs
    with pytest.raises(InvalidInput, match=message):
        repo.inspections.create(**args)
    assert repo.inspections.list_open(date(2023, 12, 8)) == []


def test_open_inspections_soonest_first_with_days_left_and_progress(repo: Repository) -> None:
    later = _inspection(repo, "Later", date(2024, 1, 10))
    sooner = _inspection(repo, "Sooner", date(2023, 12, 8))
    done = _inspection(repo, "Done", date(2023, 11, 7))
    for step in ("published", "sent-hmicfrs", "sent-home-office"):  # done only once sent to both recipients
        repo.inspections.mark_recipient(done.id, step, "U_ME")
    rows = repo.findings.add(sooner.id, findings())
    repo.drafts.add(rows[0].id, draft())
    repo.reviews.record(rows[0].id, "U_REV1", action="approve")
    listed = repo.inspections.list_open(date(2024, 1, 20))
    assert [item.inspection.title for item in listed] == ["Sooner", "Later"]
    first = listed[0]
    assert (first.days_left, first.status) == (12, DeadlineStatus.ON_TRACK)
    assert (first.inspection.findings_approved, first.inspection.findings_total) == (1, 3)
    assert first.deadline_line.endswith("; 12 days left")
    assert listed[1].inspection.id == later.id and listed[1].inspection.findings_total == 0


def test_mark_recipients_is_idempotent_and_audited(repo: Repository, clock: FakeClock) -> None:
    inspection = _inspection(repo)
    first_time = clock.current
    sent = repo.inspections.mark_recipient(inspection.id, "sent-hmicfrs", "U_ME")
    clock.advance(hours=2)
    again = repo.inspections.mark_recipient(inspection.id, "SENT-HMICFRS", "U_OTHER")
    assert sent.sent_hmicfrs_at == again.sent_hmicfrs_at == first_time
    assert [r.done for r in again.recipients] == [True, False]
    published = repo.inspections.mark_recipient(inspection.id, "published", "U_ME")
    assert published.status == "published" and published.published_at == clock.current
    assert published.deadline_status(date(2024, 5, 1)) is DeadlineStatus.DONE
    actions = [event.action for event in repo.audit.events("inspection", inspection.id)]
    assert actions == ["create", "mark_sent-hmicfrs", "mark_published"]
    with pytest.raises(InvalidInput, match="use one of published, sent-hmicfrs, sent-home-office"):
        repo.inspections.mark_recipient(inspection.id, "sent-pcc", "U_ME")


def test_thread_and_reminder_settings(repo: Repository) -> None:
    inspection = _inspection(repo)
    repo.inspections.set_thread(inspection.id, "C9", "999.1", "responder")
    assert repo.inspections.by_thread("C9", "999.1").id == inspection.id  # type: ignore[union-attr]
    assert repo.inspections.by_thread("C9", "nope") is None
    updated = repo.inspections.set_reminder_days(inspection.id, [1, 10, 3], "U_ME")
    assert updated.reminder_days == (10, 3, 1)
    before_after = repo.audit.events("inspection", inspection.id)[-1]
    assert before_after.before["reminder_days"] == [28, 14, 7, 3, 1, 0]  # type: ignore[index]
    assert before_after.after["reminder_days"] == [10, 3, 1]  # type: ignore[index]


def test_unknown_ids_are_clear(repo: Repository) -> None:
    with pytest.raises(NotFound, match="There is no inspection with id 42"):
        repo.inspections.get(42)
    with pytest.raises(NotFound, match="There is no finding with id 7"):
        repo.drafts.add(7, draft())


# ── findings ─────────────────────────────────────────────────────────────────────────────────────────────


def test_findings_keep_report_order_and_round_trip(repo: Repository) -> None:
    inspection = _inspection(repo)
    repo.inspections.set_thread(inspection.id, "C1", "500.1", "responder")
    first = repo.findings.add(inspection.id, findings()[:2])
    more = repo.findings.add(inspection.id, findings()[2:])
    assert [f.position for f in first + more] == [0, 1, 2]
    stored = repo.findings.of_inspection(inspection.id)
    assert [f.to_finding() for f in stored] == findings()
    assert stored[0].addressees == (Addressee.CHIEF_CONSTABLES,)
    assert stored[2].kind is FindingKind.AREA_FOR_IMPROVEMENT and stored[2].label == "Area for improvement"
    assert all(f.state is ReviewState.AWAITING_DRAFT and f.thread_ts == "500.1" for f in stored)
    assert [f.id for f in repo.findings.in_thread("C1", "500.1")] == [f.id for f in stored]


def test_one_off_request_has_no_inspection_and_is_found_by_thread_and_message(repo: Repository) -> None:
    request = repo.findings.add_request(Finding(text="Pasted recommendation"), "C2", "700.1", "U_ASK")
    assert request.inspection_id is None and request.requested_by == "U_ASK"
    assert [f.id for f in repo.findings.in_thread("C2", "700.1")] == [request.id]
    assert repo.findings.in_thread("C1", "700.1") == []
    before = repo.findings.get(request.id).version_id
    ref = repo.findings.set_message(request.id, "C2", "700.5")
    assert (ref.channel_id, ref.message_ts) == ("C2", "700.5")
    assert ref.version_id == before  # posting a message is not a review decision
    assert repo.findings.by_message("C2", "700.5").id == request.id  # type: ignore[union-attr]
    assert repo.findings.by_message("C2", "000") is None
    assert [e.action for e in repo.audit.events("finding", request.id)] == ["add", "set_message"]


# ── drafts ───────────────────────────────────────────────────────────────────────────────────────────────


def test_drafts_are_versioned_and_states_follow(repo: Repository) -> None:
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    assert repo.drafts.latest(finding.id) is None
    v1 = repo.drafts.add(finding.id, draft("First"), requested_by="U_ASK")
    assert (v1.version, repo.findings.get(finding.id).state) == (1, ReviewState.DRAFTED)
    v2 = repo.drafts.add(finding.id, draft("Shorter"), instruction="make it shorter", requested_by="U_ASK")
    assert (v2.version, v2.instruction, repo.findings.get(finding.id).state) == (
        2,
        "make it shorter",
        ReviewState.REDRAFTED,
    )
    assert [d.text for d in repo.drafts.all(finding.id)] == ["First", "Shorter"]
    assert repo.drafts.latest(finding.id) == v2
    assert repo.findings.get(finding.id).latest_version == 2
    drafts_audit = [e for e in repo.audit.events("finding", finding.id) if e.action == "draft"]
    assert [(e.before["version"], e.after["version"]) for e in drafts_audit] == [(0, 1), (1, 2)]  # type: ignore[index]


def test_add_draft_with_a_stale_expected_version_is_refused(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    with pytest.raises(ConcurrentChange, match="you saw v0; it is now v1"):
        repo.drafts.add(finding_id, draft("late"), expected_version=0)
    assert len(repo.drafts.all(finding_id)) == 1


def test_new_draft_from_the_drafting_engine_keeps_sources_and_guard(repo: Repository) -> None:
    engine_draft = Draft(
        finding=findings()[0],
        shape=AnswerShape.FORCE_POSITION,
        text="Northumbria Police has a problem profile [CONFIRM: date].",
        cited_ids=["c1"],
        sources=[SourceRef(ref="S1", chunk_id="c1", doc_id="003", force="Northumbria", published=date(2023, 12, 8))],
        placeholders=["[CONFIRM: date]"],
        rationale="Relies on the 2023 response.",
        guard=[GuardFinding(kind=GuardKind.UNSUPPORTED_FACT, detail="a date", replaced=True)],
        engine="local:qwen",
        notes=["retried once"],
    )
    finding = repo.findings.add_request(findings()[0], "C1", "1.1", "U_ASK")
    stored = repo.drafts.add(finding.id, NewDraft.from_draft(engine_draft), requested_by="U_ASK")
    assert stored.engine == "local:qwen" and stored.author == "responder"
    assert stored.sources[0]["chunk_id"] == "c1" and stored.sources[0]["published"] == "2023-12-08"
    assert stored.guard_findings[0]["kind"] == "unsupported fact"
    assert (stored.placeholders, stored.notes, stored.rationale) == (
        ["[CONFIRM: date]"],
        ["retried once"],
        "Relies on the 2023 response.",
    )


# ── reviews ──────────────────────────────────────────────────────────────────────────────────────────────


def test_approve_by_a_reviewer_updates_state_and_audit(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    outcome = repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=1)
    assert (outcome.state_before, outcome.state_after, outcome.state_changed) == (
        ReviewState.DRAFTED,
        ReviewState.APPROVED,
        True,
    )
    assert outcome.approvers == ("U_REV1",)
    assert outcome.finding.approved and outcome.draft.version == 1
    (review,) = repo.reviews.of(finding_id)
    assert (review.reviewer, review.action, review.draft_version) == ("U_REV1", ReviewAction.APPROVE, 1)
    event = repo.audit.events("finding", finding_id)[-1]
    assert (event.actor, event.action, event.before["state"], event.after["state"]) == (  # type: ignore[index]
        "U_REV1",
        "approve",
        "drafted",
        "approved",
    )


def test_approve_via_reviewer_group_membership(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    outcome = repo.reviews.record(finding_id, "U_LAWYER", groups=["S_LEGAL"], action=ReviewAction.APPROVE)
    assert outcome.state_after is ReviewState.APPROVED


def test_non_reviewer_is_refused_and_nothing_changes(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    audit_before = repo.audit.events("finding", finding_id)
    with pytest.raises(NotAllowed, match="Only the configured reviewers can approve answers"):
        repo.reviews.record(finding_id, "U_STRANGER", groups=["S_OTHER"], action="approve")
    assert repo.findings.get(finding_id).state is ReviewState.DRAFTED
    assert repo.reviews.of(finding_id) == []
    assert repo.audit.events("finding", finding_id) == audit_before


def test_approving_twice_names_who_and_when(repo: Repository, clock: FakeClock) -> None:
    finding_id = _drafted_finding(repo)
    repo.reviews.record(finding_id, "U_REV1", action="approve")
    with pytest.raises(IllegalTransition, match=r"already approved \(v1 by U_REV1 at 7 Nov 2023 09:30\); reopen"):
        repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=1)
    assert len(repo.reviews.of(finding_id)) == 1


def test_stale_version_approval_is_refused(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    repo.drafts.add(finding_id, draft("v2 text"))
    with pytest.raises(ConcurrentChange, match="you saw v1; it is now v2"):
        repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=1)
    assert repo.findings.get(finding_id).state is ReviewState.REDRAFTED


def test_request_changes_needs_a_comment_and_the_redraft_records_it(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    with pytest.raises(InvalidInput, match="Say what should change"):
        repo.reviews.record(finding_id, "U_ANYONE", action="request_changes", comment="   ")
    outcome = repo.reviews.record(
        finding_id, "U_ANYONE", action="request_changes", comment="Mention the MASH audit", expected_version=1
    )
    assert outcome.state_after is ReviewState.CHANGES_REQUESTED
    with pytest.raises(IllegalTransition, match="Changes were requested on v1 by U_ANYONE"):
        repo.reviews.record(finding_id, "U_REV1", action="approve")
    redraft = repo.drafts.add(finding_id, draft("With the MASH audit"), instruction="Mention the MASH audit")
    assert repo.findings.get(finding_id).state is ReviewState.REDRAFTED
    assert redraft.instruction == "Mention the MASH audit"
    assert repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=2).state_after is (
        ReviewState.APPROVED
    )


def test_edit_creates_a_version_by_the_editor(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    with pytest.raises(InvalidInput, match="edited answer is empty"):
        repo.reviews.record(finding_id, "U_ED", action="edit", new_text=" ", expected_version=1)
    outcome = repo.reviews.record(
        finding_id, "U_ED", action="edit", new_text="Edited [CONFIRM: owner]", comment="tone", expected_version=1
    )
    assert outcome.state_after is ReviewState.REDRAFTED and outcome.draft.version == 2
    edited = repo.drafts.latest(finding_id)
    assert edited is not None
    assert (edited.author, edited.engine, edited.placeholders, edited.instruction) == (
        "U_ED",
        "edit",
        ["[CONFIRM: owner]"],
        "tone",
    )
    assert edited.sources == repo.drafts.all(finding_id)[0].sources
    (review,) = repo.reviews.of(finding_id)
    assert (review.action, review.draft_version) == (ReviewAction.EDIT, 2)


def test_drafter_may_not_approve_own_version_when_configured(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_REV1", "U_REV2", "U_REV3"], drafter_may_approve=False))
    finding_id = _drafted_finding(repo, requested_by="U_REV1")
    with pytest.raises(NotAllowed, match="someone else must approve"):
        repo.reviews.record(finding_id, "U_REV1", action="approve")
    repo.reviews.record(finding_id, "U_REV2", action="edit", new_text="Better wording", expected_version=1)
    with pytest.raises(NotAllowed, match="someone else must approve"):
        repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=2)
    # Who asked for the finding never approves any version of it, not only the ones they asked for.
    with pytest.raises(NotAllowed, match="You asked for this answer"):
        repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=2)
    assert repo.reviews.record(finding_id, "U_REV3", action="approve", expected_version=2).finding.approved


def test_n_approvals_by_distinct_reviewers(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_REV1", "U_REV2", "U_REV3"], required_approvals=2))
    finding_id = _drafted_finding(repo)
    first = repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=1)
    assert first.state_after is ReviewState.DRAFTED and not first.state_changed
    with pytest.raises(IllegalTransition, match="You have already approved v1; it needs 1 more approval from"):
        repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=1)
    second = repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=1)
    assert second.state_after is ReviewState.APPROVED and second.approvers == ("U_REV1", "U_REV2")


def test_approvals_belong_to_the_version_they_were_given_on(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ApprovalPolicy.of(["U_REV1", "U_REV2"], required_approvals=2))
    finding_id = _drafted_finding(repo)
    repo.reviews.record(finding_id, "U_REV1", action="approve")
    repo.drafts.add(finding_id, draft("Regenerated"))  # v2 invalidates the v1 approval
    outcome = repo.reviews.record(finding_id, "U_REV2", action="approve", expected_version=2)
    assert outcome.state_after is ReviewState.REDRAFTED and outcome.approvers == ("U_REV2",)


def test_reopen_then_new_version_then_approve_again(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    repo.reviews.record(finding_id, "U_REV1", action="approve")
    with pytest.raises(IllegalTransition, match="reopen it first"):
        repo.drafts.add(finding_id, draft("Regenerate while approved"))
    with pytest.raises(NotAllowed, match="reopen an approved answer"):
        repo.reviews.record(finding_id, "U_STRANGER", action="reopen")
    reopened = repo.reviews.record(finding_id, "U_REV2", action="reopen", comment="new facts")
    assert reopened.state_after is ReviewState.REOPENED and reopened.approvers == ()
    repo.reviews.record(finding_id, "U_REV2", action="edit", new_text="Updated facts", expected_version=1)
    final = repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=2)
    assert final.state_after is ReviewState.APPROVED
    actions = [e.action for e in repo.audit.events("finding", finding_id)]
    assert actions == ["add", "draft", "approve", "reopen", "edit", "approve"]


def test_a_mistaken_reopen_is_undone_by_the_first_approver_approving_the_same_version(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    repo.reviews.record(finding_id, "U_REV1", action="approve")
    repo.reviews.record(finding_id, "U_REV2", action="reopen", comment="wrong answer, sorry")
    again = repo.reviews.record(finding_id, "U_REV1", action="approve", expected_version=1)
    assert again.state_after is ReviewState.APPROVED and again.draft.version == 1
    assert again.approvers == ("U_REV1",)  # the same person, in a new round: not refused as a double approval
    last = repo.audit.events("finding", finding_id)[-1]
    assert last.action == "approve" and last.after["undid_reopen"] is True
    with pytest.raises(IllegalTransition, match="already approved"):
        repo.reviews.record(finding_id, "U_REV1", action="approve")


def test_reviewer_actions_are_validated(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    with pytest.raises(InvalidInput, match="Unknown review action 'bless'"):
        repo.reviews.record(finding_id, "U_REV1", action="bless")
    with pytest.raises(InvalidInput, match="not a reviewer's action"):
        repo.reviews.record(finding_id, "U_REV1", action="draft")
    request = repo.findings.add_request(Finding(text="No draft yet"), "C1", "1.2", "U_ASK")
    with pytest.raises(IllegalTransition, match="no draft to review yet"):
        repo.reviews.record(request.id, "U_REV1", action="approve")


# ── completeness, events, views ──────────────────────────────────────────────────────────────────────────


def test_completeness_lists_findings_without_an_approved_answer(repo: Repository) -> None:
    inspection = _inspection(repo)
    rows = repo.findings.add(inspection.id, findings())
    for row in rows:
        repo.drafts.add(row.id, draft(f"Answer {row.position}"))
    assert _unanswered(repo, inspection.id) == [r.id for r in rows]
    repo.reviews.record(rows[0].id, "U_REV1", action="approve")
    repo.reviews.record(rows[2].id, "U_REV1", action="approve")
    assert _unanswered(repo, inspection.id) == [rows[1].id]
    answers = repo.findings.answers(inspection.id)
    assert [(a.approved, a.draft.text if a.draft else None) for a in answers] == [
        (True, "Answer 0"),
        (False, "Answer 1"),
        (True, "Answer 2"),
    ]
    repo.reviews.record(rows[1].id, "U_REV2", action="approve")
    assert _unanswered(repo, inspection.id) == []


def test_claim_event_is_true_once_per_key(repo: Repository, clock: FakeClock) -> None:
    assert repo.events.claim("Ev123:retry-key") is True
    assert repo.events.claim("Ev123:retry-key") is False
    assert repo.events.claim("Ev124") is True
    with pytest.raises(InvalidInput):
        repo.events.claim(" ")
    clock.advance(hours=2)
    assert repo.events.prune(clock.current) == 2
    assert repo.events.claim("Ev123:retry-key") is True


def test_views_are_detached_values_with_aware_utc_times(repo: Repository) -> None:
    finding_id = _drafted_finding(repo)
    finding, latest = repo.findings.get(finding_id), repo.drafts.latest(finding_id)
    for view in (finding, latest):
        assert isinstance(view, BaseModel)
        assert view.created_at.tzinfo is not None and view.created_at.utcoffset() == UTC.utcoffset(None)
    with pytest.raises(ValueError, match="frozen"):
        finding.text = "changed"  # type: ignore[misc]
