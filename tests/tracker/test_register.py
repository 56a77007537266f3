"""The recommendation register: items made when a response is marked published, their updates, and the export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from retrieval.models import Addressee, Finding
from tests.support.store import FakeClock, draft, make_repo
from tracker import schema
from tracker.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from tracker.register import EXPORT_COLUMNS, Rag, RegisterStatus, resolve_due
from tracker.repository import Repository
from tracker.review import ApprovalPolicy

PUBLISHED = date(2024, 3, 1)
REVIEWER = "U_REVIEWER"
FINDINGS = (
    Finding(number="1", text="By 31 December 2024, chief constables should publish a plan.", due="By 31 December 2024"),
    Finding(number="2", text="Within six months, the force should audit its cases.", due="Within six months"),
    Finding(number="3", text="Within 3 months, the force should train its staff.", due="within 3 months"),
    Finding(number="4", text="The Home Office should review funding.", addressees=(Addressee.HOME_OFFICE,)),
    Finding(number="5", text="The force should improve its audits."),
)


def published_inspection(repo: Repository, approved: int = 4) -> int:
    """An inspection of FINDINGS, each drafted, the first `approved` approved, then marked published."""
    inspection = repo.inspections.create("Vetting", PUBLISHED, "national thematic", "Northumbria", "C1", "U_LEAD")
    for position, finding in enumerate(repo.findings.add(inspection.id, list(FINDINGS))):
        repo.drafts.add(finding.id, draft(f"Answer {position + 1}: the force has a plan."))
        if position < approved:
            repo.reviews.record(finding.id, REVIEWER, action="approve")
    repo.inspections.mark_recipient(inspection.id, "published", "U_LEAD", require_findings=True)
    return inspection.id


def item_count(repo: Repository) -> int:
    with repo.sessions() as session:
        return session.scalar(select(func.count()).select_from(schema.RegisterItem)) or 0


def test_publishing_registers_each_approved_answer_with_its_due_date_resolved(repo: Repository) -> None:
    inspection_id = published_inspection(repo)
    items = repo.register.items(inspection_id=inspection_id)

    assert [item.finding_label for item in items] == [
        "Recommendation 1",
        "Recommendation 2",
        "Recommendation 3",
        "Recommendation 4",
    ]  # the unapproved fifth is not registered
    assert [item.due for item in items] == [date(2024, 12, 31), date(2024, 9, 1), date(2024, 6, 1), None]
    assert [item.answer_text for item in items][:2] == [
        "Answer 1: the force has a plan.",
        "Answer 2: the force has a plan.",
    ]
    assert all(item.status is RegisterStatus.OPEN and item.rag is None and item.owner is None for item in items)
    assert items[0].draft_version == 1 and items[1].due_text == "Within six months"
    assert items[0].last_update is not None and items[0].last_update.actor == "U_LEAD"
    events = repo.audit.events("register_item", items[0].id)
    assert [(event.action, event.actor) for event in events] == [("create", "U_LEAD")]


def test_registering_is_idempotent_and_adds_answers_approved_since(repo: Repository) -> None:
    inspection_id = published_inspection(repo, approved=2)
    assert item_count(repo) == 2

    repo.inspections.mark_recipient(inspection_id, "published", "U_LEAD")  # marked twice: nothing new
    assert repo.register.create_for(inspection_id, "U_LEAD") == []  # a retry: nothing new
    assert item_count(repo) == 2

    third = repo.findings.of_inspection(inspection_id)[2]
    repo.reviews.record(third.id, REVIEWER, action="approve")
    (added,) = repo.register.create_for(inspection_id, "U_LEAD")
    assert added.finding_id == third.id and item_count(repo) == 3


def test_an_unpublished_inspection_has_no_register(repo: Repository) -> None:
    inspection = repo.inspections.create("Vetting", PUBLISHED, "national thematic", "Northumbria", None, "U_LEAD")
    with pytest.raises(IllegalTransition, match="not marked published"):
        repo.register.create_for(inspection.id, "U_LEAD")
    with pytest.raises(NotFound):
        repo.register.get(999)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("By 31st December 2024.", PUBLISHED, date(2024, 12, 31)),
        ("no later than 1 May 2024", PUBLISHED, date(2024, 5, 1)),
        ("by the end of March 2025", PUBLISHED, date(2025, 3, 31)),
        ("by the end of 2025", PUBLISHED, date(2025, 12, 31)),
        ("Within six months of the publication of this report", date(2024, 8, 31), date(2025, 2, 28)),
        ("within twelve weeks", PUBLISHED, date(2024, 5, 24)),
        ("By March 2025", PUBLISHED, None),  # the start or the end of March? a person sets it
        ("Immediately", PUBLISHED, None),
        (None, PUBLISHED, None),
    ],
)
def test_due_text_resolves_only_when_it_names_a_day(text: str | None, published: date, expected: date | None) -> None:
    assert resolve_due(text, published) == expected


def test_an_update_changes_status_and_rag_and_is_in_history_and_audit(repo: Repository, clock: FakeClock) -> None:
    item = repo.register.items(inspection_id=published_inspection(repo))[0]
    clock.advance(days=30)
    updated = repo.register.update(
        item.id, "U_OWNER", status="in_progress", rag="Amber", note="Plan drafted.", evidence=["https://x.test/plan"]
    )

    assert (updated.status, updated.rag) == (RegisterStatus.IN_PROGRESS, Rag.AMBER)
    last = updated.last_update
    assert last is not None
    assert (last.actor, last.note, last.evidence, last.at) == (
        "U_OWNER",
        "Plan drafted.",
        ("https://x.test/plan",),
        clock(),
    )
    assert len(updated.history) == 2
    event = repo.audit.events("register_item", item.id)[-1]
    assert (event.action, event.actor) == ("update", "U_OWNER")
    assert event.before["status"] == "open" and event.after["status"] == "in_progress"
    assert event.after["rag"] == "amber" and event.after["evidence"] == ["https://x.test/plan"]


@pytest.mark.parametrize(
    ("status", "note", "error", "message"),
    [
        ("closed", "Done.", IllegalTransition, "cannot go to closed"),  # open cannot jump to closed
        ("in_progress", "   ", InvalidInput, "needs a note"),
        ("finished", "Done.", InvalidInput, "Unknown status 'finished'"),
    ],
)
def test_a_refused_update_stores_nothing(
    repo: Repository, status: str, note: str, error: type[Exception], message: str
) -> None:
    item = repo.register.items(inspection_id=published_inspection(repo))[0]
    with pytest.raises(error, match=message):
        repo.register.update(item.id, REVIEWER, status=status, note=note)
    after = repo.register.get(item.id)
    assert after.status is RegisterStatus.OPEN and len(after.history) == 1
    assert [event.action for event in repo.audit.events("register_item", item.id)] == ["create"]


def test_bad_rag_and_evidence_are_refused(repo: Repository) -> None:
    item = repo.register.items(inspection_id=published_inspection(repo))[0]
    with pytest.raises(InvalidInput, match="RAG rating"):
        repo.register.update(item.id, REVIEWER, rag="purple", note="x")
    with pytest.raises(InvalidInput, match="must be a link"):
        repo.register.update(item.id, REVIEWER, note="x", evidence=["see the folder"])
    assert len(repo.register.get(item.id).history) == 1


def test_closed_is_final_and_withdrawing_needs_a_reason(repo: Repository) -> None:
    first, second = repo.register.items(inspection_id=published_inspection(repo))[:2]
    repo.register.update(first.id, REVIEWER, status="implemented", note="Plan published.")
    closed = repo.register.update(first.id, REVIEWER, status="closed", rag="green", note="Evidence seen at scrutiny.")
    assert closed.status is RegisterStatus.CLOSED and closed.reason == "Evidence seen at scrutiny."
    with pytest.raises(IllegalTransition, match="closed is final"):
        repo.register.update(first.id, REVIEWER, status="in_progress", note="Reopen?")
    with pytest.raises(IllegalTransition, match="closed is final"):
        repo.register.assign(first.id, "U_OWNER", REVIEWER)

    superseded = repo.register.update(second.id, REVIEWER, status="superseded", note="Replaced by the 2025 plan.")
    assert superseded.reason == "Replaced by the 2025 plan."
    reopened = repo.register.update(second.id, REVIEWER, status="open", note="The 2025 plan was withdrawn.")
    assert reopened.status is RegisterStatus.OPEN and reopened.reason is None


def test_closing_needs_a_configured_reviewer(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, policy=ApprovalPolicy.of([REVIEWER]))
    item = repo.register.items(inspection_id=published_inspection(repo))[0]
    repo.register.update(item.id, "U_OWNER", status="awaiting_evidence", note="Sent the plan.")

    with pytest.raises(NotAllowed, match="Only the configured reviewers can close a register item"):
        repo.register.update(item.id, "U_OWNER", status="closed", note="All done.")
    with pytest.raises(NotAllowed, match="not accepted"):
        repo.register.update(item.id, "U_OWNER", status="not_accepted", note="We disagree.")
    assert repo.register.get(item.id).status is RegisterStatus.AWAITING_EVIDENCE

    assert repo.register.update(item.id, REVIEWER, status="closed", note="Seen.").status is RegisterStatus.CLOSED


def test_owner_due_date_and_the_filters(repo: Repository) -> None:
    items = repo.register.items(inspection_id=published_inspection(repo))
    repo.register.assign(items[0].id, "<@U_OWNER>", "U_LEAD")
    repo.register.set_due(items[3].id, date(2024, 4, 1), "U_LEAD")
    repo.register.update(items[2].id, "U_OWNER", status="implemented", note="Training delivered.")

    assert [item.id for item in repo.register.items(owner="U_OWNER")] == [items[0].id]
    assert repo.register.get(items[3].id).due == date(2024, 4, 1)
    assert [e.action for e in repo.audit.events("register_item", items[3].id)] == ["create", "set_due"]
    # 1 Oct 2024: item 2 (1 Sep) and the hand-set item 4 (1 Apr) are overdue; item 3 (1 Jun) is implemented.
    overdue = repo.register.items(overdue_on=date(2024, 10, 1))
    assert [item.id for item in overdue] == [items[1].id, items[3].id]
    assert all(item.overdue(date(2024, 10, 1)) for item in overdue)
    assert [item.id for item in repo.register.items(status="implemented")] == [items[2].id]
    with pytest.raises(InvalidInput, match="not a Slack user id"):
        repo.register.assign(items[0].id, "two words", "U_LEAD")


def test_export_rows_follow_the_columns(repo: Repository) -> None:
    items = repo.register.items(inspection_id=published_inspection(repo))
    repo.register.update(
        items[0].id, "U_OWNER", status="in_progress", rag="red", note="Late.", evidence=["https://a.test"]
    )
    rows = repo.register.export_rows()

    assert len(rows) == 4 and len(rows[0].values()) == len(EXPORT_COLUMNS)
    first = dict(zip(EXPORT_COLUMNS, rows[0].values(), strict=True))
    assert first["Due"] == date(2024, 12, 31) and first["Status"] == "in progress" and first["RAG"] == "red"
    assert first["Last note"] == "Late." and first["Evidence"] == "https://a.test"
    assert first["Finding"] == "Recommendation 1" and first["Inspection title"] == "Vetting"
    assert isinstance(first["Last update"], date) and isinstance(first["Created"], date)
