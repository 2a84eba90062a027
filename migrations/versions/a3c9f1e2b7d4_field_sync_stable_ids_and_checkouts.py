"""field sync: a stable UUID on every row that travels, the install's identity, event checkouts

Rows that travel between the regency server and a field laptop (docs/field-sync.md) get a `uuid` besides
their integer key. Existing rows are given one here, in batches, before the column becomes NOT NULL and
unique; batch mode makes the same steps work on SQLite.

Revision ID: a3c9f1e2b7d4
Revises: fc9de70fd662
Create Date: 2026-12-01 09:00:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa
import botram.models.types


# revision identifiers, used by Alembic.
revision = 'a3c9f1e2b7d4'
down_revision = 'fc9de70fd662'
branch_labels = None
depends_on = None

TRAVELLING = ("agency", "service", "requirement", "life_event_package", "user", "event", "desk", "visit", "step",
              "survey_response", "audit_log")
BATCH = 1000


def _fill(table_name: str) -> None:
    conn = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("uuid", sa.String))
    update = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(uuid=sa.bindparam("new_uuid"))
    while True:
        ids = list(conn.execute(sa.select(table.c.id).where(table.c.uuid.is_(None)).order_by(table.c.id)
                                .limit(BATCH)).scalars())
        if not ids:
            return
        conn.execute(update, [{"row_id": row_id, "new_uuid": str(uuid.uuid4())} for row_id in ids])


def upgrade():
    for name in TRAVELLING:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
        _fill(name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{name}_uuid'), ['uuid'])

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pii_purged_at', botram.models.types.UTCDateTime(), nullable=True))

    op.create_table('install',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', botram.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_install')),
    sa.UniqueConstraint('uuid', name=op.f('uq_install_uuid'))
    )
    op.create_table('field_checkout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=4), nullable=False),
    sa.Column('device', sa.String(length=80), nullable=False),
    sa.Column('peer_install', sa.String(length=36), nullable=True),
    sa.Column('since', botram.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_checkin_at', botram.models.types.UTCDateTime(), nullable=True),
    sa.Column('checkins', sa.Integer(), nullable=False),
    sa.Column('released_at', botram.models.types.UTCDateTime(), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_user_id'], ['user.id'], name=op.f('fk_field_checkout_by_user_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_field_checkout_event_id_event'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_checkout'))
    )
    with op.batch_alter_table('field_checkout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_checkout_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('field_checkout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_checkout_event_id'))
    op.drop_table('field_checkout')
    op.drop_table('install')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('pii_purged_at')
    for name in reversed(TRAVELLING):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{name}_uuid'), type_='unique')
            batch_op.drop_column('uuid')
