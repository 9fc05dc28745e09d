"""Issuing: gapless numbers from a locked counter, dates in order, snapshot, totals, hash."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.invoicing import services
from punchclock.invoicing.models import NumberSeries, SeriesCounter
from tests.invoicing.conftest import free_draft


def issue(agency, day=date(2026, 11, 30), **kwargs):
    invoice = free_draft(agency, ("Design", "1", "138.66"))
    return services.issue_invoice(invoice, by=agency.owner, issue_date=day, **kwargs)


def test_issuing_numbers_the_invoice_and_stores_its_totals(billing):
    invoice = issue(billing)
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert invoice.number == "2026-0001"
    assert invoice.due_date == date(2026, 12, 30)
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        Decimal("138.66"),
        Decimal("26.35"),
        Decimal("165.01"),
    )
    assert len(invoice.sha256) == 64
    assert invoice.previous_hash == ""
    assert [e.kind for e in invoice.events.all()] == ["created", "edited", "issued"]


def test_numbers_follow_each_other_and_restart_every_year(billing):
    numbers = [issue(billing, date(2026, 12, d)).number for d in (1, 2)]
    numbers.append(issue(billing, date(2027, 1, 4)).number)
    assert numbers == ["2026-0001", "2026-0002", "2027-0001"]
    assert SeriesCounter.objects.get(year=2026).last == 2


def test_a_series_without_yearly_reset_keeps_counting(billing):
    series = services.create_series(
        billing.organization, by=billing.owner, name="pro", pattern="P{seq:05}", yearly_reset=False
    )
    numbers = [issue(billing, date(y, 12, 31), series=series).number for y in (2026, 2027)]
    assert numbers == ["P00001", "P00002"]


def test_a_pattern_with_unknown_fields_is_refused(billing):
    with pytest.raises(ValidationError, match="Use only"):
        services.create_series(billing.organization, by=billing.owner, name="x", pattern="{month}")
    with pytest.raises(ValidationError, match="needs \\{year\\}"):
        services.create_series(billing.organization, by=billing.owner, name="x", pattern="{seq}")


def test_issue_dates_never_go_backwards_within_a_series(billing):
    issue(billing, date(2026, 11, 30))
    draft = free_draft(billing, ("Late", "1", "1"))
    with pytest.raises(ValidationError, match="cannot go backwards"):
        services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 29))
    draft.refresh_from_db()
    assert draft.number is None
    assert SeriesCounter.objects.get().last == 1
    other = NumberSeries.objects.create(organization=billing.organization, name="other")
    assert (
        services.issue_invoice(
            draft, by=billing.owner, issue_date=date(2026, 11, 29), series=other
        ).number
        == "2026-0001"
    )


def test_the_snapshot_keeps_seller_and_buyer_as_they_were(billing):
    billing.client.address_line1 = "1 Old Road"
    billing.client.save()
    invoice = issue(billing)
    billing.client.name = "Globex Renamed"
    billing.client.address_line1 = "2 New Road"
    billing.client.save()
    invoice.refresh_from_db()
    assert invoice.snapshot["buyer"]["name"] == "Globex"
    assert invoice.snapshot["buyer"]["address_line1"] == "1 Old Road"
    assert invoice.snapshot["seller"]["vat_id"] == "DE811907980"


def test_an_empty_draft_cannot_be_issued(billing):
    with pytest.raises(ValidationError, match="at least one line"):
        services.issue_invoice(free_draft(billing), by=billing.owner)


def test_reverse_charge_needs_the_buyers_vat_id_and_prints_the_wording(billing):
    billing.client.tax_treatment = "reverse_charge"
    billing.client.save()
    draft = free_draft(billing, ("Design", "1", "100"))
    assert draft.lines.get().tax_category == "AE"
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(draft, by=billing.owner)
    assert "vat_id" in caught.value.message_dict
    billing.client.vat_id = "FR40303265045"
    billing.client.save()
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 30))
    assert invoice.tax_total == Decimal("0.00")
    assert "Reverse charge" in invoice.snapshot["tax_notes"]["AE"]


def test_exempt_supplies_need_a_reason(billing):
    billing.client.tax_treatment = "exempt"
    billing.client.save()
    draft = free_draft(billing, ("Course", "1", "100"))
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(draft, by=billing.owner)
    assert "tax_note" in caught.value.message_dict


def test_a_standard_rated_line_without_a_rate_is_refused(billing):
    draft = free_draft(billing)
    services.add_line(
        draft,
        by=billing.owner,
        description="x",
        quantity=Decimal(1),
        unit_price=Decimal(1),
        tax_category="S",
        tax_rate=Decimal(0),
    )
    with pytest.raises(ValidationError, match="BR-S-05"):
        services.issue_invoice(draft, by=billing.owner)
