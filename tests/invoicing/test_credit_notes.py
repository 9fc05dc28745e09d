"""Credit notes: the only correction; full ones release the billed work."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.invoicing import services
from punchclock.invoicing.models import BilledEntry, BilledExpense
from tests.invoicing.conftest import NOVEMBER, approved_expense, at, free_draft, track

DAY = date(2026, 11, 30)


def issued_from_work(agency):
    track(agency.member, agency.project, at(2), 90)
    approved_expense(agency.member, "42.50")
    draft = services.create_draft(
        agency.client, by=agency.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )
    return services.issue_invoice(draft, by=agency.owner, issue_date=DAY)


def test_a_full_credit_negates_every_line_and_releases_the_work(billing):
    invoice = issued_from_work(billing)
    note = services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)
    assert note.kind == "credit_note"
    assert note.credits == invoice
    assert note.number == "2026-0002"
    assert note.gross_total == -invoice.gross_total
    assert [line.quantity for line in note.lines.all()] == [Decimal("-1.5"), Decimal(-1)]
    assert not BilledEntry.objects.exists()
    assert not BilledExpense.objects.exists()
    again = services.create_draft(
        billing.client, by=billing.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )
    assert again.gross_total == invoice.gross_total
    assert [e.kind for e in invoice.events.all()][-1] == "credited"


def test_a_partial_credit_covers_the_given_lines_and_keeps_the_work_billed(billing):
    invoice = issued_from_work(billing)
    expense_line = invoice.lines.get(position=2)
    note = services.credit_invoice(invoice, by=billing.owner, lines=[expense_line], issue_date=DAY)
    assert note.net_total == Decimal("-42.50")
    assert note.tax_total == Decimal("-8.08")
    assert BilledExpense.objects.exists()
    with pytest.raises(ValidationError, match="already credited"):
        services.credit_invoice(invoice, by=billing.owner, lines=[expense_line], issue_date=DAY)
    rest = services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)
    assert rest.lines.get().description == "API"
    with pytest.raises(ValidationError, match="fully credited"):
        services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)


def test_drafts_and_credit_notes_cannot_be_credited(billing):
    draft = free_draft(billing, ("Design", "1", "100"))
    with pytest.raises(ValidationError, match="Only issued invoices"):
        services.credit_invoice(draft, by=billing.owner)
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=DAY)
    note = services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)
    with pytest.raises(ValidationError, match="Only issued invoices"):
        services.credit_invoice(note, by=billing.owner, issue_date=DAY)
