"""The system of record as SQLAlchemy 2.0 declarative models.

The schema is created only by the Alembic migrations in tracker/migrations; tests compare these models with
the migrated database so the two cannot drift. Enumerated values are stored as short strings with CHECK
constraints (portable between SQLite and PostgreSQL, readable in a SQL shell).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: migrations and models name things the same way on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REVIEW_STATES = ("awaiting_draft", "drafted", "changes_requested", "redrafted", "approved", "reopened")
REVIEW_ACTIONS = ("approve", "request_changes", "edit", "reopen", "confirm")
REMINDER_KINDS = ("deadline", "cc_comments", "overdue")
INSPECTION_STATUSES = ("open", "published")
APPROVAL_WHERE = "action = 'approve'"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite stores naive text, so normalise both ways)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Store aware datetimes only (use datetime.now(UTC))")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class Inspection(Base):
    __tablename__ = "inspections"
    __table_args__ = (CheckConstraint(_in("status", INSPECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    inspection_type: Mapped[str] = mapped_column(String(32))
    force: Mapped[str] = mapped_column(String(100))
    published: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date, index=True)
    cc_comments_due: Mapped[date] = mapped_column(Date)
    first_drafts_due: Mapped[date] = mapped_column(Date)
    reviews_complete_due: Mapped[date] = mapped_column(Date)
    reminder_days: Mapped[list[int]]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    published_at: Mapped[datetime | None]
    sent_hmicfrs_at: Mapped[datetime | None]
    sent_home_office_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The PCC's and the chief constable's comments for the publication pack (migration 0002).
    pcc_comments: Mapped[str | None] = mapped_column(Text)
    cc_comments: Mapped[str | None] = mapped_column(Text)


class Finding(Base):
    """One recommendation / AFI / cause of concern; `inspection_id` is NULL for a one-off pasted request."""

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(_in("state", REVIEW_STATES), name="state"),
        UniqueConstraint("inspection_id", "position"),
        Index(None, "channel_id", "message_ts"),
        Index(None, "channel_id", "thread_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    addressees: Mapped[list[str]]
    due: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Optimistic concurrency: every UPDATE says WHERE version_id = <the version read>, so two reviewers
    # clicking at once cannot both win (SQLAlchemy raises StaleDataError for the loser).
    version_id: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class Draft(Base):
    """Every version of an answer; never updated, so history is complete."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("finding_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(64))
    sources: Mapped[list[dict[str, Any]]]
    guard_findings: Mapped[list[dict[str, Any]]]
    placeholders: Mapped[list[str]]
    notes: Mapped[list[str]]
    rationale: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str | None] = mapped_column(String(64))
    instruction: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    #: What the version was built from: each ask with its evidence or placeholder (None before revision 0003).
    plan: Mapped[dict[str, Any] | None]
    #: The protective marking of the highest-marked source the version drew on (revision 0005).
    marking: Mapped[str] = mapped_column(String(32), default="OFFICIAL", server_default="OFFICIAL")


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(_in("action", REVIEW_ACTIONS), name="action"),
        # The same reviewer cannot approve the same draft version twice in one round (a reopening starts the
        # next round), whatever the application does.
        Index(
            "uq_reviews_one_approval",
            "draft_id",
            "reviewer",
            "round",
            unique=True,
            sqlite_where=text(APPROVAL_WHERE),
            postgresql_where=text(APPROVAL_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    #: How many reopenings of this version came before this review (its own, for a reopening).
    round: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditEntry(Base):
    """Append-only: the repository has no API to change or delete a row, and the database refuses too."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class Reminder(Base):
    """One reminder slot; the unique key is what makes a slot fire once across restarts and instances."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(_in("kind", REMINDER_KINDS), name="kind"),
        UniqueConstraint("inspection_id", "kind", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    offset_days: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]


class ProcessedEvent(Base):
    """Slack event ids (and retry keys) already handled, so a retried delivery never drafts twice."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


JOB_STATES = ("pending", "queued", "running", "done", "failed")
#: A finding has at most one job in these states: the database, not a process, decides who drafts it.
ACTIVE_JOB_WHERE = "state IN ('pending', 'queued', 'running')"


class ReportRun(Base):
    """One uploaded report in one channel: what its summary message shows, and the text's hash (no re-uploads)."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("channel_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    inspection_type: Mapped[str] = mapped_column(String(32))
    published: Mapped[date | None] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(255))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    assistant: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class DraftJob(Base):
    """One drafting job (a mention, one finding of a report, a redraft): the durable queue's row.

    `pending` while its placeholder is being posted, `queued` to be claimed, `running` under a lease that its
    worker's heartbeat extends; a lease that runs out (a crashed process) makes the job claimable again.
    `shown` is whether Slack has the outcome; a job done but not shown is posted again by the repair sweep.
    """

    __tablename__ = "draft_jobs"
    __table_args__ = (
        CheckConstraint(_in("state", JOB_STATES), name="state"),
        Index(
            "uq_draft_jobs_active",
            "finding_id",
            unique=True,
            sqlite_where=text(ACTIVE_JOB_WHERE),
            postgresql_where=text(ACTIVE_JOB_WHERE),
        ),
        Index(None, "state", "id"),
        Index(None, "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report_runs.id"))
    state: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    expected_version: Mapped[int] = mapped_column(Integer)
    instruction: Mapped[str | None] = mapped_column(Text)
    note_ts: Mapped[str | None] = mapped_column(String(32))
    assistant: Mapped[bool] = mapped_column(default=False)
    first: Mapped[bool] = mapped_column(default=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    shown: Mapped[bool] = mapped_column(default=False)
    post_error: Mapped[str | None] = mapped_column(String(200))
    post_attempts: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ChannelSetting(Base):
    """A channel's classification ceiling, set by an office admin; a channel without a row gets OFFICIAL."""

    __tablename__ = "channel_settings"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ceiling: Mapped[str] = mapped_column(String(32))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


REGISTER_STATUSES = (
    "open",
    "in_progress",
    "implemented",
    "awaiting_evidence",
    "closed",
    "superseded",
    "not_accepted",
)
RAG_RATINGS = ("red", "amber", "green")
#: What made a history entry: only a person's `update` is the force's reported position (indexed as evidence).
REGISTER_UPDATE_KINDS = ("create", "update", "assign", "set_due")
OWNER_REMINDER_KINDS = ("due_soon", "overdue")


class RegisterItem(Base):
    """One published answer the PCC monitors "through my regular HMICFRS Scrutiny process" (revision 0006).

    The unique key on `finding_id` is what makes creating the register idempotent: marking published twice,
    or a retry, can never give a finding two items.
    """

    __tablename__ = "register_items"
    __table_args__ = (
        CheckConstraint(_in("status", REGISTER_STATUSES), name="status"),
        CheckConstraint(_in("rag", RAG_RATINGS), name="rag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), unique=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    #: The approved version that was published, and its text as it was then (drafts are never changed).
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    answer_text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(64))
    due: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    rag: Mapped[str | None] = mapped_column(String(8))
    #: Why monitoring ended: closed, superseded or not accepted (the note of the update that said so).
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Optimistic concurrency, as on findings: two people updating one item at once cannot both win.
    version_id: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class RegisterUpdate(Base):
    """One dated entry in an item's history: who, when, the status and RAG after it, the note and the evidence.

    Append-only (revision 0007): the database refuses UPDATE and DELETE, as it does for the audit log, because
    the history is what the scrutiny board is shown.
    """

    __tablename__ = "register_updates"
    __table_args__ = (CheckConstraint(_in("kind", REGISTER_UPDATE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("register_items.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    rag: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]]
    kind: Mapped[str] = mapped_column(String(16), server_default="update")


class RegisterReminder(Base):
    """One owner reminder for one item's due date (revision 0007): due soon, or overdue.

    Unique on (item, kind, due date): each fires once across restarts and instances; a due date set again by
    hand is a new date, so it gets its own reminders.
    """

    __tablename__ = "register_reminders"
    __table_args__ = (
        CheckConstraint(_in("kind", OWNER_REMINDER_KINDS), name="kind"),
        UniqueConstraint("item_id", "kind", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("register_items.id"))
    kind: Mapped[str] = mapped_column(String(16))
    #: The item's due date the reminder is about (not the day it fires).
    due_on: Mapped[date] = mapped_column(Date)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
