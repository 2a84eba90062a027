"""kiosk and thermal printers: self-service flags, printers, print jobs, kiosk presses

Revision ID: c4a8e2f17b90
Revises: c4a8e1f2d9b6
Create Date: 2026-12-07 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import botram.models.types


# revision identifiers, used by Alembic.
revision = 'c4a8e2f17b90'
down_revision = 'c4a8e1f2d9b6'  # the outbox (branch notify, merged here); was b7e2d4a91c03
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_service', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('life_event_package', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_service', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'printer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('connection', sa.String(length=10), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=False),
        sa.Column('paper_mm', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('station', sa.String(length=80), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.String(length=255), nullable=True),
        sa.Column('last_checked_at', botram.models.types.UTCDateTime(), nullable=True),
        sa.Column('created_at', botram.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_printer_token_id_api_token')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_printer')),
        sa.UniqueConstraint('name', name=op.f('uq_printer_name')),
    )
    op.create_table(
        'print_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_key', sa.String(length=120), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('printer_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=255), nullable=True),
        sa.Column('created_at', botram.models.types.UTCDateTime(), nullable=False),
        sa.Column('sent_at', botram.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['printer_id'], ['printer.id'], name=op.f('fk_print_job_printer_id_printer')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_print_job_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_print_job')),
        sa.UniqueConstraint('request_key', name=op.f('uq_print_job_request_key')),
    )
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_job_visit_id'), ['visit_id'], unique=False)
    op.create_table(
        'kiosk_press',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('created_at', botram.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_kiosk_press_event_id_event')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_kiosk_press_visit_id_visit')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_kiosk_press')),
    )


def downgrade():
    op.drop_table('kiosk_press')
    with op.batch_alter_table('print_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_job_visit_id'))
    op.drop_table('print_job')
    op.drop_table('printer')
    with op.batch_alter_table('life_event_package', schema=None) as batch_op:
        batch_op.drop_column('self_service')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('self_service')
