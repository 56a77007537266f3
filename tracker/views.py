"""Read-only views the repository returns: plain pydantic values, so callers never hold a session."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from drafting.fact_check import PLACEHOLDER
from retrieval.models import Addressee, Classification, Finding, FindingKind, InspectionType
from tracker.deadlines import (
    RECIPIENT_MARKS,
    STEP_TASKS,
    DeadlineStatus,
    RecipientStatus,
    days_remaining,
    deadline_status,
    explain_deadline,
    recipients,
)
from tracker.review import ReviewAction, ReviewState


def placeholders_in(text: str) -> list[str]:
    """`[CONFIRM: …]` markers left in a text, in order, without repeats."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    @classmethod
    def of(cls, row: Any, **extra: Any) -> Self:
        """The view of an ORM row (its same-named attributes), plus the fields a row does not hold."""
        fields = {name: getattr(row, name) for name in cls.model_fields if name not in extra and hasattr(row, name)}
        return cls.model_validate({**fields, **extra})


class NewDraft(_View):
    """What the drafting engine (or a person) hands the store for one new version."""

    text: str = Field(..., min_length=1)
    engine: str = "unknown"
    sources: list[dict[str, Any]] = Field(default_factory=list, description="Chunk ids + doc/force/date/number")
    guard_findings: list[dict[str, Any]] = Field(default_factory=list)
    placeholders: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    rationale: str = ""
    plan: dict[str, Any] | None = Field(None, description="The asks, each with its evidence or placeholder")
    marking: Classification = Field(Classification.OFFICIAL, description="The highest marking it drew on")

    @classmethod
    def from_draft(cls, draft: Any) -> NewDraft:
        """From a drafting.models.Draft (duck-typed, so the store does not depend on drafting's internals)."""
        return cls(
            text=draft.text,
            engine=draft.engine,
            sources=[_plain(source) for source in getattr(draft, "sources", [])],
            guard_findings=[_plain(item) for item in getattr(draft, "guard", [])],
            placeholders=list(getattr(draft, "placeholders", [])),
            notes=list(getattr(draft, "notes", [])),
            rationale=getattr(draft, "rationale", "") or "",
            plan=_plain(plan) if (plan := getattr(draft, "plan", None)) is not None else None,
            marking=getattr(draft, "marking", Classification.OFFICIAL),
        )


def _plain(value: Any) -> dict[str, Any]:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else dict(value)


class InspectionView(_View):
    id: int
    title: str
    inspection_type: InspectionType
    force: str
    published: date
    last_day: date
    cc_comments_due: date
    first_drafts_due: date
    reviews_complete_due: date
    reminder_days: tuple[int, ...]
    channel_id: str | None
    thread_ts: str | None
    status: str
    published_at: datetime | None
    sent_hmicfrs_at: datetime | None
    sent_home_office_at: datetime | None
    created_by: str
    created_at: datetime
    findings_total: int = 0
    findings_approved: int = 0

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def recipients(self) -> list[RecipientStatus]:
        return recipients(self.sent_hmicfrs_at, self.sent_home_office_at)

    @property
    def outstanding_steps(self) -> tuple[str, ...]:
        """The `done` steps not yet ticked, in statutory order: published, then sent to each recipient."""
        return tuple(step for step, column in RECIPIENT_MARKS.items() if getattr(self, column) is None)

    @property
    def next_step(self) -> str | None:
        """What is still to do, e.g. "send to the Home Secretary"; None once every step is done."""
        steps = self.outstanding_steps
        return STEP_TASKS[steps[0]] if steps else None

    def days_left(self, today: date) -> int:
        return days_remaining(self.last_day, today)

    def deadline_status(self, today: date) -> DeadlineStatus:
        return deadline_status(self.last_day, today, responded=not self.is_open)

    def deadline_line(self, today: date | None = None) -> str:
        return explain_deadline(self.published, today)


class InspectionSummary(_View):
    """One line of `/hmicfrs list`: the inspection as of `today`."""

    inspection: InspectionView
    days_left: int
    status: DeadlineStatus
    deadline_line: str


class FindingView(_View):
    id: int
    inspection_id: int | None
    position: int
    number: str | None
    kind: FindingKind
    text: str
    addressees: tuple[Addressee, ...]
    due: str | None
    channel_id: str | None
    thread_ts: str | None
    message_ts: str | None
    state: ReviewState
    version_id: int = Field(..., description="Row version for optimistic concurrency (changes on every update)")
    latest_version: int = Field(0, description="Latest draft version; 0 before the first draft")
    requested_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def label(self) -> str:
        return self.to_finding().label

    @property
    def approved(self) -> bool:
        return self.state is ReviewState.APPROVED

    def to_finding(self) -> Finding:
        return Finding(number=self.number, kind=self.kind, text=self.text, due=self.due, addressees=self.addressees)


class DraftView(_View):
    id: int
    finding_id: int
    version: int
    text: str
    engine: str
    sources: list[dict[str, Any]]
    guard_findings: list[dict[str, Any]]
    placeholders: list[str]
    notes: list[str]
    rationale: str
    author: str
    requested_by: str | None
    instruction: str | None
    created_at: datetime
    plan: dict[str, Any] | None = None
    marking: Classification = Field(Classification.OFFICIAL, description="The version's protective marking")


class ReviewView(_View):
    id: int
    finding_id: int
    draft_id: int
    draft_version: int
    reviewer: str
    action: ReviewAction
    comment: str | None
    created_at: datetime


class ReviewOutcome(_View):
    """What a click did: enough for the bot to update the message in place and answer the clicker."""

    finding: FindingView
    draft: DraftView
    state_before: ReviewState
    state_after: ReviewState
    approvers: tuple[str, ...] = Field((), description="Who has approved the latest version")

    @property
    def state_changed(self) -> bool:
        return self.state_before is not self.state_after


class AnswerView(_View):
    """A finding with its latest draft, for the publication pack."""

    finding: FindingView
    draft: DraftView | None
    approved: bool


class AuditEvent(_View):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class InspectionComments(_View):
    """The PCC's and the chief constable's comments on the report as a whole, for the pack."""

    pcc: str | None = None
    chief_constable: str | None = None
