"""handoff: conversations, message pairs, staff topics, staff absences

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("header_message_id", sa.BigInteger(), nullable=True),
        sa.Column("intake_message_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("auto_reply_sent_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("away_notice_sent_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mentioned_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flood_notice_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id_notice_sent_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_client_message_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_staff_message_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_handoff_conversations_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_conversations")),
        sa.UniqueConstraint("client_id", name=op.f("uq_handoff_conversations_client_id")),
    )
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("client_message_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("translated", sa.Boolean(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("edited_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_handoff_messages_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_handoff_messages_staff_id_staff"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_messages")),
    )
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_messages_client_copy", ["client_id", "client_message_id"], unique=False)
        batch_op.create_index("ix_handoff_messages_staff_copy", ["staff_chat_id", "staff_message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_messages_created_at"), ["created_at"], unique=False)
    op.create_table(
        "handoff_staff_topics",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_handoff_staff_topics")),
    )
    op.create_table(
        "staff_absences",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_absences_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["staff.id"], name=op.f("fk_staff_absences_deputy_id_staff"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_absences")),
    )


def downgrade() -> None:
    op.drop_table("staff_absences")
    op.drop_table("handoff_staff_topics")
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_messages_created_at"))
        batch_op.drop_index("ix_handoff_messages_staff_copy")
        batch_op.drop_index("ix_handoff_messages_client_copy")
    op.drop_table("handoff_messages")
    op.drop_table("handoff_conversations")
