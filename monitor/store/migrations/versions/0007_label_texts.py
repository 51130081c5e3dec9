"""Labels on bare text (imported from a file) as well as on stored mentions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("labels") as batch:
        batch.alter_column("mention_id", existing_type=Id, nullable=True)
        batch.add_column(sa.Column("text", sa.Text))
        batch.add_column(sa.Column("brand", sa.String(128)))


def downgrade() -> None:
    op.execute("DELETE FROM labels WHERE mention_id IS NULL")
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("brand")
        batch.drop_column("text")
        batch.alter_column("mention_id", existing_type=Id, nullable=False)
