"""Opening a Stripe Checkout session for an invoice's open balance, against a fake Stripe."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import stripe
from django.core.exceptions import ValidationError

from punchclock.expenses.services import set_manual_rate
from punchclock.invoicing import services as invoicing
from punchclock.payments import services, stripe_payments
from punchclock.payments.models import CheckoutSession, PaymentSettings, StripeEvent
from tests.invoicing.conftest import free_draft
from tests.payments.conftest import ISSUED, issued, paid

pytestmark = pytest.mark.usefixtures("frozen_today", "stripe_on")
SUCCESS, CANCEL = "https://pay.example.test/done", "https://pay.example.test/back"


class FakeSessions:
    """Stripe's checkout.sessions as far as Punchclock uses it: the same idempotency key
    answers the same session, as Stripe does for 24 hours."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.by_key: dict[str, SimpleNamespace] = {}
        self.fail_next: stripe.StripeError | None = None
        self.lifetime = 24 * 3600
        self._ids = itertools.count(1)

    def create(self, params: dict[str, Any], options: dict[str, Any]) -> SimpleNamespace:
        self.calls.append((params, options))
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        key = options["idempotency_key"]
        if key not in self.by_key:
            n = next(self._ids)
            self.by_key[key] = SimpleNamespace(
                id=f"cs_test_{n}",
                url=f"https://checkout.stripe.com/c/pay/cs_test_{n}",
                expires_at=int(time.time()) + self.lifetime,
            )
        return self.by_key[key]


@pytest.fixture
def fake_stripe(monkeypatch) -> FakeSessions:
    sessions = FakeSessions()
    client = SimpleNamespace(v1=SimpleNamespace(checkout=SimpleNamespace(sessions=sessions)))
    monkeypatch.setattr(stripe_payments, "stripe_client", lambda: client)
    return sessions


@pytest.fixture
def stripe_on(settings, agency):
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789"
    stripe_payments.set_stripe_enabled(agency.organization.pk, by=agency.owner, enabled=True)


def test_a_session_for_the_open_balance_in_cents(billing, fake_stripe):
    billing.client.email = "ap@globex.test"
    billing.client.save()
    invoice = issued(billing)
    session = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert (session.amount, session.currency) == (Decimal("119.00"), "EUR")
    assert session.url.startswith("https://checkout.stripe.com/")
    params, options = fake_stripe.calls[0]
    assert params["mode"] == "payment"
    [item] = params["line_items"]
    assert item["quantity"] == 1
    assert item["price_data"]["unit_amount"] == 11900
    assert item["price_data"]["currency"] == "eur"
    assert item["price_data"]["product_data"]["name"] == f"Invoice {invoice.number}"
    expected = {"invoice_id": str(invoice.pk), "organization_id": str(billing.organization.pk)}
    assert params["metadata"] == expected
    assert params["payment_intent_data"]["metadata"] == expected
    assert params["customer_email"] == "ap@globex.test"
    assert (params["success_url"], params["cancel_url"]) == (SUCCESS, CANCEL)
    assert options["idempotency_key"].startswith(f"punchclock-checkout-{invoice.pk}-0-")


def test_yen_are_sent_without_decimals(billing, fake_stripe):
    set_manual_rate(
        billing.organization, by=billing.owner, currency="JPY", rate=Decimal(160), on=ISSUED
    )
    invoice = issued(billing, "1000", currency="JPY")
    stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    price = fake_stripe.calls[0][0]["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == (1190, "jpy")
    assert "customer_email" not in fake_stripe.calls[0][0]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("119.00", "EUR", 11900),
        ("0.01", "USD", 1),
        ("1190", "JPY", 1190),
        ("12345.67", "HUF", 1234567),  # two decimals for charges; whole units only in payouts
        ("5", "ISK", 500),  # whole krónur, written with two decimals
        ("5", "UGX", 500),
        ("5.120", "KWD", 5120),  # three decimals, the last one 0
        ("7", "MGA", 7),  # zero-decimal at Stripe, two decimals in ISO 4217
    ],
)
def test_amounts_in_stripes_smallest_units(amount, currency, expected):
    assert stripe_payments.to_stripe_amount(Decimal(amount), currency) == expected
    assert stripe_payments.from_stripe_amount(expected, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("5.125", "KWD", "steps of 0.01"),
        ("7.50", "MGA", "steps of 1"),
        ("10.000", "IQD", "does not take payments in IQD"),
        ("1.0000", "CLF", "does not take payments in CLF"),
    ],
)
def test_amounts_stripe_cannot_charge_exactly_are_refused(amount, currency, message):
    with pytest.raises(ValidationError, match=message):
        stripe_payments.to_stripe_amount(Decimal(amount), currency)


def test_an_open_session_for_the_same_balance_is_reused(billing, fake_stripe):
    invoice = issued(billing)
    first = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    again = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert again.pk == first.pk
    assert len(fake_stripe.calls) == 1
    assert CheckoutSession.objects.count() == 1


def test_a_new_balance_gets_a_new_session_with_a_new_key(billing, fake_stripe):
    invoice = issued(billing)
    first = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    services.record_payment(invoice, paid("19.00"), by=billing.owner)
    second = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert second.pk != first.pk
    assert second.amount == Decimal("100.00")
    keys = [options["idempotency_key"] for _, options in fake_stripe.calls]
    assert len(set(keys)) == 2
    assert keys[1].startswith(f"punchclock-checkout-{invoice.pk}-1-")


def test_a_session_about_to_expire_or_completed_is_not_offered_again(billing, fake_stripe):
    invoice = issued(billing)
    fake_stripe.lifetime = 10 * 60  # inside the reuse margin
    short = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    fake_stripe.lifetime = 24 * 3600
    fresh = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert fresh.pk != short.pk
    StripeEvent.objects.create(
        event_id="evt_done",
        type="checkout.session.completed",
        created=datetime(2026, 11, 20, tzinfo=UTC),
        payload={"data": {"object": {"id": fresh.session_id}}},
    )
    third = stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert third.pk not in (short.pk, fresh.pk)


def test_a_retried_request_gets_the_same_session_from_stripe(billing, fake_stripe):
    invoice = issued(billing)
    fake_stripe.fail_next = stripe.APIConnectionError("network down")
    with pytest.raises(ValidationError, match="try again later"):
        stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert not CheckoutSession.objects.exists()
    stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    keys = [options["idempotency_key"] for _, options in fake_stripe.calls]
    assert keys[0] == keys[1]


def test_stripes_own_refusal_is_passed_on(billing, fake_stripe):
    invoice = issued(billing)
    fake_stripe.fail_next = stripe.InvalidRequestError(
        "Amount must convert to at least 50 cents.", param="line_items"
    )
    with pytest.raises(ValidationError, match="at least 50 cents"):
        stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert not CheckoutSession.objects.exists()


def _refused(invoice, fake_stripe, message: str) -> None:
    assert not stripe_payments.online_payment_available(invoice)
    with pytest.raises(ValidationError, match=message):
        stripe_payments.start_checkout(invoice, success_url=SUCCESS, cancel_url=CANCEL)
    assert fake_stripe.calls == []
    assert not CheckoutSession.objects.exists()


def test_available_for_an_open_invoice(billing, fake_stripe):
    assert stripe_payments.online_payment_available(issued(billing))


def test_refused_when_the_organization_turned_it_off(billing, fake_stripe):
    invoice = issued(billing)
    stripe_payments.set_stripe_enabled(billing.organization.pk, by=billing.owner, enabled=False)
    _refused(invoice, fake_stripe, "does not take online payments")


def test_refused_without_keys(billing, fake_stripe, settings):
    invoice = issued(billing)
    settings.STRIPE_SECRET_KEY = ""
    _refused(invoice, fake_stripe, "Stripe keys are missing")


def test_refused_when_nothing_is_owed(billing, fake_stripe):
    invoice = issued(billing)
    services.record_payment(invoice, paid("119.00"), by=billing.owner)
    _refused(invoice, fake_stripe, "nothing left to pay")


def test_refused_for_a_client_who_pays_by_transfer(billing, fake_stripe):
    invoice = issued(billing)
    billing.client.online_payment = False
    billing.client.save()
    invoice.refresh_from_db()
    _refused(invoice, fake_stripe, "not offered for this client")


def test_refused_for_a_credit_note(billing, fake_stripe):
    note = invoicing.credit_invoice(issued(billing), by=billing.owner)
    _refused(note, fake_stripe, "credit note")


def test_refused_for_a_draft(billing, fake_stripe):
    _refused(free_draft(billing, ("Work", "1", "100")), fake_stripe, "draft")


def test_refused_for_an_amount_stripe_cannot_charge(billing, fake_stripe):
    set_manual_rate(
        billing.organization, by=billing.owner, currency="MGA", rate=Decimal(5000), on=ISSUED
    )
    invoice = issued(billing, "100.01", currency="MGA")  # 119.01 MGA
    _refused(invoice, fake_stripe, "steps of 1")


def test_turning_it_on_needs_both_keys(agency, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ValidationError, match="STRIPE_SECRET_KEY"):
        stripe_payments.set_stripe_enabled(agency.organization.pk, by=agency.owner, enabled=True)
    settings.STRIPE_SECRET_KEY = "sk_test_1"
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(ValidationError, match="STRIPE_WEBHOOK_SECRET"):
        stripe_payments.set_stripe_enabled(agency.organization.pk, by=agency.owner, enabled=True)
    stripe_payments.set_stripe_enabled(agency.organization.pk, by=agency.owner, enabled=False)
    assert not PaymentSettings.of(agency.organization.pk).stripe_enabled


def test_start_checkout_needs_absolute_urls(billing, fake_stripe):
    with pytest.raises(ValueError, match="absolute"):
        stripe_payments.start_checkout(issued(billing), success_url="/done", cancel_url=CANCEL)
