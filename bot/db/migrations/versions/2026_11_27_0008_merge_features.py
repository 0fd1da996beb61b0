"""merge the feature branches (documents, handoff, appointments → inbound → broadcasts)

Revision ID: 0008
Revises: 0004, 0005, 0007
Create Date: 2026-11-27 02:05:00
"""

from __future__ import annotations

revision = "0008"
down_revision = ("0004", "0005", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
