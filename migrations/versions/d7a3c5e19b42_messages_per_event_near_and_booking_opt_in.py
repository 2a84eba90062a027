"""messages: the event's own "near" threshold, and a booking's opt-in to messages (issue 22)

Revision ID: d7a3c5e19b42
Revises: e5a7c3d1f208
Create Date: 2026-12-08 01:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a3c5e19b42'
down_revision = 'e5a7c3d1f208'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_near_ahead', sa.Integer(), nullable=True))
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('notify')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('notify_near_ahead')
