"""The citizen's status page /status/<token>: states in words, no personal data, cheap polling."""
import pytest

from botram.domain import queue
from botram.extensions import db
from botram.domain.queue_rules import QueueRules
from botram.models import Event

from .factories import make_desk, make_event, make_user, service
from .html_text import texts

NO_WAIT = QueueRules.defaults(no_show_min_seconds=0)  # these tests mark a no-show straight after the call
NIK = "3216061203900001"


@pytest.fixture
def world(app):
    event = make_event()
    desk1 = make_desk(event, 1, "DISDUKCAPIL", ["KK", "KTP-REKAM"])
    desk3 = make_desk(event, 3, "BAPENDA", ["PBB-BAYAR"])
    user = make_user("resepsionis")
    officer = make_user("petugas", "petugas1")
    return {"event": event, "desk1": desk1, "desk3": desk3, "user": user, "officer": officer}


def issue(world, *codes, **kwargs):
    kwargs.setdefault("by_user_id", world["user"].id)
    return queue.issue_visit(world["event"].id, [service(c).id for c in codes], **kwargs).visit


def test_unknown_token_is_a_friendly_404(client, app):
    for token in ("tidak-ada", "x" * 80):
        response = client.get(f"/status/{token}")
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Tiket tidak ditemukan" in body and "Pindai ulang kode QR" in body


def test_status_shows_code_states_people_ahead_and_desks_without_personal_data(client, world):
    issue(world, "KK")
    visit = issue(world, "KK", "PBB-BAYAR", name="Budi Santoso", nik=NIK, phone="081234567890",
                  priority="none")
    response = client.get(f"/status/{visit.public_token}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A-002" in body and "BOTRAM Uji" in body
    assert "Menunggu — 1 orang di depan Anda, sekitar 10 menit" in body
    assert "Menunggu — Anda berikutnya" in body  # PBB-BAYAR: nobody ahead
    assert "datang ke Loket 1 (Disdukcapil)" in body and "Loket 3 (Bapenda)" in body
    for secret in ("Budi", "Santoso", NIK, "3216****", "0812", "3456"):
        assert secret not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert 'hx-trigger="every 10s"' in body


def test_unchanged_version_answers_204_and_a_change_sends_the_fragment(client, world):
    visit = issue(world, "KK")
    version = db.session.get(Event, world["event"].id).queue_version
    headers = {"HX-Request": "true"}
    unchanged = client.get(f"/status/{visit.public_token}?v={version}", headers=headers)
    assert unchanged.status_code == 204 and unchanged.get_data() == b""
    issue(world, "KK", priority="lansia")  # a priority visitor goes ahead: the version moves
    changed = client.get(f"/status/{visit.public_token}?v={version}", headers=headers)
    body = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "<html" not in body
    assert "1 orang di depan Anda" in body and f"v={version + 1}" in body
    # A plain request with an old version still gets the whole page.
    assert client.get(f"/status/{visit.public_token}?v={version + 1}").status_code == 200


def test_called_serving_and_done_in_words_and_polling_slows_then_stops(client, world):
    visit = issue(world, "KK")
    url = f"/status/{visit.public_token}"
    step = queue.call_next(world["desk1"].id, by_user_id=world["officer"].id)
    assert step.visit_id == visit.id
    assert "Dipanggil ke Loket 1 (Disdukcapil)" in client.get(url).get_data(as_text=True)
    queue.start(step.id, by_user_id=world["officer"].id)
    assert "Sedang dilayani di Loket 1 (Disdukcapil)" in client.get(url).get_data(as_text=True)
    queue.finish(step.id, outcome="done", by_user_id=world["officer"].id)
    body = client.get(url).get_data(as_text=True)
    assert "Selesai" in body and "Semua layanan untuk tiket ini sudah selesai" in body
    # a desk or reception may still reopen the step today: the page keeps listening, more slowly
    assert 'hx-trigger="every 20s"' in body
    event = db.session.get(Event, world["event"].id)
    event.status = "closed"
    db.session.commit()
    assert "hx-trigger" not in client.get(url).get_data(as_text=True)


def test_no_show_and_cancelled_in_words(client, world):
    visit = issue(world, "KK", "PBB-BAYAR")
    step = queue.call_next(world["desk1"].id, by_user_id=world["officer"].id)
    queue.no_show(step.id, by_user_id=world["officer"].id, rules=NO_WAIT)
    body = client.get(f"/status/{visit.public_token}").get_data(as_text=True)
    assert "Tidak hadir saat dipanggil" in body and "meja pendaftaran" in body
    queue.cancel_visit(visit.id, by_user_id=world["user"].id)
    assert "Dibatalkan" in client.get(f"/status/{visit.public_token}").get_data(as_text=True)


def test_status_needs_no_login_and_is_not_indexed(client, world):
    visit = issue(world, "PBB-BAYAR")
    body = client.get(f"/status/{visit.public_token}").get_data(as_text=True)
    assert 'name="robots" content="noindex"' in body
    assert "Keluar" not in body  # no staff navigation


# ------------------------------------------------------------------ people ahead, the way the queue calls


def test_people_ahead_counts_every_service_of_the_desk_in_call_order(client, world):
    """Desk 1 calls KK and KTP-REKAM from one queue (priority rank, then arrival). Hand-derived:
    targets KK 10 min, KTP-REKAM 8 min, PBB-BAYAR 6 min; nothing measured yet; desk 1 is the only open
    desk offering KK."""
    v1 = issue(world, "KK")
    v2 = issue(world, "KK")                          # the ticket we follow
    v3 = issue(world, "KTP-REKAM", priority="lansia")  # arrives later, but priority, at the same desk
    v4 = issue(world, "KK")
    v5 = issue(world, "PBB-BAYAR")                   # another desk: never ahead of a KK ticket
    step2, step4 = v2.steps[0].id, v4.steps[0].id

    # v1 (KK, earlier) and v3 (KTP-REKAM, priority) are called before v2: 2 ahead, 10 + 8 = 18 minutes.
    assert queue.people_ahead(step2) == 2
    assert queue.estimated_wait_minutes(step2) == 18
    # v4: v1, v2, v3 ahead: 10 + 10 + 8 = 28.
    assert (queue.people_ahead(step4), queue.estimated_wait_minutes(step4)) == (3, 28)
    assert (queue.people_ahead(v5.steps[0].id), queue.estimated_wait_minutes(v5.steps[0].id)) == (0, 0)
    body = client.get(f"/status/{v2.public_token}").get_data(as_text=True)
    assert "Menunggu — 2 orang di depan Anda, sekitar 18 menit" in body

    # The board uses the same function: a regular visitor registering now for KK waits behind all four
    # waiting at desk 1: 3 × 10 + 8 = 38 minutes; PBB-BAYAR: 6.
    from botram.domain.board import board_state
    state = board_state(db.session.get(Event, world["event"].id))
    by_code = {s.code: s for s in state.services}
    assert by_code["KK"].estimated_minutes == 38 and by_code["KK"].waiting == 3
    assert by_code["KTP-REKAM"].estimated_minutes == 38
    assert by_code["PBB-BAYAR"].estimated_minutes == 6

    # A second open desk offering only KK shares the work: 18 / 2 = 9 minutes for v2; v3 is still ahead
    # (desk 1 may call it first).
    make_desk(world["event"], 2, "DISDUKCAPIL", ["KK"])
    assert (queue.people_ahead(step2), queue.estimated_wait_minutes(step2)) == (2, 9)

    # And call_next really calls them in that order at desk 1: v3, v1, then v2.
    officer = world["officer"].id
    called = []
    for _ in range(3):
        called.append(queue.call_next(world["desk1"].id, by_user_id=officer))
        if len(called) < 3:
            queue.finish(called[-1].id, outcome="done", by_user_id=officer)
    assert [s.visit_id for s in called] == [v3.id, v1.id, v2.id]
    assert queue.people_ahead(step4) == 0


def test_own_other_steps_are_not_people_ahead(world):
    """A visitor's own KTP-REKAM step at the same desk is not a person ahead of their KK step."""
    other = issue(world, "KK")
    mine = issue(world, "KTP-REKAM", "KK")
    kk = next(s for s in mine.steps if s.service_id == service("KK").id)
    assert queue.people_ahead(kk.id) == 1  # `other` only
    assert other.steps[0].id != kk.id


def test_a_called_step_comes_first_and_retitles_the_page(client, world):
    """The ticket's second service is called: it leads the page (banner and first card) above the
    waiting one, and the title, including the polled fragment's, names the desk."""
    issue(world, "KK")
    visit = issue(world, "KK", "PBB-BAYAR")
    url = f"/status/{visit.public_token}"
    assert texts(client.get(url).get_data(as_text=True), "title")[0].startswith(f"Tiket {visit.code}")
    step = queue.call_next(world["desk3"].id, by_user_id=world["officer"].id)
    assert step.visit_id == visit.id
    body = client.get(url).get_data(as_text=True)
    assert texts(body, "title")[0].startswith(f"Dipanggil ke Loket 3 — {visit.code}")
    banner, called_card, waiting_card = (body.index("Anda dipanggil"), body.index("Dipanggil ke Loket 3 (Bapenda)"),
                                         body.index("Menunggu — 1 orang di depan Anda"))
    assert banner < body.index('class="status-code') < called_card < waiting_card
    fragment = client.get(url + "?v=0", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("<title")  # htmx retitles the page from the fragment
    assert texts(fragment, "title")[0].startswith(f"Dipanggil ke Loket 3 — {visit.code}")
    assert "<html" not in fragment


def test_an_incomplete_step_is_not_done_on_the_phone_and_says_what_is_missing(client, world):
    visit = issue(world, "KK")
    step = queue.call_next(world["desk1"].id, by_user_id=world["officer"].id)
    requirements = [r for r in step.service.requirements if not r.optional]
    shown, missing = requirements[0], requirements[1:]
    queue.finish(step.id, outcome="incomplete", requirements_presented=[shown.id], by_user_id=world["officer"].id)
    body = client.get(f"/status/{visit.public_token}").get_data(as_text=True)
    assert 'class="status-step state-incomplete"' in body and "state-done" not in body
    assert "Belum selesai — berkas belum lengkap" in body
    assert all(r.text in body for r in missing) and shown.text not in body
    assert any(r.where_to_get and f"Didapat di: {r.where_to_get}" in body for r in missing)
    assert "Semua layanan untuk tiket ini sudah selesai" not in body
    assert "berkas belum lengkap: lihat yang perlu dilengkapi" in body


def test_the_status_lists_called_serving_waiting_then_finished_with_each_steps_service_and_desk(world):
    """At the domain (the page's cards come from it): most urgent first whatever the ticket's order, each step
    with its own service and position, a desk only while it is calling or serving."""
    officer = world["officer"].id
    bapenda = make_user("petugas", "petugas3", agency_code="BAPENDA").id
    visit = issue(world, "KK", "KTP-REKAM", "PBB-BAYAR")
    steps = {s.service.code: s for s in visit.steps}
    assert [steps[c].position for c in ("KK", "KTP-REKAM", "PBB-BAYAR")] == [0, 1, 2]
    kk = queue.call_next(world["desk1"].id, by_user_id=officer)
    assert kk.id == steps["KK"].id
    queue.finish(kk.id, by_user_id=officer, outcome="done")                   # the first service: finished
    called = queue.call_next(world["desk3"].id, by_user_id=bapenda)            # the last one: called
    assert called.id == steps["PBB-BAYAR"].id
    status = queue.visit_status(visit.public_token)
    assert [(v.service_code, v.status) for v in status.steps] == [
        ("PBB-BAYAR", "called"), ("KTP-REKAM", "waiting"), ("KK", "done")]
    views = {v.service_code: v for v in status.steps}
    for code, view in views.items():
        assert (view.step_id, view.position, view.service_id) == (steps[code].id, steps[code].position,
                                                                  service(code).id)
        assert view.service_name == service(code).name
    assert views["PBB-BAYAR"].desk_number == 3
    assert views["KK"].desk_number is None and views["KK"].desk_label is None  # finished: no desk to go to
    assert views["KTP-REKAM"].desk_number is None
    queue.start(called.id, by_user_id=bapenda)
    status = queue.visit_status(visit.public_token)
    assert [(v.service_code, v.status, v.desk_number) for v in status.steps] == [
        ("PBB-BAYAR", "serving", 3), ("KTP-REKAM", "waiting", None), ("KK", "done", None)]


def test_starting_records_who_serves_and_audits_the_step_at_its_desk(world):
    from botram.models import AuditLog, Step
    import sqlalchemy as sa

    issue(world, "KK")
    officer = world["officer"].id
    step = queue.start(queue.call_next(world["desk1"].id, by_user_id=officer).id, by_user_id=officer)
    db.session.expire_all()
    stored = db.session.get(Step, step.id)
    assert stored.status == "serving" and stored.served_by_id == officer and stored.started_at is not None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "step.start"))
    assert (entry.entity, entry.entity_id, entry.user_id, entry.event_id) == ("step", step.id, officer,
                                                                              world["event"].id)
    assert entry.detail["desk_id"] == world["desk1"].id
