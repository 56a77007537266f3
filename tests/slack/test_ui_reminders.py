"""Deadline reminders as worded for the thread: the deadline line, progress and what to do next."""

from __future__ import annotations

from datetime import date

from bot.slack.ui.reminders import reminder_message, reminder_text
from tests.support.store import LAST_DAY, PUBLISHED, K, add_inspection, at, findings, sweep_reminders
from tracker.repository import Repository


def test_messages_carry_the_deadline_line_and_progress(repo: Repository) -> None:
    inspection_id = add_inspection(repo)
    repo.findings.add(inspection_id, findings())
    (deadline,) = sweep_reminders(repo, at(date(2024, 1, 4)))
    assert reminder_text(deadline) == (
        "Reminder: the PCC's response to “Group-based CSE” is due. Last day 1 Feb 2024 — 56 days beginning "
        "with publication on 8 Dec 2023 (Police Act 1996 s.55(5A)); 28 days left. 0 of 3 answers approved."
    )
    (cc,) = sweep_reminders(repo, at(date(2024, 1, 5)))
    assert "chief constable's comments on “Group-based CSE” were requested by 5 Jan 2024 (s.55(4))" in reminder_text(cc)
    last_day = next(r for r in sweep_reminders(repo, at(LAST_DAY)) if r.kind is K.DEADLINE)
    assert reminder_text(last_day).startswith(":rotating_light: Last day today") and "due today" in reminder_text(
        last_day
    )
    (overdue,) = sweep_reminders(repo, at(date(2024, 2, 2)))
    assert "is overdue" in reminder_text(overdue) and f"`/hmicfrs done {inspection_id} published`" in reminder_text(
        overdue
    )
    (still,) = sweep_reminders(repo, at(date(2024, 2, 3)))
    assert reminder_text(still).startswith(":warning: Still overdue") and "overdue by 2 days" in reminder_text(still)


def test_a_reminder_after_an_outage_says_the_real_days_left(repo: Repository) -> None:
    add_inspection(repo)
    sweep_reminders(repo, at(date(2024, 1, 4)))
    back = sweep_reminders(repo, at(date(2024, 1, 27)))
    reminder = next(r for r in back if r.kind is K.DEADLINE)
    assert "5 days left" in reminder_text(reminder)


def test_the_reminder_blocks_escape_the_title_and_say_what_to_do(repo: Repository) -> None:
    inspection_id = repo.inspections.create("A <b> & c", PUBLISHED, "national thematic", "N", "C1", "U1").id
    (overdue,) = sweep_reminders(repo, at(date(2024, 2, 2)))
    payload = reminder_message(overdue)
    assert "A &lt;b&gt; &amp; c" in payload.blocks[0]["text"]["text"]
    assert f"/hmicfrs done {inspection_id} published" in payload.blocks[1]["elements"][0]["text"]
