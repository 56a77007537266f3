"""Owner reminders on register items: once before the due date, once overdue, across restarts and instances;
and the history the scrutiny board is shown cannot be rewritten, in raw SQL either."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.store import FakeClock, make_repo
from tests.tracker.test_register import REVIEWER, published_inspection
from tracker.register import UpdateKind
from tracker.register_reminders import OwnerReminderKind, owner_slot
from tracker.repository import Repository

OWNER = "U_OWNER"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def item_id(repo: Repository) -> int:
    """Recommendation 1 of the published inspection (due 31 December 2024), owned by OWNER."""
    first = repo.register.items(inspection_id=published_inspection(repo))[0]
    repo.register.assign(first.id, OWNER, "U_LEAD")
    return first.id


def kinds(
    repo: Repository, now: datetime, instance: str = "a", sent: bool = True
) -> list[tuple[int, OwnerReminderKind, int]]:
    """Claim what is due; `sent`: and send it (marked posted), as the sweeper does when Slack accepts."""
    claimed = repo.register_reminders.claim_due(instance, now)
    for reminder in claimed if sent else ():
        repo.register_reminders.mark_posted(reminder.reminder_id, now)
    return [(r.item_id, r.kind, r.days) for r in claimed]


def test_the_owner_is_reminded_once_before_the_due_date_and_once_when_overdue(repo: Repository, item_id: int) -> None:
    assert kinds(repo, at(date(2024, 12, 16))) == []  # 15 days before: not yet
    (reminder,) = repo.register_reminders.claim_due("a", at(date(2024, 12, 17)))
    assert (reminder.item_id, reminder.kind, reminder.days, reminder.owner) == (
        item_id,
        OwnerReminderKind.DUE_SOON,
        14,
        OWNER,
    )
    assert reminder.finding_label == "Recommendation 1" and reminder.due == date(2024, 12, 31)
    repo.register_reminders.mark_posted(reminder.reminder_id)
    assert kinds(repo, at(date(2024, 12, 17), 15)) == []  # the same day again
    assert kinds(repo, at(date(2024, 12, 31))) == []  # the due day: still the same reminder, already sent
    overdue = kinds(repo, at(date(2025, 1, 1)))
    assert overdue == [(item_id, OwnerReminderKind.OVERDUE, -1)]
    assert kinds(repo, at(date(2025, 1, 2))) == [] and kinds(repo, at(date(2025, 3, 1))) == []


def test_reminders_sent_are_not_sent_again_after_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    first = make_repo(tmp_path, clock=clock)
    item = first.register.items(inspection_id=published_inspection(first))[0]
    first.register.assign(item.id, OWNER, "U_LEAD")
    (sent,) = first.register_reminders.claim_due("before-restart", at(date(2024, 12, 20)))
    first.register_reminders.mark_posted(sent.reminder_id)
    first.close()

    again = make_repo(tmp_path, clock=clock)  # a new process on the same database
    try:
        assert kinds(again, at(date(2024, 12, 21)), "after-restart") == []
        assert kinds(again, at(date(2025, 1, 1)), "after-restart") == [(item.id, OwnerReminderKind.OVERDUE, -1)]
    finally:
        again.close()


def test_two_instances_never_both_claim_one_reminder(repo: Repository, item_id: int) -> None:
    now = at(date(2024, 12, 20))
    assert len(kinds(repo, now, "a")) == 1
    assert kinds(repo, now, "b") == []


def test_a_failed_send_is_retried_and_an_abandoned_claim_is_taken_over(repo: Repository, item_id: int) -> None:
    (claimed,) = repo.register_reminders.claim_due("a", at(date(2024, 12, 20)))
    repo.register_reminders.release(claimed.reminder_id)  # posting failed
    assert kinds(repo, at(date(2024, 12, 20), 11), "b", sent=False) == [(item_id, OwnerReminderKind.DUE_SOON, 11)]
    # b died before sending: after the lease another instance takes it; before it, nobody does.
    assert kinds(repo, at(date(2024, 12, 20), 11) + timedelta(minutes=5), "c") == []
    assert len(kinds(repo, at(date(2024, 12, 20), 12), "c")) == 1


def test_nothing_is_sent_before_eight_in_the_morning_uk_time(repo: Repository, item_id: int) -> None:
    assert kinds(repo, datetime(2024, 12, 20, 7, 59, tzinfo=UTC)) == []
    assert len(kinds(repo, datetime(2024, 12, 20, 8, 0, tzinfo=UTC))) == 1


def test_a_new_due_date_gets_its_own_reminders(repo: Repository, item_id: int) -> None:
    assert len(kinds(repo, at(date(2024, 12, 20)))) == 1
    repo.register.set_due(item_id, date(2025, 3, 31), "U_LEAD")  # the force asked for more time
    assert kinds(repo, at(date(2025, 1, 1))) == []  # not overdue any more
    assert kinds(repo, at(date(2025, 3, 17))) == [(item_id, OwnerReminderKind.DUE_SOON, 14)]


def test_who_is_chased(repo: Repository, item_id: int) -> None:
    item = repo.register.get(item_id)
    soon, late = date(2024, 12, 20), date(2025, 1, 5)
    assert owner_slot(item, late, 14) is OwnerReminderKind.OVERDUE
    unowned = item.model_copy(update={"owner": None})
    assert owner_slot(unowned, soon, 14) is None and owner_slot(unowned, late, 14) is None
    # Reported implemented: the next step is the office's (evidence), not the owner's; but still due soon.
    implemented = repo.register.update(item_id, OWNER, status="implemented", note="Plan published in November.")
    assert owner_slot(implemented, late, 14) is None and owner_slot(implemented, soon, 14) is not None
    closed = repo.register.update(item_id, REVIEWER, status="closed", note="Evidence seen at the board.")
    assert owner_slot(closed, soon, 14) is None
    assert kinds(repo, at(late)) == []


def test_every_history_entry_says_what_made_it(repo: Repository, item_id: int) -> None:
    repo.register.set_due(item_id, date(2025, 1, 31), "U_LEAD")
    item = repo.register.update(item_id, OWNER, status="in_progress", rag="amber", note="Plan drafted.")
    assert [entry.kind for entry in item.history] == [
        UpdateKind.CREATE,
        UpdateKind.ASSIGN,
        UpdateKind.SET_DUE,
        UpdateKind.UPDATE,
    ]
    assert item.latest_position is not None and item.latest_position.note == "Plan drafted."
    assert [event.action for event in repo.audit.events("register_item", item_id)] == [
        "create",
        "assign",
        "set_due",
        "update",
    ]


@pytest.mark.parametrize(
    "statement", ["UPDATE register_updates SET note = 'rewritten'", "DELETE FROM register_updates"]
)
def test_the_history_is_append_only_in_the_database(repo: Repository, item_id: int, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), repo.sessions() as session:
        session.execute(text(statement))
    assert repo.register.get(item_id).history[0].note == "Published answer added to the register."
