"""The event report as an XLSX workbook (openpyxl): one sheet per table of the printed report."""
from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ...domain.clock import to_wib
from ...domain.stats import EventReport
from ...web import status_label

HEAD = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="0F4C5C")
WARN_FILL = PatternFill("solid", fgColor="FDE8E6")
TITLE = Font(bold=True, size=14)


def _table(ws, headers: list[str], rows: list[list], widths: list[int] | None = None, start: int = 1,
           flag=None) -> int:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=start, column=col, value=text)
        cell.font, cell.fill = HEAD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r, row in enumerate(rows, start=start + 1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, float):
                cell.number_format = "0.00"
            if flag and flag(row):
                cell.fill = WARN_FILL
    for col, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    return start + len(rows) + 1


def _r(value, digits=1):
    return round(value, digits) if value is not None else None


def event_workbook(report: EventReport) -> bytes:
    event = report.event
    wb = Workbook()
    ws = wb.active
    ws.title = "Ringkasan"
    ws["A1"] = "Laporan Kegiatan BOTRAM"
    ws["A1"].font = TITLE
    summary = [
        ("Kegiatan", event.title), ("Tanggal", event.date.isoformat()), ("Tempat", event.venue),
        ("Status", status_label(event.status)),
        ("Dibuat", to_wib(report.generated_at).strftime("%Y-%m-%d %H:%M WIB")),
        ("Kunjungan (tiket)", report.visits), ("Layanan diminta", report.steps),
        ("Selesai", report.states["done"]), ("Tidak hadir", report.states["no_show"]),
        ("Masih menunggu", report.states["waiting"]), ("Tidak terlayani saat loket tutup", report.hours.unserved_total),
        ("Rata-rata tunggu (menit)", _r(report.wait.mean)), ("Persentil 90 tunggu (menit)", _r(report.wait.p90)),
        ("Rata-rata layanan (menit)", _r(report.service.mean)),
        ("Persentil 90 layanan (menit)", _r(report.service.p90)),
        ("IKM", float(report.ikm.ikm) if report.ikm.ikm is not None else None),
        ("Mutu pelayanan", f"{report.ikm.grade.letter} ({report.ikm.grade.label})" if report.ikm.grade else "–"),
        ("Responden", report.ikm.respondents), ("Sampel minimal (Krejcie–Morgan)", report.ikm.sample_required),
    ]
    for i, (label, value) in enumerate(summary, start=3):
        ws.cell(row=i, column=1, value=label).font = Font(bold=True)
        ws.cell(row=i, column=2, value=value)
    row = len(summary) + 4
    ws.cell(row=row, column=1, value="Rekomendasi untuk kegiatan berikutnya").font = Font(bold=True, size=12)
    for i, text in enumerate(report.hours.recommendations, start=row + 1):
        ws.cell(row=i, column=1, value=f"{i - row}.")
        ws.cell(row=i, column=2, value=str(text)).alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 100

    agencies = report.hours.agencies
    ws = wb.create_sheet("Per jam")
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
    _table(ws, headers, rows, [11, 12, 11] + [14] * (2 * len(agencies)) + [28], flag=lambda r: bool(r[-1]))

    def group_rows(groups):
        return [[g.agency, g.name, len(g.visits), g.steps, g.states["done"], g.outcomes["incomplete"],
                 g.outcomes["referred"], g.states["no_show"], g.states["waiting"], g.states["cancelled"],
                 _r(g.wait.mean), _r(g.wait.p90), _r(g.service.mean), _r(g.service.p90)] for g in groups]

    headers = ["Instansi", "Layanan", "Kunjungan", "Layanan diminta", "Selesai", "Belum lengkap", "Dirujuk",
               "Tidak hadir", "Menunggu", "Dibatalkan", "Tunggu rata-rata", "Tunggu P90", "Layanan rata-rata",
               "Layanan P90"]
    _table(wb.create_sheet("Per layanan"), headers, group_rows(report.services), [16, 40] + [12] * 12)
    _table(wb.create_sheet("Per instansi"), ["Instansi"] + headers[2:],
           [row[1:] for row in group_rows(report.agencies)], [18] + [12] * 12)

    ws = wb.create_sheet("IKM")
    rows = [[str(e.label), float(e.nrr), float(e.converted), e.grade.letter, "ya" if e.lowest else ""]
            for e in report.ikm.elements]
    end = _table(ws, ["Unsur", "NRR", "NRR × 25", "Mutu", "Terendah"], rows, [28, 10, 12, 8, 10],
                 flag=lambda r: r[4] == "ya")
    groups = [["Instansi", g.name, g.result.respondents, g.result.sample_required,
               float(g.result.ikm) if g.result.ikm is not None else None,
               g.result.grade.letter if g.result.grade else ""] for g in report.ikm_agencies]
    groups += [["Layanan", g.name, g.result.respondents, g.result.sample_required,
                float(g.result.ikm) if g.result.ikm is not None else None,
                g.result.grade.letter if g.result.grade else ""] for g in report.ikm_services]
    _table(ws, ["Tingkat", "Nama", "Responden", "Sampel minimal", "IKM", "Mutu"], groups, start=end + 2)
    ws.column_dimensions["B"].width = 40

    ws = wb.create_sheet("Tidak terlayani")
    _table(ws, ["Instansi", "Layanan", "Jumlah", "Datang setelah tutup", "Loket terakhir tutup (WIB)"],
           [[r.agency_name, r.service_name, r.count, r.arrived_after_close,
             to_wib(r.last_close).strftime("%H:%M") if r.last_close else "tidak dibuka"]
            for r in report.hours.unserved], [16, 40, 10, 20, 24])

    ws = wb.create_sheet("Usulan lokasi")
    _table(ws, ["Kode", "Desa/kelurahan", "Kecamatan", "Permintaan"],
           [[n.code, n.desa, n.kecamatan, n.requests] for n in report.next_locations], [16, 32, 24, 12])

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
