"""patrol_more: no schema change (patrol needed no new table this wave); kept because stores are stamped with it

Revision ID: 0011
Revises: 0010
"""
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
