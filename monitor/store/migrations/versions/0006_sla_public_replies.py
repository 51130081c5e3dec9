"""SLA reminders claimed once per alert; the link to a brand's public reply on its case; spike messages are
cases too (a case has a mention or a burst).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("public_reply_url", sa.Text))
        batch.alter_column("mention_id", existing_type=Id, nullable=True)
        batch.add_column(sa.Column("burst_id", Id))
        batch.create_foreign_key("fk_cases_burst_id_bursts", "bursts", ["burst_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("uq_cases_burst_id", ["burst_id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_burst_id", type_="unique")
        batch.drop_constraint("fk_cases_burst_id_bursts", type_="foreignkey")
        batch.drop_column("burst_id")
        batch.alter_column("mention_id", existing_type=Id, nullable=False)
        batch.drop_column("public_reply_url")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reminded_at")
