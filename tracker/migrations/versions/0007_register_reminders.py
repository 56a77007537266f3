"""Owner reminders for register items, what made each history entry, and an append-only history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

`register_reminders` holds one row per (item, kind, due date), claimed exactly once as `reminders` is.
`register_updates.kind` says whether an entry is a person's progress update (the force's reported position,
indexed as evidence) or a bookkeeping entry (created, owner assigned, due date set); existing rows are classified
from the notes the register wrote for them. The database then refuses UPDATE and DELETE on the history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_MESSAGE = "register_updates is append-only: history entries cannot be changed or deleted"
KINDS = "kind IN ('create', 'update', 'assign', 'set_due')"
#: The notes revision 0006's register wrote for its bookkeeping entries.
BACKFILL = (
    ("create", "note = 'Published answer added to the register.'"),
    ("assign", "note LIKE 'Owner set to %' OR note = 'Owner removed.'"),
    ("set_due", "note LIKE 'Due date set to %' OR note = 'Due date cleared.'"),
)


def upgrade() -> None:
    with op.batch_alter_table("register_updates") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="update"))
        batch.create_check_constraint(op.f("ck_register_updates_kind"), sa.text(KINDS))
    for kind, where in BACKFILL:
        op.execute(f"UPDATE register_updates SET kind = '{kind}' WHERE {where}")
    op.create_table(
        "register_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('due_soon', 'overdue')", name=op.f("ck_register_reminders_kind")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["register_items.id"], name=op.f("fk_register_reminders_item_id_register_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_reminders")),
        sa.UniqueConstraint("item_id", "kind", "due_on", name=op.f("uq_register_reminders_item_id_kind_due_on")),
    )
    _protect_history()


def _protect_history() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER register_updates_no_{verb.lower()} BEFORE {verb} ON register_updates "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSE_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION register_updates_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSE_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER register_updates_append_only BEFORE UPDATE OR DELETE ON register_updates "
            "FOR EACH ROW EXECUTE FUNCTION register_updates_refuse_change()"
        )


def _unprotect_history() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS register_updates_no_{verb}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS register_updates_append_only ON register_updates")
        op.execute("DROP FUNCTION IF EXISTS register_updates_refuse_change()")


def downgrade() -> None:
    op.drop_table("register_reminders")
    # SQLite's batch mode rebuilds the table, which the triggers would refuse: drop them first.
    _unprotect_history()
    with op.batch_alter_table("register_updates") as batch:
        batch.drop_constraint(op.f("ck_register_updates_kind"), type_="check")
        batch.drop_column("kind")
