"""Reminder slots fire exactly once: across repeated sweeps, two instances, restarts and outages.

The clock is injected everywhere (`now`), so a whole 56-day period is simulated without sleeping.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.store import LAST_DAY, PUBLISHED, K, add_inspection, at, db_url, make_repo, sweep_reminders
from tracker.reminders import ReminderSlot, ReminderToPost, due_reminders
from tracker.repository import Repository


@dataclass
class Subject:
    last_day: date = LAST_DAY
    cc_comments_due: date = date(2024, 1, 5)
    reminder_days: tuple[int, ...] = (28, 14, 7, 3, 1, 0)
    status: str = "open"


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# ── slots (pure) ─────────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 1, 3), []),
        (date(2024, 1, 4), [ReminderSlot(K.DEADLINE, date(2024, 1, 4), 28)]),
        (
            date(2024, 1, 5),
            [ReminderSlot(K.DEADLINE, date(2024, 1, 4), 28), ReminderSlot(K.CC_COMMENTS, date(2024, 1, 5), 27)],
        ),
        (
            date(2024, 1, 20),
            [ReminderSlot(K.DEADLINE, date(2024, 1, 18), 14), ReminderSlot(K.CC_COMMENTS, date(2024, 1, 5), 27)],
        ),
        (LAST_DAY, [ReminderSlot(K.DEADLINE, LAST_DAY, 0), ReminderSlot(K.CC_COMMENTS, date(2024, 1, 5), 27)]),
        (date(2024, 2, 2), [ReminderSlot(K.OVERDUE, date(2024, 2, 2), -1)]),
        (date(2024, 2, 9), [ReminderSlot(K.OVERDUE, date(2024, 2, 9), -8)]),
    ],
)
def test_due_slots_are_the_most_recent_of_each_kind(today: date, expected: list[ReminderSlot]) -> None:
    assert due_reminders(Subject(), today) == expected


def test_a_published_response_has_no_reminders() -> None:
    assert due_reminders(Subject(status="published"), date(2024, 2, 5)) == []


# ── claims ───────────────────────────────────────────────────────────────────────────────────────────────


def test_a_whole_period_swept_every_few_hours_fires_each_slot_once(repo: Repository) -> None:
    inspection_id = add_inspection(repo)
    fired: list[ReminderToPost] = []
    for day in _days(PUBLISHED, date(2024, 2, 4)):
        for hour, minute in ((9, 0), (9, 1), (15, 30), (23, 59)):
            fired += sweep_reminders(repo, at(day, hour, minute))
    deadline = [(r.due_on, r.offset_days) for r in fired if r.kind is K.DEADLINE]
    assert deadline == [(LAST_DAY - timedelta(days=n), n) for n in (28, 14, 7, 3, 1, 0)]
    assert [r.due_on for r in fired if r.kind is K.CC_COMMENTS] == [date(2024, 1, 5)]
    overdue = [r for r in fired if r.kind is K.OVERDUE]
    assert [(r.due_on, r.days_left, r.first_overdue) for r in overdue] == [
        (date(2024, 2, 2), -1, True),
        (date(2024, 2, 3), -2, False),
        (date(2024, 2, 4), -3, False),
    ]
    assert {r.inspection_id for r in fired} == {inspection_id}
    assert all(r.channel_id == "C1" for r in fired)


def test_two_instances_sweeping_at_the_same_moment_share_the_slots_without_doubles(tmp_path: Path) -> None:
    first = make_repo(tmp_path)
    second = Repository.connect(db_url(tmp_path))
    for published in (PUBLISHED, date(2023, 12, 20), date(2024, 1, 2)):
        add_inspection(first, published)
    fired: list[ReminderToPost] = []
    lock = threading.Lock()
    for day in _days(date(2024, 1, 1), date(2024, 3, 1)):
        barrier = threading.Barrier(4)

        def sweep(repo: Repository, name: str, day: date = day, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            claimed = sweep_reminders(repo, at(day), name)
            with lock:
                fired.extend(claimed)

        threads = [
            threading.Thread(target=sweep, args=(repo, f"{name}-{n}"))
            for n in range(2)
            for repo, name in ((first, "a"), (second, "b"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    keys = Counter((r.inspection_id, r.kind, r.due_on) for r in fired)
    assert keys and max(keys.values()) == 1
    per_inspection = Counter((r.inspection_id, r.kind) for r in fired)
    assert all(per_inspection[(i, K.DEADLINE)] == 6 for i in (1, 2, 3))
    assert all(per_inspection[(i, K.CC_COMMENTS)] == 1 for i in (1, 2, 3))


def test_a_restart_on_the_same_file_does_not_repeat(tmp_path: Path) -> None:
    before = make_repo(tmp_path)
    add_inspection(before)
    (claimed,) = sweep_reminders(before, at(date(2024, 1, 4)), post=False)  # claimed; posting in progress
    after = Repository.connect(db_url(tmp_path))  # new engine, new process, same database
    assert sweep_reminders(after, at(date(2024, 1, 4), 9, 5), "bot-restarted") == []
    before.reminders.mark_posted(claimed.reminder_id, at(date(2024, 1, 4), 9, 1))
    assert [r.kind for r in sweep_reminders(after, at(date(2024, 1, 5)), "bot-restarted")] == [K.CC_COMMENTS]


def test_slots_missed_during_an_outage_post_only_the_latest(repo: Repository) -> None:
    add_inspection(repo)
    assert [r.offset_days for r in sweep_reminders(repo, at(date(2024, 1, 4)))] == [28]
    # Down from 5 to 26 January: the 14-day slot (18 Jan) and the 7-day slot (25 Jan) were missed.
    back = sweep_reminders(repo, at(date(2024, 1, 27)))
    assert sorted((r.kind, r.offset_days) for r in back) == [(K.CC_COMMENTS, 27), (K.DEADLINE, 7)]
    reminder = next(r for r in back if r.kind is K.DEADLINE)
    assert reminder.days_left == 5  # worded with the real days left (tests/slack/test_ui_reminders.py)
    later = [r for day in _days(date(2024, 1, 27), LAST_DAY) for r in sweep_reminders(repo, at(day))]
    assert [r.offset_days for r in later] == [3, 1, 0]  # the 14-day slot never fires late


def test_nothing_before_eight_in_the_morning_uk_time(repo: Repository) -> None:
    add_inspection(repo, date(2024, 6, 4))  # last day 29 Jul 2024; the 28-day slot is 1 Jul, in BST
    assert sweep_reminders(repo, datetime(2024, 7, 1, 6, 59, tzinfo=UTC)) == []  # 07:59 BST
    assert [r.offset_days for r in sweep_reminders(repo, datetime(2024, 7, 1, 7, 0, tzinfo=UTC))] == [28]  # 08:00 BST


def test_an_abandoned_claim_is_retaken_after_the_lease_but_a_posted_one_never(repo: Repository) -> None:
    add_inspection(repo)
    day = date(2024, 1, 4)
    (claimed,) = sweep_reminders(repo, at(day), "bot-a", post=False)  # bot-a dies before posting
    assert sweep_reminders(repo, at(day, 9, 5), "bot-b", post=False) == []
    (retaken,) = sweep_reminders(repo, at(day, 9, 11), "bot-b")  # lease (10 min) expired: bot-b posts it
    assert retaken.reminder_id == claimed.reminder_id
    assert sweep_reminders(repo, at(day, 12), "bot-c") == []


def test_a_released_claim_is_offered_again_at_once(repo: Repository) -> None:
    add_inspection(repo)
    (claimed,) = sweep_reminders(repo, at(date(2024, 1, 4)), post=False)
    repo.reminders.release(claimed.reminder_id)  # posting to Slack failed
    (again,) = sweep_reminders(repo, at(date(2024, 1, 4), 9, 1), "bot-b")
    assert again.reminder_id == claimed.reminder_id


def test_published_inspections_stop_reminding(repo: Repository) -> None:
    inspection_id = add_inspection(repo)
    assert len(sweep_reminders(repo, at(date(2024, 1, 4)))) == 1
    repo.inspections.mark_recipient(inspection_id, "published", "U1")
    assert sweep_reminders(repo, at(date(2024, 1, 18))) == []
    assert sweep_reminders(repo, at(date(2024, 2, 10))) == []


def test_changed_offsets_take_effect(repo: Repository) -> None:
    inspection_id = add_inspection(repo, reminder_days=[28])
    repo.inspections.set_reminder_days(inspection_id, [10], "U1")
    assert sweep_reminders(repo, at(date(2024, 1, 4))) == []
    fired = sweep_reminders(repo, at(date(2024, 1, 22)))
    assert [r.due_on for r in fired if r.kind is K.DEADLINE] == [date(2024, 1, 22)]


def test_an_inspection_added_late_gets_its_latest_slot_once(repo: Repository) -> None:
    add_inspection(repo, date(2023, 11, 7))  # last day 1 Jan 2024, added on 20 Dec
    first = sweep_reminders(repo, at(date(2023, 12, 20)))
    assert sorted((r.kind, r.offset_days, r.days_left) for r in first) == [
        (K.CC_COMMENTS, 27, 12),
        (K.DEADLINE, 14, 12),
    ]
    assert sweep_reminders(repo, at(date(2023, 12, 21))) == []


def test_the_clock_must_be_timezone_aware(repo: Repository) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        repo.reminders.claim_due("bot-a", datetime(2024, 1, 4, 9))
