"""interpreters, video and phone appointments, series

Revision ID: 0015
Revises: 0009
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "interpreter_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("interpreter_key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("busy_from", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("busy_until", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        _fk("interpreter_bookings", "appointment_id", "appointments", "CASCADE"),
        _fk("interpreter_bookings", "client_id", "clients", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpreter_bookings")),
    )
    with op.batch_alter_table("interpreter_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interpreter_bookings_appointment_id"), ["appointment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interpreter_bookings_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_interpreter_bookings_busy", ["interpreter_key", "busy_from"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # No two active bookings of one interpreter may overlap – enforced by PostgreSQL, as for staff (0003).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE interpreter_bookings ADD CONSTRAINT ex_interpreter_bookings_no_overlap EXCLUDE USING gist "
            "(interpreter_key WITH =, tstzrange(busy_from, busy_until, '[)') WITH &&) WHERE (active)"
        )

    op.create_table(
        "appointment_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("booked_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _fk("appointment_series", "booked_by_staff_id", "staff", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_series")),
    )
    op.create_table(
        "appointment_details",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("video_room", sa.String(length=64), nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        _fk("appointment_details", "appointment_id", "appointments", "CASCADE"),
        _fk("appointment_details", "client_id", "clients", "CASCADE"),
        _fk("appointment_details", "series_id", "appointment_series", "SET NULL"),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_appointment_details")),
    )
    with op.batch_alter_table("appointment_details", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_details_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_details_series_id"), ["series_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appointment_details", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_details_series_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_details_client_id"))
    op.drop_table("appointment_details")
    op.drop_table("appointment_series")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE interpreter_bookings DROP CONSTRAINT ex_interpreter_bookings_no_overlap")
    with op.batch_alter_table("interpreter_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_interpreter_bookings_busy")
        batch_op.drop_index(batch_op.f("ix_interpreter_bookings_client_id"))
        batch_op.drop_index(batch_op.f("ix_interpreter_bookings_appointment_id"))
    op.drop_table("interpreter_bookings")
