"""casework: case notes, residence status changes, follow-ups, client first names

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def _client_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["client_id"], ["clients.id"], name=op.f(f"fk_{table}_client_id_clients"), ondelete="CASCADE"
    )


def _staff_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["staff.id"], name=op.f(f"fk_{table}_{column}_staff"), ondelete="SET NULL")


def upgrade() -> None:
    op.create_table(
        "casework_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _client_fk("casework_notes"),
        _staff_fk("casework_notes", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_notes")),
    )
    op.create_table(
        "casework_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("paragraph", sa.String(length=8), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _client_fk("casework_status_changes"),
        _staff_fk("casework_status_changes", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_status_changes")),
    )
    op.create_table(
        "casework_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("announced_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _client_fk("casework_followups"),
        _staff_fk("casework_followups", "staff_id"),
        _staff_fk("casework_followups", "created_by_staff_id"),
        _staff_fk("casework_followups", "done_by_staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_followups")),
    )
    op.create_table(
        "casework_names",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("updated_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _client_fk("casework_names"),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_casework_names")),
    )
    for table in ("casework_notes", "casework_status_changes", "casework_followups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_client_id"), ["client_id"], unique=False)
    with op.batch_alter_table("casework_followups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_followups_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("casework_followups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_followups_due_at"))
    for table in ("casework_notes", "casework_status_changes", "casework_followups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_client_id"))
    for table in ("casework_names", "casework_followups", "casework_status_changes", "casework_notes"):
        op.drop_table(table)
