"""reporting: anonymous event counts, their cells, monthly runs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("case_manager_id", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    op.create_table(
        "report_cells",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("case_manager_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "event",
            "municipality",
            "language",
            "service",
            "case_manager_id",
            "detail",
            name=op.f("pk_report_cells"),
        ),
    )
    op.create_table(
        "report_runs",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("done_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_runs")),
    )


def downgrade() -> None:
    op.drop_table("report_runs")
    op.drop_table("report_cells")
    op.drop_table("report_events")
