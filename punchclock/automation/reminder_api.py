"""REST endpoints for reminders: levels and late fees, wording, history, dry run, send now.

Owners and admins only (invoices.manage), as on the reminders page; each endpoint calls the
same services as the page, so the API validates exactly as the page does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import InputSchema, amount_text
from punchclock.automation import reminder_settings, reminders
from punchclock.automation import reminder_text as text
from punchclock.automation.models import LateFee, ReminderLevel, ReminderSent
from punchclock.core.services import field_error
from punchclock.invoicing.models import Invoice
from punchclock.payments.balances import balance_of

router = Router(tags=["Reminders"])
STATES = ", ".join(reminders.State.LABELS)


# Schemas ---------------------------------------------------------------------------------


class LevelOut(Schema):
    level: int = Field(description="1, 2, 3; 4 is the repeating level")
    name: str
    is_active: bool
    days_after_due: int = Field(description="Negative: before the due date")
    repeat_every_days: int = Field(description="Level 4 only")
    late_fee: str = Field(description=", ".join(LateFee.values))
    late_fee_amount: str = Field(description="An amount in the invoice's currency, or a %")
    late_fee_taxed: bool


class SettingsOut(Schema):
    set_up: bool = Field(description="False until reminders are set up: nothing is sent")
    levels: list[LevelOut]


class LevelIn(InputSchema):
    level: int = Field(..., ge=1, le=4)
    is_active: bool
    days_after_due: int = Field(
        ..., ge=reminder_settings.EARLIEST_DAY, le=reminder_settings.LATEST_DAY
    )
    repeat_every_days: int = Field(
        14, ge=reminder_settings.SHORTEST_REPEAT, le=reminder_settings.LONGEST_REPEAT
    )
    late_fee: LateFee = LateFee.NONE
    late_fee_amount: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=4)
    late_fee_taxed: bool = False


class LevelsIn(InputSchema):
    """The levels to change, all or nothing; levels not sent keep their settings."""

    levels: list[LevelIn] = Field(..., min_length=1, max_length=4)


class TemplateOut(Schema):
    level: int
    language: str = Field(description=", ".join(text.LANGUAGES))
    subject: str
    body: str
    own: bool = Field(description="False: the built-in text applies")


class TemplateIn(InputSchema):
    level: int = Field(..., ge=1, le=4)
    language: str = Field(..., max_length=8, description=", ".join(text.LANGUAGES))
    subject: str = Field(..., max_length=text.LONGEST_SUBJECT)
    body: str = Field(..., max_length=20_000)


class TemplateKey(InputSchema):
    level: int = Field(..., ge=1, le=4)
    language: str = Field(..., max_length=8, description=", ".join(text.LANGUAGES))


class ReminderOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    client: str
    level: int
    repetition: int = Field(description="Counts the repeating level's reminders from 0")
    state: str = Field(description=STATES)
    state_text: str
    sent_at: datetime | None
    created_at: datetime
    balance: str = Field(description="What was open when it was claimed")
    currency: str
    late_fee_invoice_id: int | None
    late_fee_number: str | None
    message: str
    attempts: int = Field(description="Hand-overs to the mail server so far")


class DueOut(Schema):
    invoice_id: int
    invoice_number: str
    client: str
    level: int
    repetition: int
    due_on: date = Field(description="The day this reminder came due")
    open_amount: str
    currency: str
    late_fee: str | None = Field(description="The fee it would charge, if the level has one")
    problem: str = Field(description="Empty, or why it cannot go out (no billing email)")


class OutcomeOut(Schema):
    invoice_id: int
    invoice_number: str
    level: int
    repetition: int
    status: str = Field(description=f"{STATES}; or skipped / failed when nothing was claimed")
    message: str
    late_fee_invoice_id: int | None
    late_fee_number: str | None


class SendOut(Schema):
    sent: int
    outcomes: list[OutcomeOut]


class SentQuery(PageQuery):
    state: str | None = Field(None, max_length=12, description=STATES)


# Output ----------------------------------------------------------------------------------


def level_out(row: ReminderLevel) -> dict[str, Any]:
    return {
        "level": row.level,
        "name": text.LEVEL_NAMES[row.level],
        "is_active": row.is_active,
        "days_after_due": row.days_after_due,
        "repeat_every_days": row.repeat_every_days,
        "late_fee": row.late_fee,
        "late_fee_amount": f"{row.late_fee_amount.normalize():f}",
        "late_fee_taxed": row.late_fee_taxed,
    }


def _settings(by: Membership) -> dict[str, Any]:
    levels = reminder_settings.levels_of(by.organization)
    return {"set_up": bool(levels), "levels": [level_out(row) for row in levels]}


def reminder_out(row: ReminderSent) -> dict[str, Any]:
    state = reminders.state_of(row)
    fee = row.late_fee_invoice
    return {
        "id": row.pk,
        "invoice_id": row.invoice_id,
        "invoice_number": row.invoice.number,
        "client": row.invoice.client.name,
        "level": row.level,
        "repetition": row.repetition,
        "state": state,
        "state_text": reminders.State.LABELS[state],
        "sent_at": row.sent_at,
        "created_at": row.created_at,
        "balance": amount_text(row.balance, row.invoice.currency),
        "currency": row.invoice.currency,
        "late_fee_invoice_id": fee.pk if fee else None,
        "late_fee_number": fee.number if fee else None,
        "message": row.message,
        "attempts": row.attempts,
    }


def outcome_out(outcome: reminders.Outcome) -> dict[str, Any]:
    fee = outcome.late_fee
    return {
        "invoice_id": outcome.invoice.pk,
        "invoice_number": outcome.invoice.number,
        "level": outcome.level,
        "repetition": outcome.repetition,
        "status": outcome.status,
        "message": outcome.message,
        "late_fee_invoice_id": fee.pk if fee else None,
        "late_fee_number": fee.number if fee else None,
    }


def _biller(request: HttpRequest) -> Membership:
    by = acting(request)
    require(by, "invoices.manage")
    return by


def _sent(by: Membership) -> Any:
    return ReminderSent.objects.filter(invoice__organization_id=by.organization_id).select_related(
        "invoice__client", "late_fee_invoice"
    )


def _template(by: Membership, level: int, language: str) -> dict[str, Any]:
    subject, body, own = text.wording_for(by.organization_id, level, language)
    return {"level": level, "language": language, "subject": subject, "body": body, "own": own}


def _language(language: str) -> str:
    if language not in text.LANGUAGES:
        raise field_error("language", f"Write in one of {', '.join(text.LANGUAGES)}.")
    return language


# Endpoints -------------------------------------------------------------------------------


@router.get(
    "/reminders/settings",
    response=responses(SettingsOut),
    summary="The reminder levels and their late fees",
)
def get_settings(request: HttpRequest) -> dict[str, Any]:
    return _settings(_biller(request))


@router.post(
    "/reminders/settings/set-up",
    response=responses(SettingsOut),
    summary="Set reminders up with the default levels (+7, +21, +35 days; no late fees)",
    description="Nothing is sent before this step. Running it again changes nothing.",
)
def set_up(request: HttpRequest) -> dict[str, Any]:
    by = _biller(request)
    reminder_settings.set_up(by.organization, by=by)
    return _settings(by)


@router.put(
    "/reminders/settings",
    response=responses(SettingsOut),
    summary="Change levels: days, late fees, on/off; all or nothing",
    description="Active levels must come in the order of their numbers, each on a later "
    "day. An untaxed late fee needs the organization's registration number (BR-O-02).",
)
def update_settings(request: HttpRequest, payload: LevelsIn) -> dict[str, Any]:
    by = _biller(request)
    existing = {row.level: row for row in reminder_settings.levels_of(by.organization)}
    if not existing:
        raise field_error("levels", "Set reminders up first (POST /reminders/settings/set-up).")
    given = {item.level: item for item in payload.levels}
    if len(given) != len(payload.levels):
        raise field_error("levels", "Give each of the levels 1 to 4 at most once.")
    inputs = [reminder_settings.LevelInput(**item.model_dump()) for item in given.values()] + [
        # Levels not sent keep their settings, and take part in the order check as they are.
        reminder_settings.LevelInput(
            level=row.level,
            days_after_due=row.days_after_due,
            repeat_every_days=row.repeat_every_days,
            late_fee=row.late_fee,
            late_fee_amount=row.late_fee_amount,
            late_fee_taxed=row.late_fee_taxed,
            is_active=row.is_active,
        )
        for number, row in existing.items()
        if number not in given
    ]
    reminder_settings.save_levels(by.organization, by=by, levels=inputs)
    return _settings(by)


@router.get(
    "/reminders/templates",
    response=responses(list[TemplateOut]),
    summary="The wording of every level in every language (built-in where not your own)",
)
def list_templates(request: HttpRequest) -> list[dict[str, Any]]:
    by = _biller(request)
    return [
        _template(by, level, language) for level in text.LEVEL_NAMES for language in text.LANGUAGES
    ]


@router.put(
    "/reminders/templates",
    response=responses(TemplateOut),
    summary="Save your own wording of one level in one language",
    description="Placeholders in braces: " + ", ".join(f"{{{name}}}" for name in text.PLACEHOLDERS),
)
def save_template(request: HttpRequest, payload: TemplateIn) -> dict[str, Any]:
    by = _biller(request)
    reminder_settings.save_template(by.organization, by=by, **payload.model_dump())
    return _template(by, payload.level, payload.language)


@router.post(
    "/reminders/templates/reset",
    response=responses(TemplateOut),
    summary="Go back to the built-in wording of one level in one language",
)
def reset_template(request: HttpRequest, payload: TemplateKey) -> dict[str, Any]:
    by = _biller(request)
    language = _language(payload.language)
    reminder_settings.reset_template(by.organization, by=by, level=payload.level, language=language)
    return _template(by, payload.level, language)


@router.get(
    "/reminders/sent",
    response=responses(page_of(ReminderOut)),
    summary="Reminders claimed or sent, newest first",
)
def list_sent(request: HttpRequest, query: Query[SentQuery]) -> dict[str, Any]:
    by = _biller(request)
    if query.state is not None and query.state not in reminders.State.LABELS:
        raise field_error("state", f"Choose one of {STATES}.")
    rows = _sent(by).order_by("-created_at", "-pk")
    if query.state is not None:
        rows = rows.filter(status=query.state)
    page = paginate(rows, query)
    page["items"] = [reminder_out(row) for row in page["items"]]
    return page


@router.get(
    "/reminders/invoices/{id:invoice_id}",
    response=responses(list[ReminderOut]),
    summary="The reminder history of one invoice, level by level",
)
def invoice_history(request: HttpRequest, invoice_id: int) -> list[dict[str, Any]]:
    by = _biller(request)
    if not Invoice.objects.filter(organization_id=by.organization_id, pk=invoice_id).exists():
        raise Http404("No such invoice.")
    rows = _sent(by).filter(invoice_id=invoice_id).order_by("level", "repetition")
    return [reminder_out(row) for row in rows]


@router.get(
    "/reminders/due",
    response=responses(list[DueOut]),
    summary="Dry run: the reminders that sending now would send; writes nothing",
)
def list_due(request: HttpRequest) -> list[dict[str, Any]]:
    by = _biller(request)
    organization = by.organization
    today = reminders.today_for(organization)
    found = []
    for step in reminders.due(organization, today):
        balance = balance_of(step.invoice, today)
        fee = None
        if step.level.late_fee != LateFee.NONE:
            fee = reminders.late_fee_amount(step.level, balance)
        found.append(
            {
                "invoice_id": step.invoice.pk,
                "invoice_number": step.invoice.number,
                "client": step.invoice.client.name,
                "level": step.level.level,
                "repetition": step.repetition,
                "due_on": step.day,
                "open_amount": amount_text(balance.balance, balance.currency),
                "currency": balance.currency,
                "late_fee": amount_text(fee, balance.currency),
                "problem": "" if step.invoice.client.email else "No billing email",
            }
        )
    return found


@router.post(
    "/reminders/send",
    response=responses(SendOut),
    summary="Send the reminders due now, each once (the worker does it every hour anyway)",
    description="Claimed reminders the mail server refused earlier go first. A reminder "
    "handed to the mail server but not confirmed is never sent again by this call.",
)
def send_due(request: HttpRequest) -> dict[str, Any]:
    by = _biller(request)
    outcomes = reminders.send_due(organization=by.organization, by=by)
    sent = sum(1 for outcome in outcomes if outcome.status == reminders.State.SENT)
    return {"sent": sent, "outcomes": [outcome_out(outcome) for outcome in outcomes]}
