"""The plan each draft version was built from: the finding's asks, each with its evidence or its placeholder.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Reviewers see it beside the text; the store keeps it with the version, so the card of an old version still
shows what that version was drafted from. Nullable: versions stored before this revision have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("plan")
