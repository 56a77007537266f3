"""The statutory deadline and the dates around it, each with the one-line explanation shown beside it.

Police Act 1996 s.55(5A): the PCC publishes its comments "before the end of the period of 56 days beginning
with the day on which the report is published". Publication day is day 1, so the last day is published + 55.
Some offices write published + 56 in their tables (the Northumbria seeds: 7 Nov 2023 → 2 Jan 2024); the
product always computes the statutory day and, when shown a different written date, says why they differ.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from retrieval.dates import format_date, parse_date
from tracker.errors import InvalidInput

STATUTORY_PERIOD_DAYS = 56
STATUTE = "Police Act 1996 s.55(5A)"
CC_STATUTE = "s.55(4)"
DEFAULT_CC_DAYS = 28
DEFAULT_FIRST_DRAFTS_DAYS = 21
DEFAULT_REVIEWS_DAYS = 42
DEFAULT_REMINDER_DAYS = (28, 14, 7, 3, 1, 0)
DUE_SOON_DAYS = 7
#: `done <id> <what>` → the inspection column that records it. Kept here, beside the recipients, rather than
#: with the store: the command line's help names the steps without loading SQLAlchemy (or drafting).
RECIPIENT_MARKS = {
    "published": "published_at",
    "sent-hmicfrs": "sent_hmicfrs_at",
    "sent-home-office": "sent_home_office_at",
}
DONE_STEPS = tuple(RECIPIENT_MARKS)
#: What is still to do while a step is outstanding: an inspection stays on the open list until all three are.
STEP_TASKS = {
    "published": "publish the response",
    "sent-hmicfrs": "send to HMICFRS",
    "sent-home-office": "send to the Home Secretary",
}


class DeadlineStatus(StrEnum):
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    DUE_TODAY = "due today"
    OVERDUE = "overdue"
    DONE = "response published"


class Recipient(StrEnum):
    """Who the published response goes to."""

    HMICFRS = "HMICFRS"
    HOME_SECRETARY = "Home Secretary"


class RecipientStatus(BaseModel):
    recipient: Recipient
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


class Milestones(BaseModel):
    """Every date an inspection is tracked against, all derived from the publication date."""

    published: date
    last_day: date = Field(..., description="Statutory last day to publish the response")
    cc_comments_due: date = Field(..., description="Chief constable's comments requested by (s.55(4))")
    first_drafts_due: date
    reviews_complete_due: date


def statutory_last_day(published: date) -> date:
    """Day 1 is the publication day, so day 56 is published + 55."""
    return published + timedelta(days=STATUTORY_PERIOD_DAYS - 1)


def cc_comments_due(published: date, days: int = DEFAULT_CC_DAYS) -> date:
    """The date the PCC asks the chief constable to comment by; it must leave time before the last day."""
    _check_offset("chief constable's comments", days)
    return published + timedelta(days=days)


def milestones(
    published: date,
    cc_days: int = DEFAULT_CC_DAYS,
    first_drafts_days: int = DEFAULT_FIRST_DRAFTS_DAYS,
    reviews_days: int = DEFAULT_REVIEWS_DAYS,
) -> Milestones:
    _check_offset("first drafts", first_drafts_days)
    _check_offset("reviews complete", reviews_days)
    return Milestones(
        published=published,
        last_day=statutory_last_day(published),
        cc_comments_due=cc_comments_due(published, cc_days),
        first_drafts_due=published + timedelta(days=first_drafts_days),
        reviews_complete_due=published + timedelta(days=reviews_days),
    )


def _check_offset(what: str, days: int) -> None:
    if not 1 <= days <= STATUTORY_PERIOD_DAYS - 1:
        raise InvalidInput(
            f"The {what} date must fall after publication and by the statutory last day: "
            f"give 1–{STATUTORY_PERIOD_DAYS - 1} days after publication, not {days}."
        )


def days_remaining(last_day: date, today: date) -> int:
    """0 on the last day itself, negative once it has passed."""
    return (last_day - today).days


def deadline_status(
    last_day: date, today: date, responded: bool = False, due_soon_days: int = DUE_SOON_DAYS
) -> DeadlineStatus:
    if responded:
        return DeadlineStatus.DONE
    left = days_remaining(last_day, today)
    if left < 0:
        return DeadlineStatus.OVERDUE
    if left == 0:
        return DeadlineStatus.DUE_TODAY
    return DeadlineStatus.DUE_SOON if left <= due_soon_days else DeadlineStatus.ON_TRACK


def describe_days_left(days: int) -> str:
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    if days == 0:
        return "due today"
    return f"overdue by {-days} day{'s' if days != -1 else ''}"


def deadline_rule_line(published: date) -> str:
    """How the last day was computed, for a header cell beside the date (no days-left: documents age)."""
    return f"{STATUTORY_PERIOD_DAYS} days beginning with publication on {format_date(published)}, {STATUTE}"


def explain_deadline(published: date, today: date | None = None) -> str:
    """The one line shown wherever a deadline is: the date, the rule, and (given today) the days left."""
    last_day = statutory_last_day(published)
    line = (
        f"Last day {format_date(last_day)} — {STATUTORY_PERIOD_DAYS} days beginning with publication on "
        f"{format_date(published)} ({STATUTE})"
    )
    if today is not None:
        line += f"; {describe_days_left(days_remaining(last_day, today))}"
    return line


def explain_cc_comments(published: date, days: int = DEFAULT_CC_DAYS) -> str:
    due = cc_comments_due(published, days)
    return f"Chief constable's comments requested by {format_date(due)} — {days} days after publication ({CC_STATUTE})"


def explain_written_deadline(published: date, written: date | str) -> str:
    """Compare a deadline as a document writes it with the statutory last day, and say which one counts."""
    written_day = parse_date(written) if isinstance(written, str) else written
    last_day = statutory_last_day(published)
    rule = deadline_rule_line(published)
    shown = format_date(written_day)
    if written_day == last_day:
        return f"The written deadline {shown} is the statutory last day: {rule}."
    gap = (written_day - last_day).days
    if gap == 1:
        return (
            f"The document says {shown}, counting 56 days after publication (published + 56). "
            f"The 56 days begin with the publication day itself, so the statutory last day is "
            f"{format_date(last_day)}, one day earlier: {rule}. Responder uses {format_date(last_day)}."
        )
    if gap > 0:
        return (
            f"The document says {shown}, {gap} days after the statutory last day {format_date(last_day)} "
            f"({rule}). Responder uses {format_date(last_day)}."
        )
    return (
        f"The document says {shown}, {-gap} day{'s' if gap != -1 else ''} before the statutory last day "
        f"{format_date(last_day)} ({rule}): an earlier internal deadline is fine; the statutory one is "
        f"{format_date(last_day)}."
    )


def recipients(sent_hmicfrs_at: datetime | None, sent_home_office_at: datetime | None) -> list[RecipientStatus]:
    """The published response goes to HMICFRS and to the Home Secretary; each is ticked off separately."""
    return [
        RecipientStatus(recipient=Recipient.HMICFRS, done_at=sent_hmicfrs_at),
        RecipientStatus(recipient=Recipient.HOME_SECRETARY, done_at=sent_home_office_at),
    ]
