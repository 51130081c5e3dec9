"""Retention and erasure: why a mention's personal fields are gone, and the audit of erasures.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("redacted", sa.String(16)))
    # Posts deleted upstream before this revision kept only their marker text.
    op.execute("UPDATE mentions SET redacted = 'deleted' WHERE text = '[deleted by its author]'")
    op.create_table(
        "erasures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_erasures"),
    )


def downgrade() -> None:
    op.drop_table("erasures")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("redacted")
