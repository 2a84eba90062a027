"""The shapes of /api/v1, declared once: pydantic models that validate what comes in and what goes out, and
from which spectree builds the OpenAPI 3.1 document (spec.py). Field names are a stable interface
(docs/architecture.md): extend, never rename.

Request models are strict (JSON says 5, not "5"; true is not 1) and ignore keys they do not know, as the API
always has. Answer models are validated from the ORM rows themselves (`from_attributes`; a field that lives
elsewhere on the row names its path, e.g. a step's `service` is `step.service.code`), so an answer is never
written out by hand beside its model; a view returns the model (`answer()`), and spectree sends it as it is. When a request breaks one, the client gets 422 (400 for a query parameter) naming the field, in
Indonesian: FIELD_MESSAGES holds a sentence for a field whose rule deserves one, spec.py a general sentence per
kind of mistake otherwise. No response model has a citizen's name, NIK or phone.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, \
    RootModel, WithJsonSchema, create_model, model_validator

from ...domain.clock import to_wib
from ...models import DeskState, EventStatus, Priority, StepStatus, UNSUR_KEYS

MAX_ID = 2**31 - 1  # PostgreSQL `integer`: a larger id would make the database raise, not answer "unknown"


def _drop_titles(schema: dict[str, Any]) -> None:
    """pydantic titles every property after its Python name; the document needs only the names."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class ApiModel(BaseModel):
    """A JSON body or answer: strict types, unknown keys ignored; an answer is read from the ORM row's attributes."""
    model_config = ConfigDict(strict=True, json_schema_extra=_drop_titles, from_attributes=True,
                              populate_by_name=True)


class Extra:
    """A row with a few more attributes for its answer (`Extra(desk, step=current)`): what the answer needs that
    the row does not hold, named once, instead of copying every field of the row into a dict."""

    def __init__(self, row, **more):
        self._row, self._more = row, more

    def __getattr__(self, name):
        return self._more[name] if name in self._more else getattr(self._row, name)


class QueryModel(BaseModel):
    """Query parameters arrive as text: parsed, not strict. An empty value means the parameter was not given."""
    model_config = ConfigDict(json_schema_extra=_drop_titles, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data


def _literal(values):
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _values(enum) -> list[str]:
    return [member.value for member in enum]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
DeskStateName = _literal(_values(DeskState))
EventStatusName = _literal(_values(EventStatus))
_TIMESTAMP_DOC = "ISO 8601 with the WIB offset, e.g. 2026-11-28T08:00:00+07:00."
Timestamp = Annotated[dt.datetime,
                      PlainSerializer(lambda value: to_wib(value).isoformat(timespec="seconds"), return_type=str,
                                      when_used="json"),
                      WithJsonSchema({"type": "string", "format": "date-time", "description": _TIMESTAMP_DOC})]
"""Stored in UTC, said with the WIB offset (the wall clock people see)."""


def _iso_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _ascii_digits(value: Any) -> Any:
    """A whole number in a query: ASCII digits only (no sign, no decimals, no other scripts' digits)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("digits")
    return value


QueryDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", json_schema_extra={"format": "date"}),
                      AfterValidator(_iso_date)]

# --- the error shape --------------------------------------------------------------------------------


class Error(ApiModel):
    """Every refusal: `{"error", "detail", "field"?}` (errors.py builds it)."""
    error: str = Field(description="A short stable code: bad_request, unauthorized, forbidden, not_found, "
                       "method_not_allowed, conflict, invalid, too_many_requests, server_error (errors before "
                       "routing may carry a short Indonesian title instead).", examples=["not_found"])
    detail: Any = Field(description="Indonesian text for people (usually a string).",
                        examples=["Kegiatan tidak ditemukan."])
    field: str | None = Field(None, description="The request field at fault, when there is one.")


# --- shared references ------------------------------------------------------------------------------


class AgencyRef(ApiModel):
    """An OPD (agency)."""
    id: int
    code: str = Field(examples=["DISDUKCAPIL"])
    name: str
    short_name: str | None = Field(None, examples=["Disdukcapil"])
    color: str | None = Field(None, pattern=r"^#[0-9A-Fa-f]{6}$", description="Display colour.")


class ServiceRef(ApiModel):
    id: int
    code: str = Field(examples=["AKTA-MATI"])
    name: str


class RegionRef(ApiModel):
    """A Kemendagri region (kecamatan or desa/kelurahan)."""
    code: str = Field(examples=["32.16.05"])
    name: str


# --- events (events_routes.py) ----------------------------------------------------------------------


class EventsQuery(QueryModel):
    status: EventStatusName | None = None  # type: ignore[valid-type]
    from_: QueryDate | None = Field(None, alias="from", description="Events on or after (yyyy-mm-dd).")
    to: QueryDate | None = Field(None, description="Events on or before (yyyy-mm-dd).")


class EventSummary(ApiModel):
    id: int
    title: str
    date: dt.date = Field(description="yyyy-mm-dd (WIB).")
    status: EventStatusName  # type: ignore[valid-type]
    venue: str
    kecamatan: RegionRef | None = None
    desa: RegionRef | None = None
    opens_at: Timestamp | None = None
    closes_at: Timestamp | None = None


class Desk(ApiModel):
    id: int
    label: str = Field(examples=["Loket 1 Disdukcapil"])
    agency: AgencyRef
    services: list[ServiceRef]
    state: DeskStateName  # type: ignore[valid-type]
    number: int | None = Field(None, ge=1)
    opens_at: Timestamp | None = None
    closes_at: Timestamp | None = None


class EventService(ApiModel):
    id: int
    code: str
    name: str
    agency: AgencyRef
    open_desks: int | None = Field(None, ge=0, description="Desks offering it that are open right now.")


class EventList(RootModel[list[EventSummary]]):
    """Events, by date."""


class DeskList(RootModel[list[Desk]]):
    """Desks, by number."""


class EventServiceList(RootModel[list[EventService]]):
    """Services, each once."""

# --- queue (queue_routes.py) ------------------------------------------------------------------------


PRIORITIES = ("none", *(p for p in _values(Priority) if p != "none"))


class VisitRequest(ApiModel):
    services: list[Id] = Field(min_length=1, description="Service ids offered at the event, in the order the "
                               "citizen will go.")
    priority: _literal(PRIORITIES) = "none"  # type: ignore[valid-type]
    name: str | None = Field(None, max_length=120)
    nik: str | None = Field(None, max_length=32, description="16 digits; malformed is refused (422), odd only warns.")
    phone: str | None = Field(None, max_length=32)
    notify: bool = Field(False, description="The citizen asked for messages to `phone` when the turn is near and "
                         "when called (a mobile number is then required, 422 otherwise). Ignored while the server "
                         "has no message gateway (BOTRAM_NOTIFY_URLS).")
    locale: _literal(("id", "en")) = Field("id", description="The language of those messages.")  # type: ignore[valid-type]


class VisitStep(ApiModel):
    id: int
    service: str = Field(description="The service code.", examples=["AKTA-MATI"],
                         validation_alias=AliasPath("service", "code"))
    service_name: str | None = Field(None, validation_alias=AliasPath("service", "name"))
    status: str


class Visit(ApiModel):
    id: int
    code: str = Field(examples=["A-047"])
    status_url: str = Field(description="The citizen's status page (the ticket's QR code).")
    steps: list[VisitStep]
    warnings: list[str] = Field(default_factory=list,
                                description="Indonesian warnings, e.g. a NIK from outside the regency.")


class CalledStep(ApiModel):
    step_id: int = Field(validation_alias="id")
    visit_code: str = Field(validation_alias=AliasPath("visit", "code"))
    service: str = Field(description="The service code.", validation_alias=AliasPath("service", "code"))
    service_name: str | None = Field(None, validation_alias=AliasPath("service", "name"))
    desk: int | None = Field(None, description="The desk number that called.",
                             validation_alias=AliasPath("desk", "number"))


OUTCOMES = ("done", "incomplete", "referred")


class FinishRequest(ApiModel):
    outcome: _literal(OUTCOMES)  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=1000)
    requirements: list[Id] | None = Field(None, description="Ids of the service's requirements the citizen "
                                          "presented.")
    amount: int | None = Field(None, ge=0, le=2**63 - 1,
                               description="Integer rupiah, only for services that record an amount.")


class ReopenRequest(ApiModel):
    reason: str = Field(min_length=3, max_length=500, description="Why the step is opened again; audited.")


class Step(ApiModel):
    id: int
    visit_code: str = Field(validation_alias=AliasPath("visit", "code"))
    service: str = Field(validation_alias=AliasPath("service", "code"))
    service_name: str | None = Field(None, validation_alias=AliasPath("service", "name"))
    status: _literal(_values(StepStatus))  # type: ignore[valid-type]
    outcome: _literal(OUTCOMES) | None = None  # type: ignore[valid-type]
    desk: int | None = Field(None, validation_alias=AliasPath("desk", "number"))
    recall_count: int | None = Field(None, ge=0)


class DeskStatus(ApiModel):
    id: int
    number: int = Field(ge=1)
    label: str
    event_id: int
    agency: AgencyRef
    state: DeskStateName  # type: ignore[valid-type]
    opens_at: Timestamp | None = None
    closes_at: Timestamp | None = None
    step: Step | None


class BoardCall(ApiModel):
    key: str = Field(description="step:recall — a new key is a new announcement.")
    step_id: int | None = None
    code: str
    service: str | None = None
    desk_number: int
    desk_label: str | None = None
    agency: str
    agency_color: str | None = None
    called_at: dt.datetime
    called_at_wib: str | None = Field(None, examples=["09.42"])
    recall_count: int | None = None
    state: str | None = None


class BoardDesk(ApiModel):
    id: int
    number: int
    label: str
    agency: str
    agency_color: str | None = None
    state: DeskStateName  # type: ignore[valid-type]
    opens_at_wib: str | None = None
    closes_at_wib: str | None = None
    current: BoardCall | None
    extended: bool | None = Field(None, description="Closes later than the event's hours.")


class BoardService(ApiModel):
    id: int
    code: str
    name: str
    agency: str | None = None
    agency_color: str | None = None
    waiting: int = Field(ge=0)
    estimated_minutes: int | None = Field(None, ge=0)
    desk_state: DeskStateName | None = Field(  # type: ignore[valid-type]
        None, description="The best state among the desks offering it.")


class BoardExtension(ApiModel):
    closes_at_wib: str
    desk_numbers: list[int]


class Board(ApiModel):
    event_id: int
    title: str | None = None
    venue: str | None = None
    date: dt.date | None = None
    status: str | None = None
    running_text: str | None = None
    version: int = Field(description="The event's version: changes with every change the board shows (queue, "
                         "hours, running text, sponsors).")
    opens_at_wib: str | None = None
    closes_at_wib: str | None = None
    desks: list[BoardDesk]
    latest: BoardCall | None
    recent: list[BoardCall]
    services: list[BoardService]
    hours_opens_wib: str | None = Field(None, examples=["08.00"])
    hours_closes_wib: str | None = Field(None, examples=["16.00"])
    extensions: list[BoardExtension] | None = Field(None, description="Desks that stay open longer, grouped by "
                                                    "closing time.")
    sponsors: list[str] | None = Field(None, description="Sponsors thanked on the board (received contributions, "
                                       "public thanks).")


# --- funding (funding_routes.py) --------------------------------------------------------------------


class FundingQuery(QueryModel):
    year: Annotated[int, Field(ge=2000, le=2100), BeforeValidator(_ascii_digits)] | None = Field(
        None, description="Default: the current year (WIB).")


Share = Annotated[float, Field(ge=0, le=1)]


class FundingEvent(ApiModel):
    id: int
    title: str
    date: dt.date | None = None
    total_cost: int
    sponsor_cash: int
    in_kind: int
    apbd_amount: int
    apbd_share: Share | None


class Funding(ApiModel):
    year: int
    total_cost: int = Field(description="Integer rupiah.")
    sponsor_cash: int = Field(description="Received, non-voided cash.")
    in_kind: int = Field(description="Assessed value of received, non-voided in-kind gifts.")
    apbd_amount: int = Field(description="What the regional budget still carries.")
    apbd_share: Share | None
    target_share: Share | None = Field(description="The coordinator's ceiling for the APBD share that year.")
    events: list[FundingEvent]


# --- feedback (feedback_routes.py) ------------------------------------------------------------------

Score = Annotated[int, Field(ge=1, le=4)]
SurveyScores = create_model(
    "SurveyScores", __base__=ApiModel, __doc__="The nine SKM elements (Permenpan RB 14/2017), each 1 (tidak baik) "
    "to 4 (sangat baik).", **{key: (Score, ...) for key in UNSUR_KEYS})


class SurveyRequest(ApiModel):
    scores: SurveyScores  # type: ignore[valid-type]
    comment: str | None = Field(None, max_length=1000)
    sex: str | None = Field(None, description="L or P.", examples=["P"])
    age_band: str | None = None
    education: str | None = None
    occupation: str | None = None
    next_desa_code: str | None = Field(None, description="Where BOTRAM should go next: a desa code of Bekasi "
                                       "Regency.")


PROFILE_FIELDS = ("sex", "age_band", "education", "occupation", "next_desa_code")
"""Who answered, optionally (counts by group in the reports; never shown per person)."""


class SurveyAccepted(ApiModel):
    id: int
    event_id: int
    scores: dict[str, int]


class EventStats(ApiModel):
    """Counts, times and scores only: no name, NIK, phone or comment text."""
    event: dict[str, Any]
    generated_at: dt.datetime | None = None
    visits: int = Field(ge=0)
    steps: dict[str, Any]
    outcomes: dict[str, Any] | None = None
    no_show: int | None = None
    wait_minutes: dict[str, Any]
    service_minutes: dict[str, Any]
    services: list[dict[str, Any]]
    agencies: list[dict[str, Any]] | None = None
    arrivals_per_hour: list[dict[str, Any]]
    demand_exceeded: list[dict[str, Any]] | None = None
    unserved_at_closing: dict[str, Any]
    ikm: dict[str, Any] = Field(description="IKM = (Σ NRR × 1/9) × 25 with grade A–D, respondents, per-element "
                                "NRR; also per agency and per service.")
    next_locations: list[dict[str, Any]] | None = None
    recommendations: list[str] | None = None


class OpenApiDocument(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document."""


# --- field sync (field_routes.py, docs/field-sync.md) ---------------------------------------------------

MAX_DEVICE = 80
Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
TransferId = Annotated[str, Field(pattern="^[0-9a-f]{32}$")]


def _device_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_DEVICE or not value.isprintable():
        raise ValueError("device")
    return value


class FieldCheckoutRequest(ApiModel):
    device: Annotated[str, AfterValidator(_device_name)] = Field(
        description="The field laptop's name (1–80 printable characters), shown on the server while it holds "
                    "the event.", examples=["laptop-cikarang-1"])


class FieldBundle(ApiModel):
    id: TransferId
    event_id: int
    device: str
    size: int = Field(ge=1, description="Bytes.")
    sha256: Sha256
    url: str = Field(description="Where to download it (GET, with Range to resume).")


class FieldCheckout(ApiModel):
    event_id: int
    checked_out: bool
    device: str | None
    since: Timestamp | None
    checkins: int = Field(0, ge=0, description="Check-ins received while it is out.")
    last_checkin_at: Timestamp | None = None


class FieldUploadRequest(ApiModel):
    """What the domain checks (botram/field_transfer.py) is said there once: size 1–512 MB, a lowercase
    sha256 of the whole bundle."""
    size: int = Field(description="The bundle's bytes (1 to 536870912).")
    sha256: str = Field(description="Of the whole bundle: 64 lowercase hexadecimal characters.")


class FieldImportReport(ApiModel):
    kind: str = Field(description="What the bundle was, e.g. checkin.")
    event_id: int
    counts: dict[str, int] = Field(description="New rows per kind; what arrived before is not counted again.")
    updated: dict[str, int] = Field(default_factory=dict, description="Rows changed since the last check-in, "
                                                                      "per kind.")
    unchanged: bool = Field(description="True when everything in it was there already.")
    released: bool = Field(False, description="A final check-in (the laptop closed the event) gave the event "
                                              "back.")


class FieldUpload(ApiModel):
    id: TransferId
    size: int
    sha256: str
    received: int = Field(ge=0, description="Bytes from the start the server holds: where to continue.")
    complete: bool
    imported: bool
    report: FieldImportReport | None


# --- what a refusal says ----------------------------------------------------------------------------

# --- booking (booking_routes.py) ------------------------------------------------------------------------

class BookingQuotaAnswer(ApiModel):
    service_id: int
    service: str = Field(description="The service's name.")
    quota: int = Field(description="Places of this service that may be booked in the window.")
    left: int = Field(description="Places still free.")


class BookingWindowAnswer(ApiModel):
    id: int
    starts_at: dt.datetime = Field(description=_TIMESTAMP_DOC)
    ends_at: dt.datetime = Field(description=_TIMESTAMP_DOC)
    services: list[BookingQuotaAnswer] = Field(validation_alias="quotas")


class EventBooking(ApiModel):
    event_id: int
    open: bool = Field(description="Whether booking is open now.")
    closes_at: dt.datetime | None = Field(description=_TIMESTAMP_DOC)
    windows: list[BookingWindowAnswer]


class BookingRequest(ApiModel):
    event_id: Id
    window_id: Id
    services: list[Id] = Field(default_factory=list, max_length=30, description="Service ids booked in the "
                               "window; with `package_id`, added to the package's services.")
    package_id: Id | None = None
    phone: str = Field(max_length=40, description="Required; normalised to +62…")
    name: str | None = Field(None, max_length=120)
    nik: str | None = Field(None, max_length=32)


class BookingAnswer(ApiModel):
    code: str = Field(description="Short code (letters and digits that cannot be misread), shown, scanned.",
                      examples=["K7QX4M"])
    token: str = Field(description="The secret of the private link; keep it.")
    url: str = Field(description="The private page to see, change or cancel the booking.")
    event_id: int
    status: str = Field(description="booked, checked_in, cancelled or no_show.")
    window_starts_at: dt.datetime = Field(description=_TIMESTAMP_DOC)
    window_ends_at: dt.datetime = Field(description=_TIMESTAMP_DOC)
    services: list[str] = Field(description="Service codes.")


class CheckInAnswer(ApiModel):
    booking_code: str
    visit: Visit


FIELD_MESSAGES = {
    "services": _l("services harus daftar id layanan (angka), paling sedikit satu."),
    "priority": _l("priority harus salah satu dari: %(p)s.", p=", ".join(PRIORITIES)),
    "outcome": _l("outcome wajib: done, incomplete, atau referred."),
    "requirements": _l("requirements harus daftar id persyaratan (angka)."),
    "amount": _l("amount harus bilangan bulat rupiah."),
    "scores": _l("scores harus objek berisi sembilan unsur, masing-masing 1–4."),
    **{key: _l("Nilai %(key)s harus angka 1–4.", key=key) for key in UNSUR_KEYS},
    "status": _l("Nilai %(name)s tidak dikenal. Pilihan: %(choices)s.", name="status",
                 choices=", ".join(_values(EventStatus))),
    "from": _l("%(name)s harus tanggal dengan format yyyy-mm-dd, misalnya 2026-08-17.", name="from"),
    "to": _l("%(name)s harus tanggal dengan format yyyy-mm-dd, misalnya 2026-08-17.", name="to"),
    "device": _l("device wajib diisi: nama laptop lapangan (1–%(n)s karakter yang dapat dicetak), misalnya "
                  "'laptop-cikarang-1'.", n=MAX_DEVICE),
    "year": _l("%(name)s harus bilangan bulat antara %(minimum)d dan %(maximum)d.", name="year", minimum=2000,
               maximum=2100),
}
"""The sentence for any mistake in these fields (else spec.py picks one by the kind of mistake)."""
