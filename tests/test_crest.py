"""The regency's crest on printed letterheads: the admin uploads it, every letterhead carries it, a bad file
is refused next to the field, and removing it brings back the plain mark."""
from __future__ import annotations

import io
import struct
import zlib

import pytest

from botram.domain import crest, queue
from botram.extensions import db
from botram.models import AuditLog, Crest

from .conftest import count
from .factories import give, make_desk, make_event, make_sponsor, make_user, service


def png_bytes(size: int = 4) -> bytes:
    """A tiny valid RGB PNG, as an image editor would save it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(client, data: bytes, filename: str = "lambang.png"):
    return client.post("/admin/lambang", data={"image": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.fixture
def admin(client, auth):
    make_user("admin")
    auth.login("admin")
    return client


@pytest.fixture
def letter_pages(admin):
    """Every printed page with a letterhead: the thank-you letter, the receipt, the event report."""
    event = make_event()
    contribution = give(make_sponsor(), event, value="Rp 4.000.000", receipt="KW-001")
    db.session.commit()
    return lambda client: [client.get(f"/funding/contributions/{contribution.id}/letter").get_data(as_text=True),
            client.get(f"/funding/contributions/{contribution.id}/receipt").get_data(as_text=True),
            client.get(f"/reports/events/{event.id}").get_data(as_text=True)]


def test_an_uploaded_crest_is_on_every_letterhead_and_removing_it_brings_back_the_mark(admin, letter_pages):
    for page in letter_pages(admin):
        assert "crest-image" not in page and "<span>B</span>" in page

    image = png_bytes()
    response = upload(admin, image)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/lambang")
    row = db.session.get(Crest, crest.CREST_ID)
    assert row.content_type == "image/png" and row.size == len(image) and row.original_filename == "lambang.png"
    assert count(AuditLog, AuditLog.action == "crest.replace") == 1

    url = f"/lambang?v={crest.version()}"
    for page in letter_pages(admin):
        assert f'src="{url}"' in page and "<span>B</span>" not in page
    served = admin.get(url)
    assert served.data == image and served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"]
    assert admin.get("/lambang").headers["Cache-Control"] == "no-cache"

    assert admin.post("/admin/lambang/hapus").status_code == 303
    assert count(Crest) == 0 and count(AuditLog, AuditLog.action == "crest.remove") == 1
    assert admin.get("/lambang").status_code == 404
    for page in letter_pages(admin):
        assert "crest-image" not in page


def test_the_guidance_sheet_carries_the_crest(admin):
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI"])
    db.session.commit()
    queue.issue_visit(event.id, [service("AKTA-MATI").id], by_user_id=None)
    step = queue.call_next(desk.id, by_user_id=None)
    upload(admin, png_bytes())
    response = admin.get(f"/desk/{desk.id}/guidance/{step.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-3000:]
    assert "Surat Panduan Layanan" in page and f'src="/lambang?v={crest.version()}"' in page
    assert "<span>B</span>" not in page


@pytest.mark.parametrize("data, status, message", [
    (b"", 422, "Pilih berkas gambar lambang terlebih dahulu."),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415,
     "Unggah berkas PNG, JPEG, atau WebP."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (crest.MAX_UPLOAD_BYTES + 10), 413, "Berkas terlalu besar."),
])
def test_a_bad_upload_is_refused_next_to_the_field(admin, data, status, message):
    response = upload(admin, data, "lambang.svg")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and 'class="field-error"' in page
    assert count(Crest) == 0 and count(AuditLog, AuditLog.action == "crest.replace") == 0


def test_a_post_without_a_file_field_is_refused_not_a_500(admin):
    response = admin.post("/admin/lambang", data={})
    assert response.status_code == 422 and "Pilih berkas gambar" in response.get_data(as_text=True)


def test_a_new_crest_gets_a_new_url(admin):
    upload(admin, png_bytes(4))
    first = crest.version()
    upload(admin, png_bytes(6))
    assert crest.version() != first and count(Crest) == 1
    assert admin.get(f"/lambang?v={first}").headers["Cache-Control"] == "no-cache"
