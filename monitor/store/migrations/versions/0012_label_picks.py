"""The labelling queue's picks: which mentions it asked about, and whether at random or near the boundary.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "label_picks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("mention_id", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_label_picks"),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], name="fk_label_picks_mention_id_mentions",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_label_picks_mention_id", "label_picks", ["mention_id"])


def downgrade() -> None:
    op.drop_index("ix_label_picks_mention_id", "label_picks")
    op.drop_table("label_picks")
