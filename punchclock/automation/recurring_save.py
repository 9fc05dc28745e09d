"""Saving recurring invoices: the fields and lines checked as a whole, then written at once.

An unknown or malformed placeholder, a first day that is not an issue day, a line without a
price: each is a field error, and nothing is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.automation import recurring_periods as plans
from punchclock.automation.models import (
    Billing,
    RecurringFrequency,
    RecurringInvoice,
    RecurringLine,
    RecurringPrice,
)
from punchclock.automation.services import FIRST_DAY, LAST_DAY, _ordinal
from punchclock.clients.models import Client
from punchclock.core.services import field_error
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import TaxCategory, Unit
from punchclock.invoicing.sending import check_wording

FIELDS = {
    "name",
    "frequency",
    "interval_months",
    "day_of_month",
    "billing",
    "starts_on",
    "ends_on",
    "cycles",
    "note",
    "action",
    "is_active",
}


@dataclass(frozen=True)
class LineSpec:
    """A line as a person gives it: tax left empty means the client's tax treatment."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = Unit.PIECE
    tax_category: str = ""
    tax_rate: Decimal | None = None
    prices: tuple[tuple[date, Decimal], ...] = ()  # (effective from, unit price)


def save_recurring(
    by: Membership,
    *,
    recurring: RecurringInvoice | None = None,
    client: Client | None = None,
    lines: Sequence[LineSpec] | None = None,
    **fields: Any,
) -> RecurringInvoice:
    """Create (with `client` and `lines`) or change a recurring invoice; `lines`, when given,
    replace its lines and their price changes. Runs act with `by`'s authority."""
    require(by, "invoices.manage")
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    if recurring is None:
        if client is None or client.organization_id != by.organization_id:
            raise field_error("client", "Choose one of your clients.")
        if not lines:
            raise field_error("lines", "Add at least one line.")
        recurring = RecurringInvoice(organization_id=by.organization_id, client=client, run_as=by)
    elif recurring.organization_id != by.organization_id or recurring.deleted_at is not None:
        raise Http404("No such recurring invoice.")
    for name, value in fields.items():
        setattr(recurring, name, value)
    recurring.run_as = by
    _check(recurring)
    recurring.full_clean(exclude=["organization", "client", "run_as"])
    made = _lines(recurring, lines) if lines is not None else None
    with transaction.atomic():
        recurring.save()
        if made is not None:
            recurring.lines.all().delete()  # their price changes go with them
            for line, prices in made:
                line.recurring = recurring
                line.save()
                RecurringPrice.objects.bulk_create(
                    RecurringPrice(line=line, effective_from=day, unit_price=price)
                    for day, price in prices
                )
    return recurring


def _check(recurring: RecurringInvoice) -> None:
    if not (recurring.name or "").strip():
        raise field_error("name", "Name it, e.g. Hosting or Support plan.")
    recurring.name = recurring.name.strip()
    for name in ("starts_on", "ends_on"):
        day = getattr(recurring, name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise field_error(name, f"Choose a day from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
    if recurring.frequency not in RecurringFrequency.values:
        raise field_error("frequency", f"Choose one of {', '.join(RecurringFrequency.values)}.")
    if recurring.billing not in Billing.values:
        raise field_error("billing", f"Choose one of {', '.join(Billing.values)}.")
    day = recurring.day_of_month
    if not isinstance(day, int) or not 1 <= day <= 31:
        raise field_error("day_of_month", "Choose a day from 1 to 31.")
    interval = recurring.interval_months
    if not isinstance(interval, int) or not 1 <= interval <= 120:
        raise field_error("interval_months", "Choose every 1 to 120 months.")
    start = recurring.starts_on
    if start is None:
        raise field_error("starts_on", "Say on which day the first period starts.")
    first = plans.issue_day_on_or_after(start, day)
    if first != start:
        raise field_error(
            "starts_on",
            f"Start on an issue day (the {_ordinal(day)}, or the month's last day when it is "
            f"shorter): {first:%-d %b %Y} is the next one.",
        )
    if recurring.ends_on is not None and recurring.cycles is not None:
        raise field_error("ends_on", "End on a day or after a number of cycles, not both.")
    if recurring.ends_on is not None and recurring.ends_on < start:
        raise field_error("ends_on", "The end cannot come before the first day.")
    if recurring.cycles is not None and not 1 <= recurring.cycles <= 10_000:
        raise field_error("cycles", "Choose from 1 to 10000 cycles, or leave it open-ended.")
    check_wording(recurring.note or "", "note", plans.PLACEHOLDERS)


def _lines(
    recurring: RecurringInvoice, specs: Sequence[LineSpec]
) -> list[tuple[RecurringLine, list[tuple[date, Decimal]]]]:
    """The lines checked as a whole before anything is written."""
    if not specs:
        raise field_error("lines", "Add at least one line.")
    if len(specs) > 100:
        raise field_error("lines", "At most 100 lines.")
    made = []
    for position, spec in enumerate(specs, start=1):
        where = f"Line {position}: "
        try:
            check_wording(spec.description, "lines", plans.PLACEHOLDERS)
        except ValidationError as exc:
            raise field_error("lines", where + " ".join(exc.messages)) from None
        if not spec.description.strip():
            raise field_error("lines", where + "describe it, e.g. Hosting {month} {year}.")
        if spec.tax_category and spec.tax_category not in TaxCategory.values:
            raise field_error("lines", where + f"unknown tax category {spec.tax_category!r}.")
        if spec.tax_rate is not None and not 0 <= spec.tax_rate <= 100:
            raise field_error("lines", where + "a tax rate is from 0 to 100 %.")
        if not spec.tax_category:
            try:
                invoicing.default_tax(recurring.client, spec.tax_rate)
            except ValidationError as exc:
                raise field_error("lines", where + " ".join(exc.messages)) from None
        line = RecurringLine(
            position=position,
            description=spec.description.strip(),
            quantity=spec.quantity,
            unit=spec.unit,
            unit_price=spec.unit_price,
            tax_category=spec.tax_category,
            tax_rate=spec.tax_rate,
        )
        try:
            line.full_clean(exclude=["recurring"])
        except ValidationError as exc:
            raise field_error("lines", where + " ".join(exc.messages)) from None
        days = [day for day, _ in spec.prices]
        if len(set(days)) != len(days):
            raise field_error("lines", where + "two price changes on the same day.")
        for day, price in spec.prices:
            if not FIRST_DAY <= day <= LAST_DAY:
                raise field_error("lines", where + "a price change needs a day from 2000 to 2999.")
            try:
                RecurringPrice(effective_from=day, unit_price=price).full_clean(exclude=["line"])
            except ValidationError as exc:
                raise field_error("lines", where + " ".join(exc.messages)) from None
        made.append((line, sorted(spec.prices)))
    return made
