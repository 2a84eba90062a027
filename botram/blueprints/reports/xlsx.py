"""The event report as an XLSX workbook: one sheet per table of the printed report (botram/xlsx.py writes it)."""
from __future__ import annotations

from ...domain.clock import to_wib
from ...domain.stats import EventReport
from ...web import status_label
from ...xlsx import Book


def _r(value, digits=1):
    return round(value, digits) if value is not None else None


def event_workbook(report: EventReport, booked_rows: list | None = None) -> bytes:
    event = report.event
    book = Book(f"Laporan {event.title}")
    bold = book.style(bold=True)
    ws = book.sheet("Ringkasan")
    ws.write_string(0, 0, "Laporan Kegiatan BOTRAM", book.style(bold=True, font_size=14))
    summary = [
        ("Kegiatan", event.title), ("Tanggal", event.date.isoformat()), ("Tempat", event.venue),
        ("Status", status_label(event.status)),
        ("Dibuat", to_wib(report.generated_at).strftime("%Y-%m-%d %H:%M WIB")),
        ("Kunjungan (tiket)", report.visits), ("Layanan diminta", report.steps),
        ("Selesai", report.completed), ("Belum lengkap", report.outcomes["incomplete"]),
        ("Tidak hadir", report.states["no_show"]),
        ("Masih menunggu", report.states["waiting"]), ("Tidak terlayani saat loket tutup", report.hours.unserved_total),
        ("Rata-rata tunggu (menit)", _r(report.wait.mean)), ("Persentil 90 tunggu (menit)", _r(report.wait.p90)),
        ("Rata-rata layanan (menit)", _r(report.service.mean)),
        ("Persentil 90 layanan (menit)", _r(report.service.p90)),
        ("IKM", float(report.ikm.ikm) if report.ikm.ikm is not None else None),
        ("Mutu pelayanan", f"{report.ikm.grade.letter} ({report.ikm.grade.label})" if report.ikm.grade else "–"),
        ("Responden", report.ikm.respondents), ("Sampel minimal (Krejcie–Morgan)", report.ikm.sample_required),
    ]
    for i, (label, value) in enumerate(summary, start=2):
        ws.write_string(i, 0, label, bold)
        book.cell(ws, i, 1, value)
    row = len(summary) + 3
    ws.write_string(row, 0, "Rekomendasi untuk kegiatan berikutnya", book.style(bold=True, font_size=12))
    wrap = book.style(text_wrap=True)
    for i, text in enumerate(report.hours.recommendations, start=1):
        ws.write_string(row + i, 0, f"{i}.")
        ws.write_string(row + i, 1, str(text), wrap)
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 100)

    agencies = report.hours.agencies
    ws = book.sheet("Per jam")
    headers = ["Jam (WIB)", "Kedatangan", "Loket buka"]
    for a in agencies:
        headers += [f"{a.name} permintaan", f"{a.name} kapasitas"]
    headers.append("Melebihi kapasitas")
    rows = []
    for h in report.hours.hours:
        line = [h.label, h.arrivals, h.open_desks]
        for a in agencies:
            line += [h.agencies[a.id].demand, round(h.agencies[a.id].capacity, 1)]
        line.append(", ".join(a.name for a in agencies if a.id in h.exceeded_agencies))
        rows.append(line)
    book.table(ws, headers, rows, widths=[11, 12, 11] + [14] * (2 * len(agencies)) + [28], flag=lambda r: bool(r[-1]))

    def group_rows(groups):
        return [[g.agency, g.name, g.visit_count, g.steps, g.completed, g.outcomes["incomplete"],
                 g.outcomes["referred"], g.states["no_show"], g.states["waiting"], g.states["cancelled"],
                 _r(g.wait.mean), _r(g.wait.p90), _r(g.service.mean), _r(g.service.p90)] for g in groups]

    headers = ["Instansi", "Layanan", "Kunjungan", "Layanan diminta", "Selesai", "Belum lengkap", "Dirujuk",
               "Tidak hadir", "Menunggu", "Dibatalkan", "Tunggu rata-rata", "Tunggu P90", "Layanan rata-rata",
               "Layanan P90"]
    book.table(book.sheet("Per layanan"), headers, group_rows(report.services), widths=[16, 40] + [12] * 12)
    book.table(book.sheet("Per instansi"), ["Instansi"] + headers[2:],
               [row[1:] for row in group_rows(report.agencies)], widths=[18] + [12] * 12)

    if booked_rows:
        book.table(book.sheet("Pesan vs langsung"),
                   ["Layanan", "Kunjungan terpesan", "Kunjungan datang langsung", "Median tunggu terpesan",
                    "Median tunggu datang langsung", "Pemesanan tidak datang"],
                   [[r.service, r.booked_visits, r.walk_in_visits, r.booked_wait, r.walk_in_wait, r.no_shows]
                    for r in booked_rows], widths=[40] + [16] * 5)

    ws = book.sheet("IKM")
    rows = [[str(e.label), float(e.nrr), float(e.converted), e.grade.letter, "ya" if e.lowest else ""]
            for e in report.ikm.elements]
    end = book.table(ws, ["Unsur", "NRR", "NRR × 25", "Mutu", "Terendah"], rows, widths=[28, 10, 12, 8, 10],
                     flag=lambda r: r[4] == "ya")
    groups = [["Instansi", g.name, g.result.respondents, g.result.sample_required,
               float(g.result.ikm) if g.result.ikm is not None else None,
               g.result.grade.letter if g.result.grade else ""] for g in report.ikm_agencies]
    groups += [["Layanan", g.name, g.result.respondents, g.result.sample_required,
                float(g.result.ikm) if g.result.ikm is not None else None,
                g.result.grade.letter if g.result.grade else ""] for g in report.ikm_services]
    book.table(ws, ["Tingkat", "Nama", "Responden", "Sampel minimal", "IKM", "Mutu"], groups, start=end + 1)
    ws.set_column(1, 1, 40)

    book.table(book.sheet("Tidak terlayani"),
               ["Instansi", "Layanan", "Jumlah", "Datang setelah tutup", "Loket terakhir tutup (WIB)"],
               [[r.agency_name, r.service_name, r.count, r.arrived_after_close,
                 to_wib(r.last_close).strftime("%H:%M") if r.last_close else "tidak dibuka"]
                for r in report.hours.unserved], widths=[16, 40, 10, 20, 24])

    book.table(book.sheet("Usulan lokasi"), ["Kode", "Desa/kelurahan", "Kecamatan", "Permintaan"],
               [[n.code, n.desa, n.kecamatan, n.requests] for n in report.next_locations], widths=[16, 32, 24, 12])
    return book.bytes()
