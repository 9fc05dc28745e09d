"""Reminder pages: the levels and their wording, what went out, what is due today.

Owners and admins only (invoices.manage). Each view parses input, calls one service from
reminder_settings or reminders, and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership, Organization
from punchclock.automation import reminder_settings, reminders
from punchclock.automation import reminder_text as text
from punchclock.automation.models import LateFee, ReminderLevel, ReminderSent
from punchclock.core.forms import apply_service_errors
from punchclock.invoicing.models import Invoice
from punchclock.invoicing.views import _biller
from punchclock.payments.balances import balance_of

RECENT = 50
LEVEL_CHOICES = [(n, f"{n}. {name}") for n, name in text.LEVEL_NAMES.items()]
LANGUAGE_CHOICES = list(text.LANGUAGE_NAMES.items())


class LevelForm(forms.Form):
    is_active = forms.BooleanField(label="Send this level", required=False)
    days_after_due = forms.IntegerField(
        label="Days after the due date",
        min_value=reminder_settings.EARLIEST_DAY,
        max_value=reminder_settings.LATEST_DAY,
        help_text="Negative: before it, as a heads-up.",
    )
    repeat_every_days = forms.IntegerField(
        label="Repeat every (days)",
        min_value=reminder_settings.SHORTEST_REPEAT,
        max_value=reminder_settings.LONGEST_REPEAT,
    )
    late_fee = forms.ChoiceField(label="Late fee", choices=LateFee.choices)
    late_fee_amount = forms.DecimalField(
        label="Fee (amount or %)", min_value=Decimal(0), max_digits=12, decimal_places=4
    )
    late_fee_taxed = forms.BooleanField(label="Charge VAT on the fee", required=False)

    def __init__(self, *args: Any, level: int, **kwargs: Any) -> None:
        kwargs["prefix"] = f"level{level}"
        super().__init__(*args, **kwargs)
        self.level = level
        if level != reminders.REPEATING:
            self.fields["repeat_every_days"].widget = forms.HiddenInput()


class WordingForm(forms.Form):
    """One level's text in one language; the page's links choose which."""

    level = forms.TypedChoiceField(choices=LEVEL_CHOICES, coerce=int, widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=text.LONGEST_SUBJECT)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 14}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("subject", "body"):
            self.fields[name].wide = True  # type: ignore[attr-defined]


def _level_input(form: LevelForm) -> reminder_settings.LevelInput:
    data = form.cleaned_data
    return reminder_settings.LevelInput(
        level=form.level,
        days_after_due=data["days_after_due"],
        repeat_every_days=data["repeat_every_days"],
        late_fee=data["late_fee"],
        late_fee_amount=data["late_fee_amount"],
        late_fee_taxed=data["late_fee_taxed"],
        is_active=data["is_active"],
    )


def _level_forms(levels: list[ReminderLevel]) -> list[LevelForm]:
    return [
        LevelForm(
            level=row.level,
            initial={
                "is_active": row.is_active,
                "days_after_due": row.days_after_due,
                "repeat_every_days": row.repeat_every_days,
                "late_fee": row.late_fee,
                "late_fee_amount": row.late_fee_amount.normalize(),
                "late_fee_taxed": row.late_fee_taxed,
            },
        )
        for row in levels
    ]


def _chosen(request: HttpRequest, organization: Organization) -> tuple[int, str]:
    """Which level and language the wording form shows (?level=2&language=de)."""
    level = request.GET.get("level", "1")
    language = request.GET.get("language", text.language_of(organization.locale))
    return (
        int(level) if level in {"1", "2", "3", "4"} else 1,
        language if language in text.LANGUAGES else "en",
    )


def _wording_form(organization: Organization, level: int, language: str) -> WordingForm:
    subject, body, _own = text.wording_for(organization.pk, level, language)
    return WordingForm(
        initial={"level": level, "language": language, "subject": subject, "body": body}
    )


@dataclass(frozen=True)
class DueRow:
    step: reminders.Step
    open_amount: Decimal
    currency: str
    late_fee: Decimal | None
    problem: str


def _due_rows(organization: Organization) -> list[DueRow]:
    """The dry run: what "Send due reminders now" would send, and what stops it."""
    today = reminders.today_for(organization)
    rows = []
    for step in reminders.due(organization, today):
        balance = balance_of(step.invoice, today)
        fee = None
        if step.level.late_fee != LateFee.NONE:
            fee = reminders.late_fee_amount(step.level, balance)
        problem = "" if step.invoice.client.email else "No billing email"
        rows.append(DueRow(step, balance.balance, balance.currency, fee, problem))
    return rows


@dataclass(frozen=True)
class SentRow:
    row: ReminderSent
    state: str
    label: str


def _sent_rows(queryset: Any) -> list[SentRow]:
    rows = queryset.select_related("invoice__client", "late_fee_invoice")
    states = [(row, reminders.state_of(row)) for row in rows]
    return [SentRow(row, state, reminders.State.LABELS[state]) for row, state in states]


def _page(
    request: HttpRequest,
    membership: Membership,
    *,
    status: int = 200,
    level_forms: list[LevelForm] | None = None,
    wording_form: WordingForm | None = None,
) -> HttpResponse:
    organization = membership.organization
    levels = reminder_settings.levels_of(organization)
    level, language = _chosen(request, organization)
    if wording_form is not None and wording_form.is_bound:
        level = wording_form.cleaned_data.get("level", level)
        language = wording_form.cleaned_data.get("language", language)
    recent = ReminderSent.objects.filter(invoice__organization=organization).order_by(
        "-created_at", "-pk"
    )[:RECENT]
    context = {
        "levels": levels,
        "level_forms": level_forms or _level_forms(levels),
        "wording_form": wording_form or _wording_form(organization, level, language),
        "chosen": {
            "level": level,
            "language": language,
            "title": f"{dict(LEVEL_CHOICES)[level]}, {text.LANGUAGE_NAMES[language]}",
        },
        "own_wording": text.wording_for(organization.pk, level, language)[2],
        "level_choices": LEVEL_CHOICES,
        "language_choices": LANGUAGE_CHOICES,
        "placeholders": text.PLACEHOLDERS,
        "due": _due_rows(organization) if levels else [],
        "sent": _sent_rows(recent),
    }
    return render(request, "automation/reminders/settings.html", context, status=status)


@member_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return _page(request, _biller(request))


@member_required
@require_POST
def set_up(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    reminder_settings.set_up(membership.organization, by=membership)
    messages.success(request, "Reminders are set up: check the days and wording below.")
    return redirect("reminders:settings")


@member_required
@require_POST
def levels(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    organization = membership.organization
    numbers = [row.level for row in reminder_settings.levels_of(organization)]
    if not numbers:
        messages.error(request, "Set reminders up first.")
        return redirect("reminders:settings")
    forms_ = [LevelForm(request.POST, level=number) for number in numbers]
    if all(form.is_valid() for form in forms_):
        try:
            reminder_settings.save_levels(
                organization, by=membership, levels=[_level_input(form) for form in forms_]
            )
        except ValidationError as exc:
            _show_on(forms_, exc)
        else:
            messages.success(request, "Reminder levels saved.")
            return redirect("reminders:settings")
    return _page(request, membership, status=400, level_forms=forms_)


def _show_on(forms_: list[LevelForm], exc: ValidationError) -> None:
    """A service error names its level ("Level 2: …"); show it on that level's form."""
    for form in forms_:
        if any(message.startswith(f"Level {form.level}") for message in exc.messages):
            apply_service_errors(form, exc)
            return
    apply_service_errors(forms_[0], exc)


@member_required
@require_POST
def wording(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    organization = membership.organization
    form = WordingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        where = f"?level={data['level']}&language={data['language']}#wording"
        target = reverse("reminders:settings") + where
        try:
            if request.POST.get("reset"):
                reminder_settings.reset_template(
                    organization, by=membership, level=data["level"], language=data["language"]
                )
                messages.success(request, "Back to the built-in text.")
            else:
                reminder_settings.save_template(organization, by=membership, **data)
                messages.success(request, "Reminder text saved.")
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect(target)
    return _page(request, membership, status=400, wording_form=form)


@member_required
@require_POST
def send(request: HttpRequest) -> HttpResponse:
    """Send what is due now for this organization (the worker does it daily anyway)."""
    membership = _biller(request)
    outcomes = reminders.send_due(organization=membership.organization, by=membership)
    sent = sum(1 for o in outcomes if o.status == reminders.State.SENT)
    messages.success(request, f"{sent} reminder{'s' if sent != 1 else ''} sent.")
    for outcome in outcomes:
        if outcome.status != reminders.State.SENT and outcome.message:
            messages.warning(request, f"{outcome.invoice.number}: {outcome.message}")
    return redirect("reminders:settings")


def _reminder(membership: Membership, pk: int) -> ReminderSent:
    found = (
        ReminderSent.objects.filter(invoice__organization_id=membership.organization_id, pk=pk)
        .select_related("invoice__organization", "invoice__client")
        .first()
    )
    if found is None:
        raise Http404("No such reminder.")
    return found


@member_required
@require_POST
def send_again(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    reminder = _reminder(membership, pk)
    try:
        outcome = reminders.send_again(reminder, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if outcome is not None and outcome.status == reminders.State.SENT:
            messages.success(request, f"Reminder for {outcome.invoice.number} sent again.")
        else:
            text_ = outcome.message if outcome is not None else "Another run is sending it."
            messages.warning(request, text_ or "The reminder was not sent.")
    return redirect("reminders:settings")


@member_required
def invoice_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every reminder of one invoice, with its late fee: the invoice's dunning record."""
    membership = _biller(request)
    invoice = (
        Invoice.objects.filter(organization_id=membership.organization_id, pk=pk)
        .select_related("client")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    rows = _sent_rows(invoice.reminders.order_by("level", "repetition"))
    context = {"invoice": invoice, "sent": rows}
    return render(request, "automation/reminders/invoice.html", context)
