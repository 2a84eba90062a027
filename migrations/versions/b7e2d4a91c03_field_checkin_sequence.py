"""field sync: check-ins numbered per checkout (the laptop's count, not its clock, orders them)

Revision ID: b7e2d4a91c03
Revises: a3c9f1e2b7d4
Create Date: 2026-12-07 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4a91c03'
down_revision = 'a3c9f1e2b7d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('field_checkout', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('field_checkout', schema=None) as batch_op:
        batch_op.drop_column('sequence')
