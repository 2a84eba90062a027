"""The coordinator's field-sync page in Chromium: a laptop came back without a network, its check-in file is
uploaded on the page, and the event's visitors appear in the regency view (docs/field-sync.md)."""
from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from .conftest import login, screenshot
from .refusals import expect_refusal
from .field_laptop import Laptop

EVENT = "BOTRAM Pasar Bersih Jababeka"



def test_the_coordinator_uploads_a_laptops_file_and_sees_the_event_in_the_regency_view(field_server, new_page,
                                                                                       tmp_path):
    token = field_server.cli("create-token", "koordinator").strip().splitlines()[-1]
    with urllib.request.urlopen(field_server.url + "/api/v1/events?status=open") as response:
        event_id = json.loads(response.read())[0]["id"]
    laptop = Laptop(tmp_path / "laptop")
    pulled = laptop.botram("field", "pull", "--server", field_server.url, "--token", token, "--event",
                           str(event_id), "--device", "laptop-cikarang-1")
    local_event = int(re.search(r"event (\d+) \(", pulled.stdout).group(1))
    served = laptop.serve_visitors(local_event, 4)
    bundle = laptop.export_checkin(local_event, tmp_path / "cikarang-sore.botram")

    page = new_page(1366, 768)
    login(page, field_server.url, "koordinator")
    page.get_by_role("link", name="Lapangan").click()
    row = page.locator(f"#event-{event_id}")
    expect(row).to_contain_text("Di laptop laptop-cikarang-1")  # where the event is while it is out
    screenshot(page, "field-upload-page")

    page.get_by_label("Berkas dari laptop lapangan").set_input_files(str(bundle))
    page.get_by_role("button", name="Unggah dan masukkan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Berkas lapangan dimasukkan")
    expect(page.locator(".lede")).to_contain_text(EVENT)
    screenshot(page, "field-upload-report")

    page.get_by_role("link", name="Lihat laporan kabupaten").click()
    event_row = page.locator("tr", has_text=EVENT).first
    expect(event_row).to_be_visible()
    expect(event_row.locator("td.num").nth(1)).to_have_text(str(len(served)))
    screenshot(page, "field-regency-view")

    # the same file again changes nothing, and the page says so
    page.goto(field_server.url + "/lapangan/")
    page.get_by_label("Berkas dari laptop lapangan").set_input_files(str(bundle))
    page.get_by_role("button", name="Unggah dan masukkan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Berkas ini sudah pernah dimasukkan")

    # a file that is no bundle gets a message next to the field, not an error page
    expect_refusal(page, 422, r"/lapangan/impor")
    junk = tmp_path / "foto.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0 bukan bundel")
    page.goto(field_server.url + "/lapangan/")
    page.get_by_label("Berkas dari laptop lapangan").set_input_files(str(junk))
    page.get_by_role("button", name="Unggah dan masukkan").click()
    expect(page.locator(".field-error")).to_be_visible()
    screenshot(page, "field-upload-refused")
