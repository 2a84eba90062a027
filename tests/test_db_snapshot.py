"""The fuzzers' "a refusal saves nothing" (conftest.fingerprint) sees updates, not only inserts and deletes."""
import sqlalchemy as sa

from botram.extensions import db
from botram.models import ApiToken, Service

from .conftest import fingerprint
from .db_snapshot import Snapshots, changed_tables, dump
from .factories import bearer, make_user, service


def test_an_update_that_keeps_counts_and_ids_changes_the_fingerprint(app):
    before = fingerprint()
    kk = service("KK")
    db.session.execute(sa.update(Service).where(Service.id == kk.id).values(name=kk.name + " (diubah)"))
    db.session.commit()
    assert changed_tables(before, fingerprint()) == ["service"]


def test_a_changed_number_is_seen_by_the_fingerprint_and_the_dump(app):
    rows = dump()["service"]
    assert rows, "the catalogue is seeded"
    before = fingerprint()
    kk = service("KK")
    db.session.execute(sa.update(Service).where(Service.id == kk.id).values(target_minutes=kk.target_minutes + 1))
    db.session.commit()
    assert fingerprint()["service"] != before["service"]
    assert dump()["service"] != rows


def test_when_a_token_or_session_was_last_seen_is_not_a_change(app):
    headers = bearer(make_user("koordinator"))
    assert headers
    before = fingerprint()
    db.session.execute(sa.update(ApiToken).values(last_used_at=sa.func.current_timestamp()))
    db.session.commit()
    assert changed_tables(before, fingerprint()) == []


def test_the_fuzzers_reads_are_taken_again_after_any_write_and_only_then(app):
    """Snapshots (the form fuzz's before/after reads) may skip a read only while no statement could have written:
    a read leaves the cache alone; an UPDATE, and a write rolled back, make the next read fresh."""
    snapshots = Snapshots(db.engine)
    taken: list[int] = []

    def take() -> int:
        taken.append(1)
        return len(taken)

    try:
        assert snapshots.read("k", take) == 1
        db.session.execute(sa.select(Service.id)).all()
        db.session.rollback()
        assert snapshots.read("k", take) == 1
        service = db.session.scalars(sa.select(Service).order_by(Service.id)).first()
        service.name = service.name + " (ubah)"
        db.session.commit()
        assert snapshots.read("k", take) == 2
        service.name = "dibatalkan"
        db.session.flush()
        db.session.rollback()
        assert snapshots.read("k", take) == 3
        assert snapshots.read("other", take) == 4 and snapshots.read("other", take) == 4
    finally:
        snapshots.close()
