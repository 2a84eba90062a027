"""Demo funding data: sponsors of every kind, cash and in-kind contributions, budget lines for the demo event
and the past events, and this year's APBD target. Idempotent: does nothing once the demo sponsors exist."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ...extensions import db
from ...models import BudgetLine, Event, FundingTarget, Sponsor, User
from ..clock import today_wib
from ..demo import DEMO_TITLE, PAST_EVENTS
from ..uow import unit_of_work
from .budget import BudgetLineInput, add_budget_line, set_target
from .contributions import ContributionInput, ItemInput, record_contribution
from .sponsors import SponsorInput, create_sponsor

# (name, kind, sector, contact, phone, email, npwp, public_thanks)
SPONSORS = [
    ("Perumda Tirta Bhagasasi", "bumd", "Air minum", "Bagian Umum dan CSR", "021-8832 1234",
     "csr@tirtabhagasasi.example", "01.234.567.8-431.000", True),
    ("PT Sinar Industri Cikarang", "csr", "Manufaktur", "Divisi CSR", "0812-8000-1122",
     "csr@sinarindustri.example", "02.345.678.9-413.000", True),
    ("PT Logistik Deltamas Raya", "csr", "Logistik", "Humas", "0813-1100-2233", "humas@deltamasraya.example",
     "", False),
    ("Paguyuban Pedagang Pasar Bersih", "community", "Perdagangan", "Ketua Paguyuban", "0857-1234-5678", "", "",
     True),
    ("Karang Taruna Desa Sukadami", "community", "Kepemudaan", "Ketua Karang Taruna", "0821-2233-4455", "", "",
     True),
    ("Klinik Pratama Sehat Bersama", "other", "Kesehatan", "Kepala Klinik", "021-8990 5566", "", "", True),
    ("H. Ahmad Subagja", "individual", "Perorangan", "", "0811-9090-8080", "", "", False),
]

BUDGET = [  # (category, description, planned, actual share of planned in percent for past events)
    ("tents", "Sewa tenda 6 x 12 m, 4 unit", 18_000_000, 100),
    ("sound", "Pengeras suara dan layar antrean", 6_000_000, 95),
    ("chairs", "Kursi dan meja loket, 120 kursi / 12 meja", 4_500_000, 100),
    ("food", "Konsumsi petugas, 60 orang", 7_500_000, 90),
    ("printing", "Spanduk, formulir, dan tiket antrean", 2_500_000, 110),
    ("honoraria", "Honorarium petugas lapangan", 12_000_000, 100),
    ("health", "Bahan habis pakai pemeriksaan kesehatan", 3_000_000, 85),
]


@unit_of_work(audited=False)  # reference and demo data: no person's action
def seed_demo_funding() -> None:
    if db.session.scalar(sa.select(Sponsor.id).where(Sponsor.name == SPONSORS[0][0])) is not None:
        return
    clerk = db.session.scalar(sa.select(User.id).where(User.username == "keuangan"))
    coordinator = db.session.scalar(sa.select(User.id).where(User.username == "koordinator"))
    today = today_wib()
    sponsors = {}
    for name, kind, sector, contact, phone, email, npwp, thanks in SPONSORS:
        sponsors[name] = create_sponsor(SponsorInput(
            name=name, kind=kind, sector=sector, contact_person=contact, phone=phone, email=email, npwp=npwp,
            address="Kabupaten Bekasi", public_thanks=thanks), by_user_id=clerk)
    by_name = sponsors

    demo = db.session.scalar(sa.select(Event).where(Event.title == DEMO_TITLE))
    past = [db.session.scalar(sa.select(Event).where(Event.title == title)) for title, *_ in PAST_EVENTS]
    receipt = iter(range(1, 1000))

    def number() -> str:
        return f"KW/BOTRAM/{today.year}/{next(receipt):03d}"

    def lines(event: Event, actual: bool, scale: int = 100) -> dict[str, BudgetLine]:
        made = {}
        for category, description, planned, pct in BUDGET:
            amount = planned * scale // 100
            made[category] = add_budget_line(event, BudgetLineInput(
                category=category, description=description, planned_text=str(amount),
                actual_text=str(amount * pct // 100) if actual else ""), by_user_id=clerk)
        return made

    def give(sponsor: str, event: Event | None, form: str, value: int, *, received: bool, days_before: int = 2,
             **extra) -> None:
        day = event.date if event is not None and event.date <= today else today
        pledged = day - timedelta(days=days_before + 10)
        data = ContributionInput(
            sponsor_id=by_name[sponsor].id, event_id=event.id if event else None, form=form,
            value_text=str(value), status="received" if received else "pledged", pledged_on=pledged,
            received_on=day - timedelta(days=days_before) if received else None,
            receipt_number=number() if received else "", **extra)
        record_contribution(data, by_user_id=clerk)

    def goods(*rows):
        return [ItemInput(name=n, quantity=q, unit=u) for n, q, u in rows]

    if demo is not None:
        made = lines(demo, actual=False)
        give("Perumda Tirta Bhagasasi", demo, "cash", 15_000_000, received=True, description="Dana CSR kegiatan")
        give("PT Sinar Industri Cikarang", demo, "in_kind", 16_000_000, received=True, category="goods",
             description="Tenda dan kursi untuk area layanan", claimed_text="18.500.000",
             valuation_basis="Harga sewa pasar dari 3 penyedia di Cikarang, November", bast_number="BAST/CSR/041",
             budget_line_id=made["tents"].id,
             items=goods(("Tenda 6 x 12 m", 4, "unit"), ("Kursi lipat", 120, "buah")))
        give("Paguyuban Pedagang Pasar Bersih", demo, "in_kind", 3_000_000, received=False, category="food",
             description="Air minum dan makan siang petugas", valuation_basis="Harga satuan nasi kotak Rp 25.000",
             items=goods(("Nasi kotak", 120, "kotak")))
        give("PT Logistik Deltamas Raya", demo, "cash", 10_000_000, received=False, description="Komitmen CSR")
        give("Klinik Pratama Sehat Bersama", demo, "in_kind", 2_500_000, received=True, category="health",
             description="Alat cek gula darah dan tensimeter", valuation_basis="Harga katalog e-katalog",
             bast_number="BAST/KES/007", budget_line_id=made["health"].id,
             items=goods(("Strip gula darah", 200, "strip"), ("Tensimeter digital", 2, "unit")))
    for index, event in enumerate(e for e in past if e is not None):
        lines(event, actual=True, scale=(90, 75, 60)[index % 3])
        give("Perumda Tirta Bhagasasi", event, "cash", (12_000_000, 8_000_000, 5_000_000)[index % 3],
             received=True, description="Dana CSR kegiatan")
        if index == 0:
            give("Karang Taruna Desa Sukadami", event, "in_kind", 4_000_000, received=True, category="venue",
                 description="Balai desa dan tenaga relawan", valuation_basis="Tarif sewa balai desa",
                 bast_number="BAST/KT/002", items=goods(("Sewa balai desa", 1, "hari"), ("Relawan", 10, "orang")))
            give("PT Sinar Industri Cikarang", event, "cash", 20_000_000, received=True,
                 description="Dana CSR kegiatan")
        if index == 1:
            give("PT Logistik Deltamas Raya", event, "in_kind", 5_000_000, received=True, category="transport",
                 description="Angkutan peralatan dan petugas", valuation_basis="Tarif sewa truk harian",
                 bast_number="BAST/LOG/015", items=goods(("Truk engkel", 2, "hari")))
            give("H. Ahmad Subagja", event, "cash", 2_000_000, received=False, description="Sumbangan pribadi")
    give("Perumda Tirta Bhagasasi", None, "cash", 25_000_000, received=True, days_before=0,
         description="Dana CSR program BOTRAM tahunan")
    if db.session.get(FundingTarget, today.year) is None:
        set_target(today.year, "60", by_user_id=coordinator)
