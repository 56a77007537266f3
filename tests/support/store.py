"""Shared set-up for the tracker tests: a migrated file database, a settable clock, sample findings, and the
inspection and sweep the reminder tests (tracker and Slack wording alike) run against."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from retrieval.models import Addressee, Finding, FindingKind
from tracker.reminders import ReminderKind, ReminderToPost
from tracker.repository import Repository
from tracker.review import ApprovalPolicy
from tracker.views import NewDraft

START = datetime(2023, 11, 7, 9, 30, tzinfo=UTC)


class FakeClock:
    """An injectable clock: tests move time by hand, nothing sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def db_url(tmp_path: Path, name: str = "responder.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def make_repo(
    tmp_path: Path, policy: ApprovalPolicy | None = None, clock: FakeClock | None = None, name: str = "responder.db"
) -> Repository:
    return Repository.connect(db_url(tmp_path, name), policy, clock or FakeClock())


def findings() -> list[Finding]:
    return [
        Finding(
            number="1",
            text="By 31 December 2024, all chief constables should make sure that their forces have problem profiles.",
            due="By 31 December 2024",
            addressees=(Addressee.CHIEF_CONSTABLES,),
        ),
        Finding(number="2", text="The Home Office should review funding.", addressees=(Addressee.HOME_OFFICE,)),
        Finding(kind=FindingKind.AREA_FOR_IMPROVEMENT, text="The force should improve its audits."),
    ]


def draft(text: str = "The force has a problem profile, last updated in March 2024.", **fields: object) -> NewDraft:
    return NewDraft(text=text, engine=str(fields.pop("engine", "composer")), **fields)  # type: ignore[arg-type]


# ── reminders ────────────────────────────────────────────────────────────────────────────────────────────

PUBLISHED = date(2023, 12, 8)  # last day 1 Feb 2024; CC comments due 5 Jan 2024 (all GMT, so UTC = UK time)
LAST_DAY = date(2024, 2, 1)
K = ReminderKind


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def add_inspection(repo: Repository, published: date = PUBLISHED, **kwargs: object) -> int:
    return repo.inspections.create(
        "Group-based CSE", published, "national thematic", "Northumbria", "C1", "U1", **kwargs
    ).id  # type: ignore[arg-type]


def sweep_reminders(
    repo: Repository, now: datetime, instance: str = "bot-a", post: bool = True
) -> list[ReminderToPost]:
    """One reminder sweep: claim what is due and (unless `post` is False) mark each claim posted."""
    claimed = repo.reminders.claim_due(instance, now)
    if post:
        for reminder in claimed:
            repo.reminders.mark_posted(reminder.reminder_id, now)
    return claimed
