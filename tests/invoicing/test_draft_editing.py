"""Drafts change freely through the services; issued invoices refuse every change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.invoicing import services
from tests.invoicing.conftest import free_draft


def test_adding_a_line_updates_the_stored_totals(billing):
    invoice = free_draft(billing, ("Workshop", "1", "1393.50"))
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        Decimal("1393.50"),
        Decimal("264.77"),
        Decimal("1658.27"),
    )


def test_lines_can_carry_a_second_tax_on_the_same_base(billing):
    invoice = free_draft(billing)
    services.add_line(
        invoice,
        by=billing.owner,
        description="Consulting, Québec",
        quantity=Decimal(1),
        unit_price=Decimal("140.00"),
        tax_rate=Decimal(5),
        additional_tax_name="QST",
        additional_tax_rate=Decimal("9.975"),
    )
    invoice.refresh_from_db()
    assert invoice.tax_total == Decimal("20.97")
    assert invoice.gross_total == Decimal("160.97")


def test_updating_and_deleting_lines_recompute_the_totals(billing):
    invoice = free_draft(billing, ("Design", "2", "100"), ("Hosting", "1", "57.48"))
    first, second = invoice.lines.all()
    services.update_line(second, by=billing.owner, discount_percent=Decimal(10))
    second.refresh_from_db()
    assert second.net_amount == Decimal("51.73")
    services.delete_line(first, by=billing.owner)
    invoice.refresh_from_db()
    assert (invoice.net_total, invoice.tax_total) == (Decimal("51.73"), Decimal("9.83"))


def test_an_invoice_discount_is_an_allowance_before_tax(billing):
    invoice = free_draft(billing, ("Hosting", "1", "57.48"))
    services.set_discount(invoice, by=billing.owner, discount_percent=Decimal(10))
    invoice.refresh_from_db()
    assert invoice.net_total == Decimal("51.73")


def test_line_fields_outside_the_list_are_refused(billing):
    line = free_draft(billing, ("Design", "1", "100")).lines.get()
    with pytest.raises(TypeError, match="net_amount"):
        services.update_line(line, by=billing.owner, net_amount=Decimal(1))


def test_issued_invoices_refuse_every_service_change(billing):
    invoice = free_draft(billing, ("Design", "1", "100"))
    issued = services.issue_invoice(invoice, by=billing.owner, issue_date=date(2026, 11, 30))
    line = issued.lines.get()
    attempts = [
        lambda: services.add_line(
            issued, by=billing.owner, description="x", quantity=Decimal(1), unit_price=Decimal(1)
        ),
        lambda: services.update_line(line, by=billing.owner, description="changed"),
        lambda: services.delete_line(line, by=billing.owner),
        lambda: services.set_discount(issued, by=billing.owner, discount_percent=Decimal(5)),
        lambda: services.delete_draft(issued, by=billing.owner),
        lambda: services.issue_invoice(issued, by=billing.owner),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="is issued"):
            attempt()
    line.refresh_from_db()
    assert line.description == "Design"
