"""casefiles: cases, statements (pseudonymised text) and the sealed originals of their identifiers

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('casefile_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    op.create_table('casefile_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('stated_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['casefile_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'ref', name='uq_casefile_statement')
    )
    op.create_index('ix_casefile_statements_case_id', 'casefile_statements', ['case_id'], unique=False)
    op.create_table('casefile_identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('pseudonym', sa.String(length=40), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['casefile_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'pseudonym', name='uq_casefile_identifier')
    )
    op.create_index('ix_casefile_identifiers_case_id', 'casefile_identifiers', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_casefile_identifiers_case_id', table_name='casefile_identifiers')
    op.drop_table('casefile_identifiers')
    op.drop_index('ix_casefile_statements_case_id', table_name='casefile_statements')
    op.drop_table('casefile_statements')
    op.drop_table('casefile_cases')
