"""All models, one module per domain; importing this registers every table with the metadata."""
from .audit import AuditLog
from .booking import Booking, BookingPlan, BookingQuota, BookingStatus, BookingWindow, booking_service
from .crest import Crest
from .catalog import Agency, LifeEventPackage, PackageService, Requirement, Service
from .events import Desk, DeskState, Event, EventStatus, desk_service
from .funding import (BudgetCategory, BudgetLine, Contribution, ContributionForm, ContributionItem,
                      ContributionStatus, FundingTarget, InKindCategory, Sponsor, SponsorKind)
from .field import CheckoutRole, FieldCheckout, Install
from .feedback import UNSUR_KEYS, SurveyChannel, SurveyResponse
from .people import ApiToken, Role, User
from .printing import KioskPress, Printer, PrinterConnection, PrintJob, PrintStatus
from .queue import ACTIVE_STEP_STATES, Priority, Step, StepStatus, Visit
from .outbox import Outbox, OutboxStatus
from .regions import Region
from .security import IdempotentRequest, LoginFailure, LoginSession
from .summaries import EventSummary
from .voice import VoiceClip

__all__ = [
    "ACTIVE_STEP_STATES", "Agency", "ApiToken", "AuditLog", "Desk", "DeskState", "Event", "EventStatus",
    "LifeEventPackage", "PackageService", "Priority", "Region", "Requirement", "Role", "Service", "Step",
    "StepStatus", "User", "Visit", "desk_service",
    "BudgetCategory", "BudgetLine", "Contribution", "ContributionForm", "ContributionItem", "ContributionStatus",
    "FundingTarget", "InKindCategory", "Sponsor", "SponsorKind",
    "UNSUR_KEYS", "SurveyChannel", "SurveyResponse",
    "IdempotentRequest", "LoginFailure", "LoginSession",
    "Crest", "VoiceClip",
    "Outbox", "OutboxStatus",
    "EventSummary",
    "CheckoutRole", "FieldCheckout", "Install",
    "KioskPress", "Printer", "PrinterConnection", "PrintJob", "PrintStatus",
    "Booking", "BookingPlan", "BookingQuota", "BookingStatus", "BookingWindow", "booking_service",
]
