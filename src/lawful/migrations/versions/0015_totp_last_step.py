"""totp_last_step: the last one-time-code time step a person signed in with

Why: a one-time code stayed valid for its whole window (about 90 s with the one step of drift allowed), for any
number of sign-ins, so anyone who saw a person type their password and code could open sessions of their own with
them. RFC 6238 section 5.2: a verifier must not accept a code a second time after a successful validation. The
server now keeps the time step of the last code it accepted and refuses that step and earlier ones.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE on both (SQLite 3.35+): a batch rebuild of users would trip the foreign keys that refer to it
    op.execute("ALTER TABLE users DROP COLUMN totp_last_step")
