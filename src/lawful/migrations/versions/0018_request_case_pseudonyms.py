"""request_case_pseudonyms: the pseudonyms a subject request's identity has in case files

Why: an access request searched incident records and the trail for the person's pseudonym, but case-file statements
pseudonymise identifiers with their kind ("name:" + the name, "phone:" + the number), a different pseudonym, and the
request stores only its own: a person named in witness statements was told "no records matched". The request now
also keeps the identity's case-file pseudonyms (keyed HMACs, like the first; never the identity), computed when it is
opened, and the access answer lists the statements that name the person.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subject_requests", sa.Column("case_pseudonyms", sa.JSON().with_variant(JSONB(), "postgresql"),
                                                nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE subject_requests DROP COLUMN case_pseudonyms")  # plain ALTER on both (SQLite 3.35+)
