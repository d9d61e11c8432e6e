"""patrol: imported visit logs and their visits (plans themselves are governance outputs of kind "plan")

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patrol_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_output_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_output_id'], ['outputs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_patrol_imports_plan_output_id', 'patrol_imports', ['plan_output_id'], unique=False)
    op.create_table('patrol_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('plan_output_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('cell', sa.String(length=30), nullable=False),
    sa.Column('arrive', sa.DateTime(timezone=True), nullable=False),
    sa.Column('depart', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('in_plan', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['patrol_imports.id'], ),
    sa.ForeignKeyConstraint(['plan_output_id'], ['outputs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_patrol_visits_import_id', 'patrol_visits', ['import_id'], unique=False)
    op.create_index('ix_patrol_visits_plan_output_id', 'patrol_visits', ['plan_output_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_patrol_visits_plan_output_id', table_name='patrol_visits')
    op.drop_index('ix_patrol_visits_import_id', table_name='patrol_visits')
    op.drop_table('patrol_visits')
    op.drop_index('ix_patrol_imports_plan_output_id', table_name='patrol_imports')
    op.drop_table('patrol_imports')
