"""Recording payments on the invoice page, refunds, credit, and the payments history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from punchclock.payments.models import Payment
from tests.payments.conftest import issued

pytestmark = pytest.mark.usefixtures("frozen_today")


def test_the_invoice_page_records_a_partial_payment_and_shows_what_is_owed(billing, as_owner):
    invoice = issued(billing)
    page = as_owner.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Record a payment" in page
    assert 'value="119.0000"' in page or 'value="119.00"' in page  # the balance, prefilled
    response = as_owner.post(
        f"/payments/invoice/{invoice.pk}/record/",
        {"amount": "100", "received_on": "2026-11-18", "method": "transfer", "reference": "RE 1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/invoices/{invoice.pk}/#payments")
    page = as_owner.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "Partially paid" in page
    assert "€19.00" in page
    listing = as_owner.get("/invoices/").content.decode()
    assert "Partially paid" in listing


def test_a_bad_payment_shows_the_form_again_and_writes_nothing(billing, as_owner):
    invoice = issued(billing)
    response = as_owner.post(
        f"/payments/invoice/{invoice.pk}/record/",
        {"amount": "10", "received_on": "2026-11-18", "method": "transfer", "currency": "CHF"},
    )
    assert response.status_code == 400
    assert "No exchange rate from CHF to EUR" in response.content.decode()
    assert not Payment.objects.exists()


def test_overpayment_credit_refund_and_delete_from_the_pages(billing, as_owner):
    first, second = issued(billing), issued(billing, "10.00")
    as_owner.post(
        f"/payments/invoice/{first.pk}/record/",
        {"amount": "150", "received_on": "2026-11-18", "method": "cash"},
    )
    page = as_owner.get(f"/invoices/{second.pk}/").content.decode()
    assert "Use €31.00 of Globex" in page
    assert as_owner.post(f"/payments/invoice/{second.pk}/credit/").status_code == 302
    assert "Paid" in as_owner.get(f"/invoices/{second.pk}/").content.decode()
    payment = Payment.objects.get()
    refund = as_owner.post(
        f"/payments/{payment.pk}/refund/",
        {"amount": "19.10", "refunded_on": "2026-11-19", "invoice": str(first.pk)},
    )
    assert refund.status_code == 302
    assert Payment.objects.get(refund_of=payment).amount == Decimal("-19.10")
    # A payment with refunds cannot be deleted; the refund itself can.
    as_owner.post(f"/payments/{payment.pk}/delete/", {"invoice": str(first.pk)})
    assert Payment.objects.filter(pk=payment.pk).exists()
    history = as_owner.get("/payments/").content.decode()
    assert "Refund" in history
    assert first.number in history


def test_members_may_not_and_outsiders_see_nothing(billing, as_member, as_outsider):
    invoice = issued(billing)
    data = {"amount": "10", "received_on": "2026-11-18", "method": "cash"}
    assert as_member.post(f"/payments/invoice/{invoice.pk}/record/", data).status_code == 403
    assert as_outsider.post(f"/payments/invoice/{invoice.pk}/record/", data).status_code == 404
    assert not Payment.objects.exists()
    assert as_member.get("/payments/").status_code == 403
