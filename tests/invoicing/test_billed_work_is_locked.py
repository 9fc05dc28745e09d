"""Time and expenses on an invoice change only through the invoice (or a credit note)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.expenses import services as expenses
from punchclock.invoicing import services
from punchclock.tracking import services as tracking
from tests.invoicing.conftest import NOVEMBER, approved_expense, at, track


@pytest.fixture(autouse=True)
def _after_november(monkeypatch):
    monkeypatch.setattr(tracking, "now", lambda: datetime(2026, 12, 5, tzinfo=UTC))


def _draft(agency):
    return services.create_draft(
        agency.client, by=agency.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )


def test_time_on_a_draft_or_issued_invoice_cannot_be_changed(billing):
    entry = track(billing.member, billing.project, at(2), 90)
    draft = _draft(billing)
    with pytest.raises(ValidationError, match="draft invoice"):
        tracking.update_entry(entry, by=billing.owner, description="changed")
    issued = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 30))
    entry.refresh_from_db()
    with pytest.raises(ValidationError, match=issued.number):
        tracking.delete_entry(entry, by=billing.owner)
    with pytest.raises(ValidationError, match=issued.number):
        tracking.split_entry(entry, by=billing.owner, at=at(2, 10))


def test_a_full_credit_note_releases_the_time_again(billing):
    entry = track(billing.member, billing.project, at(2), 90)
    issued = services.issue_invoice(
        _draft(billing), by=billing.owner, issue_date=date(2026, 11, 30)
    )
    services.credit_invoice(issued, by=billing.owner, issue_date=date(2026, 11, 30))
    entry = type(entry).objects.get(pk=entry.pk)
    tracking.update_entry(entry, by=billing.owner, description="billed again later")


def test_billed_expenses_cannot_be_changed(billing):
    expense = approved_expense(billing.member, "42.50")
    _draft(billing)
    expense.refresh_from_db()
    assert expenses.is_billed(expense)
    with pytest.raises(PermissionDenied):
        expenses.delete_expense(expense, by=billing.owner)
