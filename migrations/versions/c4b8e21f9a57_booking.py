"""booking: announced events, booking plans, windows, quotas, bookings; booked visits and steps

Revision ID: c4b8e21f9a57
Revises: c4f8a2d6e915
Create Date: 2026-12-07 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import botram.models.types


# revision identifiers, used by Alembic.
revision = 'c4b8e21f9a57'
down_revision = 'c4f8a2d6e915'
branch_labels = None
depends_on = None

UTC = botram.models.types.UTCDateTime()


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announced_at', UTC, nullable=True))
    with op.batch_alter_table('desk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_streak', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_from', UTC, nullable=True))

    op.create_table('booking_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('closes_at', UTC, nullable=False),
        sa.Column('grace_minutes', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
        sa.UniqueConstraint('uuid'))
    op.create_table('booking_window',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', UTC, nullable=False),
        sa.Column('ends_at', UTC, nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['plan_id'], ['booking_plan.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid'))
    op.create_index('ix_booking_window_event_id', 'booking_window', ['event_id'])
    op.create_index('ix_booking_window_plan_id', 'booking_window', ['plan_id'])
    op.create_table('booking_quota',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('window_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('quota', sa.Integer(), nullable=False),
        sa.Column('taken', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.CheckConstraint('taken >= 0 AND taken <= quota', name=op.f('ck_booking_quota_taken')),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.ForeignKeyConstraint(['window_id'], ['booking_window.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uuid'),
        sa.UniqueConstraint('window_id', 'service_id'))
    op.create_table('booking',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('window_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=8), nullable=False),
        sa.Column('token', sa.String(length=43), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=True),
        sa.Column('nik', sa.String(length=16), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('package_id', sa.Integer(), nullable=True),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('changed_at', UTC, nullable=True),
        sa.Column('checked_in_at', UTC, nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('pii_purged_at', UTC, nullable=True),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id']),
        sa.ForeignKeyConstraint(['package_id'], ['life_event_package.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id']),
        sa.ForeignKeyConstraint(['window_id'], ['booking_window.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('token'),
        sa.UniqueConstraint('uuid'))
    op.create_index('ix_booking_event_id', 'booking', ['event_id'])
    op.create_index('ix_booking_window_id', 'booking', ['window_id'])
    op.create_index('ix_booking_phone', 'booking', ['phone'])
    op.create_index('ix_booking_nik', 'booking', ['nik'])
    op.create_index('ix_booking_origin', 'booking', ['origin'])
    op.create_table('booking_service',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('booking_id', 'service_id'))


def downgrade():
    op.drop_table('booking_service')
    for name in ('origin', 'nik', 'phone', 'window_id', 'event_id'):
        op.drop_index(f'ix_booking_{name}', table_name='booking')
    op.drop_table('booking')
    op.drop_table('booking_quota')
    op.drop_index('ix_booking_window_plan_id', table_name='booking_window')
    op.drop_index('ix_booking_window_event_id', table_name='booking_window')
    op.drop_table('booking_window')
    op.drop_table('booking_plan')
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.drop_column('booked_from')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('booked')
    with op.batch_alter_table('desk', schema=None) as batch_op:
        batch_op.drop_column('booked_streak')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('announced_at')
