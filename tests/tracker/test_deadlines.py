"""The 56-day duty (s.55(5A)): publication day is day 1, so the last day is published + 55."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tracker.deadlines import (
    DeadlineStatus,
    Recipient,
    cc_comments_due,
    days_remaining,
    deadline_rule_line,
    deadline_status,
    describe_days_left,
    explain_cc_comments,
    explain_deadline,
    explain_written_deadline,
    milestones,
    recipients,
    statutory_last_day,
)
from tracker.errors import InvalidInput


@pytest.mark.parametrize(
    ("published", "last_day"),
    [
        (date(2023, 11, 7), date(2024, 1, 1)),  # seed 000 (its table says 2 Jan: published + 56)
        (date(2023, 12, 8), date(2024, 2, 1)),  # seed 003 (its table says 2 Feb)
        (date(2020, 2, 27), date(2020, 4, 22)),  # seed 001 / 004, a leap year
        (date(2024, 1, 5), date(2024, 2, 29)),  # lands on a leap day
        (date(2024, 1, 6), date(2024, 3, 1)),  # the day after the leap day
        (date(2023, 1, 6), date(2023, 3, 2)),  # the same dates in a common year
        (date(2024, 3, 1), date(2024, 4, 25)),  # DESIGN.md's example: 1 March → 25 April
        (date(2023, 11, 8), date(2024, 1, 2)),  # crosses the year end
        (date(2023, 12, 31), date(2024, 2, 24)),
        (date(2024, 11, 30), date(2025, 1, 24)),
        (date(2024, 4, 30), date(2024, 6, 24)),  # month end to month end
    ],
)
def test_statutory_last_day_pinned(published: date, last_day: date) -> None:
    assert statutory_last_day(published) == last_day


def test_the_period_counts_56_days_including_publication_day_every_day_of_a_leap_year() -> None:
    day = date(2024, 1, 1)
    while day.year == 2024:
        last = statutory_last_day(day)
        counted = [day + timedelta(days=n) for n in range((last - day).days + 1)]
        assert len(counted) == 56 and counted[0] == day and counted[-1] == last
        day += timedelta(days=1)


def test_explanation_line_matches_the_product_wording() -> None:
    line = explain_deadline(date(2023, 12, 8), today=date(2024, 1, 20))
    assert line == (
        "Last day 1 Feb 2024 — 56 days beginning with publication on 8 Dec 2023 "
        "(Police Act 1996 s.55(5A)); 12 days left"
    )
    assert explain_deadline(date(2023, 12, 8)).endswith("(Police Act 1996 s.55(5A))")


@pytest.mark.parametrize(
    ("today", "tail"),
    [
        (date(2024, 1, 31), "; 1 day left"),
        (date(2024, 2, 1), "; due today"),
        (date(2024, 2, 2), "; overdue by 1 day"),
        (date(2024, 2, 5), "; overdue by 4 days"),
    ],
)
def test_explanation_days_left_wording(today: date, tail: str) -> None:
    assert explain_deadline(date(2023, 12, 8), today).endswith(tail)


def test_seed_000_written_deadline_is_explained() -> None:
    text = explain_written_deadline(date(2023, 11, 7), "2 nd January 2024")
    assert "2 Jan 2024" in text and "published + 56" in text
    assert "statutory last day is 1 Jan 2024, one day earlier" in text
    assert "Responder uses 1 Jan 2024" in text


def test_seed_003_written_deadline_is_explained() -> None:
    text = explain_written_deadline(date(2023, 12, 8), "2 <sup>nd</sup> February 2024")
    assert "statutory last day is 1 Feb 2024, one day earlier" in text


def test_written_deadline_that_matches_or_differs_otherwise() -> None:
    assert "is the statutory last day" in explain_written_deadline(date(2023, 11, 7), date(2024, 1, 1))
    later = explain_written_deadline(date(2023, 11, 7), date(2024, 1, 5))
    assert "4 days after the statutory last day 1 Jan 2024" in later
    earlier = explain_written_deadline(date(2023, 11, 7), date(2023, 12, 31))
    assert "1 day before the statutory last day 1 Jan 2024" in earlier and "earlier internal deadline" in earlier


def test_rule_line_for_document_headers() -> None:
    assert deadline_rule_line(date(2023, 12, 8)) == (
        "56 days beginning with publication on 8 Dec 2023, Police Act 1996 s.55(5A)"
    )


def test_chief_constable_comments_default_and_configurable() -> None:
    assert cc_comments_due(date(2023, 11, 7)) == date(2023, 12, 5)
    assert cc_comments_due(date(2023, 11, 7), days=14) == date(2023, 11, 21)
    assert explain_cc_comments(date(2023, 11, 7)).startswith("Chief constable's comments requested by 5 Dec 2023")
    for bad in (0, 56, -3):
        with pytest.raises(InvalidInput, match="1–55 days after publication"):
            cc_comments_due(date(2023, 11, 7), days=bad)


def test_milestones_defaults_and_overrides() -> None:
    plan = milestones(date(2023, 12, 8))
    assert plan.last_day == date(2024, 2, 1)
    assert plan.cc_comments_due == date(2024, 1, 5)
    assert plan.first_drafts_due == date(2023, 12, 29)
    assert plan.reviews_complete_due == date(2024, 1, 19)
    custom = milestones(date(2023, 12, 8), cc_days=21, first_drafts_days=14, reviews_days=35)
    assert (custom.cc_comments_due, custom.first_drafts_due, custom.reviews_complete_due) == (
        date(2023, 12, 29),
        date(2023, 12, 22),
        date(2024, 1, 12),
    )


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2024, 1, 24), DeadlineStatus.ON_TRACK),  # 8 days left
        (date(2024, 1, 25), DeadlineStatus.DUE_SOON),  # 7 days left
        (date(2024, 2, 1), DeadlineStatus.DUE_TODAY),
        (date(2024, 2, 2), DeadlineStatus.OVERDUE),
    ],
)
def test_status_thresholds(today: date, status: DeadlineStatus) -> None:
    assert deadline_status(date(2024, 2, 1), today) is status


def test_a_published_response_is_done_whatever_the_date() -> None:
    assert deadline_status(date(2024, 2, 1), date(2024, 3, 1), responded=True) is DeadlineStatus.DONE


def test_days_remaining_and_wording() -> None:
    assert days_remaining(date(2024, 2, 1), date(2024, 1, 20)) == 12
    assert days_remaining(date(2024, 2, 1), date(2024, 2, 3)) == -2
    assert [describe_days_left(n) for n in (2, 1, 0, -1, -2)] == [
        "2 days left",
        "1 day left",
        "due today",
        "overdue by 1 day",
        "overdue by 2 days",
    ]


def test_recipients_have_separate_done_flags() -> None:
    sent = datetime(2024, 1, 30, 12, tzinfo=UTC)
    hmicfrs, home = recipients(sent, None)
    assert (hmicfrs.recipient, hmicfrs.done, hmicfrs.done_at) == (Recipient.HMICFRS, True, sent)
    assert (home.recipient, home.done) == (Recipient.HOME_SECRETARY, False)
