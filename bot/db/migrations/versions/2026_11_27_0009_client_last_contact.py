"""clients.last_contact_at for the retention period

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 02:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_contact_at", bot.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_clients_last_contact_at"), ["last_contact_at"], unique=False)
    op.execute("UPDATE clients SET last_contact_at = updated_at WHERE last_contact_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_last_contact_at"))
        batch_op.drop_column("last_contact_at")
