"""output_classification: each output carries the classification of the data it was made from

Why: reading, listing and deciding an output was checked against the model alone, at the default classification
("internal"), so a person cleared below the incidents a forecast was made from (refused the incidents themselves)
read its places and counts, and could accept it. The gate now stores the classification of what an output was made
from (a forecast: the highest classification of the stored incidents, which its read already requires; a patrol
plan: its forecast's; a case-file suggestion: its case's) and review checks the reader's clearance against it.
Outputs issued before keep "internal", as they were judged.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outputs", sa.Column("classification", sa.String(20), nullable=False, server_default="internal"))


def downgrade() -> None:
    op.execute("ALTER TABLE outputs DROP COLUMN classification")  # plain ALTER on both (SQLite 3.35+)
