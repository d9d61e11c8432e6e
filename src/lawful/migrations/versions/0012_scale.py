"""scale: no schema change (month partitioning was measured and not adopted, see docs/design-notes.md); kept because stores are stamped with it

Revision ID: 0012
Revises: 0011
"""
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
