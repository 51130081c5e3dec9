"""Classifiers learned from the labels, versioned with their figures.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("labels", sa.Integer, nullable=False),
        sa.Column("last_label_id", Id, nullable=False),
        sa.Column("rules_f1", sa.Float, nullable=False),
        sa.Column("model_f1", sa.Float, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
    )


def downgrade() -> None:
    op.drop_table("models")
