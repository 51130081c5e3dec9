"""Batched claims walk pending alerts by id: an index on (status, id) replaces (status, next_attempt_at),
with which SQLite sorted every pending row for each batch.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.drop_index("ix_outbox_status_next_attempt_at", "outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.drop_index("ix_outbox_status_id", "outbox")
