"""output_reads: when each person first read each output

Why: the automation-bias watch measured a decision's time from the output's issue, so a reviewer who accepted, unread,
outputs that had waited an hour in the queue looked like a careful reviewer (3,600 s a decision), and the warning
("accepts nearly everything in seconds") never fired for the pattern it exists to catch. A decision's time is now
counted from the reviewer's first reading of the output (its page, the review queue, a plan's or a case's view), and
a decision on an output the reviewer never opened counts 0 s.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_reads",
        sa.Column("output_id", sa.Integer(), sa.ForeignKey("outputs.id"), primary_key=True),
        sa.Column("reader", sa.String(100), primary_key=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("output_reads")
