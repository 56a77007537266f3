"""Review rounds and confirmed placeholders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A reopening starts a new round of approvals on the same version, so a mistaken Reopen can be undone by
approving that version again, even by someone who approved it before: the one-approval-per-person index now
counts per round. `confirm` joins the review actions: a reviewer vouching for one `[CONFIRM: …]` as written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVAL_WHERE = "action = 'approve'"
OLD_ACTIONS = "action IN ('approve', 'request_changes', 'edit', 'reopen')"
NEW_ACTIONS = "action IN ('approve', 'request_changes', 'edit', 'reopen', 'confirm')"


def upgrade() -> None:
    op.drop_index("uq_reviews_one_approval", table_name="reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint(op.f("ck_reviews_action"), type_="check")
        batch.create_check_constraint(op.f("ck_reviews_action"), sa.text(NEW_ACTIONS))
    _approval_index(["draft_id", "reviewer", "round"])


def downgrade() -> None:
    op.drop_index("uq_reviews_one_approval", table_name="reviews")
    op.execute("DELETE FROM reviews WHERE action = 'confirm'")  # the older schema has no such action
    with op.batch_alter_table("reviews") as batch:
        batch.drop_constraint(op.f("ck_reviews_action"), type_="check")
        batch.create_check_constraint(op.f("ck_reviews_action"), sa.text(OLD_ACTIONS))
        batch.drop_column("round")
    _approval_index(["draft_id", "reviewer"])


def _approval_index(columns: list[str]) -> None:
    op.create_index(
        "uq_reviews_one_approval",
        "reviews",
        columns,
        unique=True,
        sqlite_where=sa.text(APPROVAL_WHERE),
        postgresql_where=sa.text(APPROVAL_WHERE),
    )
