"""crest: the regency's crest (lambang) the admin uploads for printed letterheads

Revision ID: c4e8a1f0d2b5
Revises: c4a8e2f17b90
Create Date: 2026-12-07 22:40:00

"""
from alembic import op
import sqlalchemy as sa
import botram.models.types


revision = 'c4e8a1f0d2b5'
down_revision = 'c4a8e2f17b90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('crest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', botram.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_crest_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crest'))
    )


def downgrade():
    op.drop_table('crest')
