"""Initial schema: inspections, findings, drafts, reviews, append-only audit log, reminders, processed events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Self-contained on purpose (no import of tracker.schema): a migration must keep describing the schema as it
was at this revision even after the models move on. tests/test_tracker_db.py checks models == migrated schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVAL_WHERE = "action = 'approve'"
REFUSE_MESSAGE = "audit_log is append-only: rows cannot be changed or deleted"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _create_inspections()
    _create_findings()
    _create_drafts_and_reviews()
    _create_audit_log()
    _create_reminders_and_events()


def _create_inspections() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("inspection_type", sa.String(length=32), nullable=False),
        sa.Column("force", sa.String(length=100), nullable=False),
        sa.Column("published", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("cc_comments_due", sa.Date(), nullable=False),
        sa.Column("first_drafts_due", sa.Date(), nullable=False),
        sa.Column("reviews_complete_due", sa.Date(), nullable=False),
        sa.Column("reminder_days", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("published_at", nullable=True),
        _timestamp("sent_hmicfrs_at", nullable=True),
        _timestamp("sent_home_office_at", nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("status IN ('open', 'published')", name=op.f("ck_inspections_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    op.create_index(op.f("ix_inspections_last_day"), "inspections", ["last_day"])
    op.create_index(op.f("ix_inspections_status"), "inspections", ["status"])


def _create_findings() -> None:
    states = "'awaiting_draft', 'drafted', 'changes_requested', 'redrafted', 'approved', 'reopened'"
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("addressees", sa.JSON(), nullable=False),
        sa.Column("due", sa.String(length=200), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"state IN ({states})", name=op.f("ck_findings_state")),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_findings_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("inspection_id", "position", name=op.f("uq_findings_inspection_id_position")),
    )
    op.create_index(op.f("ix_findings_channel_id_message_ts"), "findings", ["channel_id", "message_ts"])
    op.create_index(op.f("ix_findings_channel_id_thread_ts"), "findings", ["channel_id", "thread_ts"])
    op.create_index(op.f("ix_findings_inspection_id"), "findings", ["inspection_id"])


def _create_drafts_and_reviews() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("engine", sa.String(length=64), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("guard_findings", sa.JSON(), nullable=False),
        sa.Column("placeholders", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name=op.f("fk_drafts_finding_id_findings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("finding_id", "version", name=op.f("uq_drafts_finding_id_version")),
    )
    op.create_index(op.f("ix_drafts_finding_id"), "drafts", ["finding_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(
            "action IN ('approve', 'request_changes', 'edit', 'reopen')", name=op.f("ck_reviews_action")
        ),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_reviews_draft_id_drafts")),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name=op.f("fk_reviews_finding_id_findings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_draft_id"), "reviews", ["draft_id"])
    op.create_index(op.f("ix_reviews_finding_id"), "reviews", ["finding_id"])
    op.create_index(
        "uq_reviews_one_approval",
        "reviews",
        ["draft_id", "reviewer"],
        unique=True,
        sqlite_where=sa.text(APPROVAL_WHERE),
        postgresql_where=sa.text(APPROVAL_WHERE),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_entity_entity_id"), "audit_log", ["entity", "entity_id"])
    _protect_audit_log()


def _protect_audit_log() -> None:
    """The database itself refuses UPDATE and DELETE on audit rows, whoever connects."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSE_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSE_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
        )


def _create_reminders_and_events() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        _timestamp("claimed_at", nullable=True),
        _timestamp("posted_at", nullable=True),
        sa.CheckConstraint("kind IN ('deadline', 'cc_comments', 'overdue')", name=op.f("ck_reminders_kind")),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_reminders_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("inspection_id", "kind", "due_on", name=op.f("uq_reminders_inspection_id_kind_due_on")),
    )
    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint("key", name=op.f("uq_processed_events_key")),
    )
    op.create_index(op.f("ix_processed_events_created_at"), "processed_events", ["created_at"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    for table in (
        "processed_events",
        "reminders",
        "audit_log",
        "reviews",
        "drafts",
        "findings",
        "inspections",
    ):
        op.drop_table(table)
