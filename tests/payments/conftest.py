"""Issued invoices to pay, for the agency persona of tests/conftest.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice
from punchclock.payments.services import PaymentInput
from tests.invoicing.conftest import billing, wipe_invoices_after  # noqa: F401 - fixtures

ISSUED = date(2026, 11, 2)
TODAY = date(2026, 11, 20)


def issued(agency, net: str = "100.00", *, on: date = ISSUED, currency: str = "") -> Invoice:
    """An issued invoice of one line at 19 % VAT (net 100.00 → gross 119.00), due in 14 days."""
    client = agency.client
    if currency and client.currency != currency:
        client.currency = currency
        client.save()
    draft = invoicing.start_draft(client, by=agency.owner)
    invoicing.add_line(
        draft,
        by=agency.owner,
        description="Development",
        quantity=Decimal(1),
        unit_price=Decimal(net),
        tax_category="S",
        tax_rate=Decimal(19),
    )
    return invoicing.issue_invoice(draft, by=agency.owner, issue_date=on)


def paid(amount: str, on: date = TODAY, **fields) -> PaymentInput:
    return PaymentInput(amount=Decimal(amount), received_on=on, **fields)


@pytest.fixture
def frozen_today(monkeypatch):
    """Payment dates are checked against today; the tests live in November 2026."""
    from datetime import UTC, datetime

    from punchclock.payments import services

    monkeypatch.setattr(services, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
