"""The durable drafting queue, uploaded reports, per-channel classification ceilings, and each draft's marking.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Drafting jobs move from a process's memory into the system of record, so a crash or a restart loses none:
`draft_jobs` holds one row per job (at most one active per finding, by a partial unique index),
`report_runs` one row per uploaded report (its summary is recomputed from its jobs; the same text uploaded
again in the same channel is refused). `channel_settings` holds the classification ceiling an admin set for a
channel, and `drafts.marking` the protective marking each version carries.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_JOB_WHERE = "state IN ('pending', 'queued', 'running')"
JOB_STATES = "state IN ('pending', 'queued', 'running', 'done', 'failed')"


def upgrade() -> None:
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("summary_ts", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("inspection_type", sa.String(length=32), nullable=False),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("assistant", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_report_runs_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("channel_id", "content_hash", name=op.f("uq_report_runs_channel_id_content_hash")),
    )
    op.create_table(
        "draft_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("expected_version", sa.Integer(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("note_ts", sa.String(length=32), nullable=True),
        sa.Column("assistant", sa.Boolean(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("post_error", sa.String(length=200), nullable=True),
        sa.Column("post_attempts", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(JOB_STATES, name=op.f("ck_draft_jobs_state")),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name=op.f("fk_draft_jobs_finding_id_findings")),
        sa.ForeignKeyConstraint(["report_id"], ["report_runs.id"], name=op.f("fk_draft_jobs_report_id_report_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_jobs")),
    )
    op.create_index(
        "uq_draft_jobs_active",
        "draft_jobs",
        ["finding_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB_WHERE),
        postgresql_where=sa.text(ACTIVE_JOB_WHERE),
    )
    op.create_index(op.f("ix_draft_jobs_state_id"), "draft_jobs", ["state", "id"])
    op.create_index(op.f("ix_draft_jobs_report_id"), "draft_jobs", ["report_id"])
    op.create_table(
        "channel_settings",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ceiling", sa.String(length=32), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_settings")),
    )
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("marking", sa.String(length=32), nullable=False, server_default="OFFICIAL"))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("marking")
    op.drop_table("channel_settings")
    op.drop_index(op.f("ix_draft_jobs_report_id"), table_name="draft_jobs")
    op.drop_index(op.f("ix_draft_jobs_state_id"), table_name="draft_jobs")
    op.drop_index("uq_draft_jobs_active", table_name="draft_jobs")
    op.drop_table("draft_jobs")
    op.drop_table("report_runs")
