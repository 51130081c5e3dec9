"""SLA reminders claimed once per alert; the link to a brand's public reply on its case.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("public_reply_url", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("public_reply_url")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reminded_at")
