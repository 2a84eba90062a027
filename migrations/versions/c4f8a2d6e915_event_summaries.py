"""event summaries: a closed event's report figures computed once (issue 25)

Revision ID: c4f8a2d6e915
Revises: c4e8a1f0d2b5
Create Date: 2026-12-07 22:40:00.000000

Existing closed events get their rows from `botram refresh-summaries` (run by `botram init` after the
upgrade); until then their pages compute the figures live, as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f8a2d6e915'
down_revision = 'c4e8a1f0d2b5'  # the crest (main's head when merged); was b7e2d4a91c03
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_summary',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.Column('done_steps', sa.Integer(), nullable=False),
        sa.Column('respondents', sa.Integer(), nullable=False),
        sa.Column('score_totals', sa.JSON(), nullable=False),
        sa.Column('requests', sa.JSON(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_summary_event_id_event')),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_summary')),
    )


def downgrade():
    op.drop_table('event_summary')
