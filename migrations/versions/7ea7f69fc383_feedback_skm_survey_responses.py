"""feedback: SKM survey responses

Revision ID: 7ea7f69fc383
Revises: 335a80308fab
Create Date: 2026-11-28 02:28:41.135178

"""
from alembic import op
import sqlalchemy as sa
import botram.models.types


# revision identifiers, used by Alembic.
revision = '7ea7f69fc383'
down_revision = '335a80308fab'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: one table, checks keep each score in 1..4 on SQLite and PostgreSQL alike.
    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('persyaratan', sa.SmallInteger(), nullable=False),
    sa.Column('prosedur', sa.SmallInteger(), nullable=False),
    sa.Column('waktu', sa.SmallInteger(), nullable=False),
    sa.Column('biaya', sa.SmallInteger(), nullable=False),
    sa.Column('produk', sa.SmallInteger(), nullable=False),
    sa.Column('kompetensi', sa.SmallInteger(), nullable=False),
    sa.Column('perilaku', sa.SmallInteger(), nullable=False),
    sa.Column('sarana', sa.SmallInteger(), nullable=False),
    sa.Column('pengaduan', sa.SmallInteger(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('age_band', sa.String(length=8), nullable=True),
    sa.Column('education', sa.String(length=12), nullable=True),
    sa.Column('occupation', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('next_desa_code', sa.String(length=13), nullable=True),
    sa.Column('created_at', botram.models.types.UTCDateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('biaya BETWEEN 1 AND 4', name=op.f('ck_survey_response_biaya_range')),
    sa.CheckConstraint('kompetensi BETWEEN 1 AND 4', name=op.f('ck_survey_response_kompetensi_range')),
    sa.CheckConstraint('pengaduan BETWEEN 1 AND 4', name=op.f('ck_survey_response_pengaduan_range')),
    sa.CheckConstraint('perilaku BETWEEN 1 AND 4', name=op.f('ck_survey_response_perilaku_range')),
    sa.CheckConstraint('persyaratan BETWEEN 1 AND 4', name=op.f('ck_survey_response_persyaratan_range')),
    sa.CheckConstraint('produk BETWEEN 1 AND 4', name=op.f('ck_survey_response_produk_range')),
    sa.CheckConstraint('prosedur BETWEEN 1 AND 4', name=op.f('ck_survey_response_prosedur_range')),
    sa.CheckConstraint('sarana BETWEEN 1 AND 4', name=op.f('ck_survey_response_sarana_range')),
    sa.CheckConstraint('waktu BETWEEN 1 AND 4', name=op.f('ck_survey_response_waktu_range')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user.id'], name=op.f('fk_survey_response_entered_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_survey_response_event_id_event')),
    sa.ForeignKeyConstraint(['next_desa_code'], ['region.code'], name=op.f('fk_survey_response_next_desa_code_region')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_survey_response_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_survey_response_visit_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_response_next_desa_code'), ['next_desa_code'], unique=False)



def downgrade():
    # Reviewed: one table, checks keep each score in 1..4 on SQLite and PostgreSQL alike.
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_next_desa_code'))
        batch_op.drop_index(batch_op.f('ix_survey_response_event_id'))

    op.drop_table('survey_response')
