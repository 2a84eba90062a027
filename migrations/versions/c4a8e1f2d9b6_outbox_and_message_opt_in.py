"""outbox (messages and prints sent after the commit) and a visit's opt-in to messages

Revision ID: c4a8e1f2d9b6
Revises: b7e2d4a91c03
Create Date: 2026-12-07 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

from botram.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'c4a8e1f2d9b6'
down_revision = 'b7e2d4a91c03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('dedupe_key', sa.String(length=120), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
        sa.Column('claimed_until', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_outbox_event_id_event')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key')),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('notify')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_id'))
        batch_op.drop_index('ix_outbox_due')
    op.drop_table('outbox')
