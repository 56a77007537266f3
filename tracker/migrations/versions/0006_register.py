"""The recommendation register: each published answer monitored after publication, with its dated history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09

`register_items` holds one row per published finding (unique on `finding_id`, so creating the register is
idempotent): the approved answer as published, owner, due date, status, RAG and, for an item superseded or
not accepted, the reason. `register_updates` is each item's dated history (who, when, status, RAG, note and
evidence links).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "status IN ('open', 'in_progress', 'implemented', 'awaiting_evidence', 'closed', 'superseded', 'not_accepted')"
)
RAGS = "rag IN ('red', 'amber', 'green')"


def upgrade() -> None:
    op.create_table(
        "register_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_register_items_status")),
        sa.CheckConstraint(RAGS, name=op.f("ck_register_items_rag")),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name=op.f("fk_register_items_finding_id_findings")),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_register_items_inspection_id_inspections")
        ),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_register_items_draft_id_drafts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_items")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_register_items_finding_id")),
    )
    op.create_index(op.f("ix_register_items_inspection_id"), "register_items", ["inspection_id"])
    op.create_index(op.f("ix_register_items_due"), "register_items", ["due"])
    op.create_index(op.f("ix_register_items_status"), "register_items", ["status"])
    op.create_table(
        "register_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["register_items.id"], name=op.f("fk_register_updates_item_id_register_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_updates")),
    )
    op.create_index(op.f("ix_register_updates_item_id"), "register_updates", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_register_updates_item_id"), table_name="register_updates")
    op.drop_table("register_updates")
    op.drop_index(op.f("ix_register_items_status"), table_name="register_items")
    op.drop_index(op.f("ix_register_items_due"), table_name="register_items")
    op.drop_index(op.f("ix_register_items_inspection_id"), table_name="register_items")
    op.drop_table("register_items")
