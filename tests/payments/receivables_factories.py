"""Issued documents for the receivables tests, written straight to the database.

Issuing for real renders the PDF and checks the e-invoice (about 0.2 s each); what is owed
only reads totals, dates and currencies, so these rows carry exactly those. A few tests
still issue real invoices (tests/payments/conftest.py `issued`) to prove the two agree.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from punchclock.clients.models import Client
from punchclock.core.timeutil import now
from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceStatus, NumberSeries

# Far from the positions real issuing takes (1, 2, …), so both can share a test.
_positions = itertools.count(100_000)


def document(
    client: Client,
    gross: str,
    *,
    on: date,
    due: date | None = None,
    currency: str = "",
    credits: Invoice | None = None,
) -> Invoice:
    """An issued invoice of `gross`, due on `due` (default: the issue day); with `credits`,
    a credit note of `gross` (negative) for that invoice."""
    organization = client.organization
    series, _ = NumberSeries.objects.get_or_create(
        organization=organization, name="Receivables tests", defaults={"pattern": "R-{seq:05}"}
    )
    position = next(_positions)
    return Invoice.objects.create(
        organization=organization,
        client=client,
        kind=InvoiceKind.CREDIT_NOTE if credits else InvoiceKind.INVOICE,
        status=InvoiceStatus.ISSUED,
        series=series,
        number=f"R-{position}",
        issue_date=on,
        due_date=None if credits else (due or on),
        currency=currency or client.currency,
        net_total=Decimal(gross),
        gross_total=Decimal(gross),
        chain_position=position,
        issued_at=now(),
        credits=credits,
    )
