"""The PCC's and the chief constable's comments on an inspection, for the publication pack.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

s.55 asks the PCC to publish its own comments and the chief constable's comments together with the answers
to each recommendation; both are free text written once per inspection, so they live on the inspection row.
Nullable: every inspection created before this revision simply has none yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inspections", sa.Column("pcc_comments", sa.Text(), nullable=True))
    op.add_column("inspections", sa.Column("cc_comments", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("cc_comments")
        batch.drop_column("pcc_comments")
