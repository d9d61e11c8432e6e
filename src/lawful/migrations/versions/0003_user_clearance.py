"""users carry a clearance level

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clearance', sa.String(length=20), nullable=False, server_default='internal'))
        batch_op.create_check_constraint('ck_users_clearance',
                                         "clearance IN ('public', 'internal', 'confidential', 'secret')")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('ck_users_clearance', type_='check')
        batch_op.drop_column('clearance')
