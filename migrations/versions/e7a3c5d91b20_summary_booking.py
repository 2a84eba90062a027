"""event summaries keep booked vs walk-in per service (issue 21: the regency view reads them)

Revision ID: e7a3c5d91b20
Revises: d7a3c5e19b42
Create Date: 2026-12-08 01:40:00.000000

Existing summaries keep NULL: the report and the regency view then compute an event's booked vs walk-in live,
as before, until `botram refresh-summaries` (or the event's next refresh) fills it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a3c5d91b20'
down_revision = 'd7a3c5e19b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('event_summary', schema=None) as batch_op:
        batch_op.drop_column('booking')
