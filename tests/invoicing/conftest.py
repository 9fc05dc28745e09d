"""Billing personas: the agency with rates, some tracked time, and helpers for invoices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from punchclock.accounts.models import Membership
from punchclock.expenses.models import Expense, ExpenseCategory, ExpenseStatus
from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice
from punchclock.invoicing.triggers import create_triggers, drop_triggers
from punchclock.projects.models import Project
from punchclock.tracking.models import TimeEntry
from tests.factories import make_rate

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def billing(agency):
    """The agency billing Globex 100 EUR an hour, with its default numbering series."""
    make_rate(agency.organization, "100", project=agency.project)
    make_rate(agency.organization, "80", project=agency.other_project)
    agency.organization.vat_id = "DE811907980"
    agency.organization.save()
    return agency


def track(
    membership: Membership,
    project: Project,
    start: datetime,
    minutes: int,
    *,
    task: Any = None,
    description: str = "",
    billable: bool = True,
) -> TimeEntry:
    return TimeEntry.objects.create(
        organization=membership.organization,
        membership=membership,
        project=project,
        task=task,
        description=description,
        start=start,
        end=start + timedelta(minutes=minutes),
        billable=billable,
    )


def at(day: int, hour: int = 9) -> datetime:
    """An instant in November 2026 (UTC; Berlin is UTC+1 then)."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def approved_expense(membership: Membership, amount: str, **fields: Any) -> Expense:
    organization = membership.organization
    category, _ = ExpenseCategory.objects.get_or_create(organization=organization, name="Travel")
    fields.setdefault("client", organization.clients.get(code="globex"))
    fields.setdefault("spent_on", date(2026, 11, 10))
    fields.setdefault("status", ExpenseStatus.APPROVED)
    return Expense.objects.create(
        organization=organization,
        membership=membership,
        category=category,
        description=fields.pop("description", "Train to client"),
        amount=Decimal(amount),
        currency="EUR",
        client_currency="EUR",
        net_amount=Decimal(amount),
        billable_amount=Decimal(amount),
        **fields,
    )


def free_draft(agency, *lines: tuple[str, str, str]) -> Invoice:
    """A draft of free lines (description, quantity, unit price) at the default VAT."""
    invoice = services.start_draft(agency.client, by=agency.owner)
    for description, quantity, price in lines:
        services.add_line(
            invoice,
            by=agency.owner,
            description=description,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
        )
    invoice.refresh_from_db()
    return invoice


@contextmanager
def triggers_disabled() -> Iterator[None]:
    """Only for tests that play the attacker or clean up: the triggers stop everyone else."""
    drop_triggers(connection)
    try:
        yield
    finally:
        create_triggers(connection)


@pytest.fixture
def wipe_invoices_after():
    """Transactional tests: issued invoices refuse DELETE, which SQLite's flush would send."""
    yield
    with triggers_disabled(), connection.cursor() as cursor:
        for table in (
            "automation_remindersent",
            "automation_schedulerun",
            "automation_retainerperiod",
            "automation_recurringrun",
            "payments_allocation",
            "payments_payment",
            "payments_checkoutsession",
            "payments_portallink",
            "payments_bankline",
            "payments_bankstatement",
            "invoicing_invoicedocument",
            "invoicing_invoiceevent",
            "invoicing_billedwork",
            "invoicing_billedentry",
            "invoicing_billedexpense",
            "invoicing_billedfixedfee",
            "invoicing_invoiceline",
            "invoicing_invoice",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
