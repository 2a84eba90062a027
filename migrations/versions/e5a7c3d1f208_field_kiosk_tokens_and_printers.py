"""field sync: kiosk device tokens and their printers travel to a field laptop

A kiosk's token (its hash) and the printer attached to it go with an event's checkout, so the same kiosk works
against the laptop at a venue with no internet (docs/field-sync.md). Both tables get the stable `uuid` every
travelling row has; existing rows are given one here, as a3c9f1e2b7d4 did for the others.

Revision ID: e5a7c3d1f208
Revises: c4b8e21f9a57
Create Date: 2026-12-08 02:30:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c3d1f208'
down_revision = 'c4b8e21f9a57'
branch_labels = None
depends_on = None

TRAVELLING = ("api_token", "printer")


def _fill(table_name: str) -> None:
    conn = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("uuid", sa.String))
    update = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(uuid=sa.bindparam("new_uuid"))
    ids = list(conn.execute(sa.select(table.c.id).where(table.c.uuid.is_(None))).scalars())
    if ids:  # a handful of devices: one batch
        conn.execute(update, [{"row_id": row_id, "new_uuid": str(uuid.uuid4())} for row_id in ids])


def upgrade():
    for name in TRAVELLING:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
        _fill(name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{name}_uuid'), ['uuid'])


def downgrade():
    for name in reversed(TRAVELLING):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{name}_uuid'), type_='unique')
            batch_op.drop_column('uuid')
