"""Stripe's webhook: signatures checked, each event stored once, payments recorded exactly once
whatever the order, and nothing written for anything that does not verify.

Offline: bodies are signed here with stripe.WebhookSignature, as Stripe signs them."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.db import OperationalError, transaction
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.expenses.services import set_manual_rate
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import EventKind, Invoice, InvoiceEvent
from punchclock.payments import stripe_payments
from punchclock.payments.balances import balance_of, client_credit
from punchclock.payments.models import Method, Payment, StripeEvent
from tests.payments.conftest import ISSUED, TODAY, issued

SECRET = "whsec_test_0123456789"
AT = datetime(2026, 11, 20, 10, tzinfo=UTC)
_ids = itertools.count(1)

pytestmark = pytest.mark.usefixtures("frozen_today", "stripe_keys")


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE = 300


# Events as Stripe sends them (only the fields Punchclock reads, plus a few for realism).


def event(kind: str, obj: dict[str, Any], *, created: datetime = AT) -> dict[str, Any]:
    return {
        "id": f"evt_{next(_ids)}",
        "object": "event",
        "type": kind,
        "created": int(created.timestamp()),
        "livemode": False,
        "data": {"object": obj},
    }


def metadata(invoice: Invoice) -> dict[str, str]:
    return {"invoice_id": str(invoice.pk), "organization_id": str(invoice.organization_id)}


def succeeded(invoice: Invoice, pi: str, amount: int = 11900, currency: str = "eur", **kw):
    intent = {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "status": "succeeded",
        "metadata": metadata(invoice),
    }
    return event("payment_intent.succeeded", intent, **kw)


def session_completed(invoice: Invoice, pi: str, amount: int = 11900, status: str = "paid"):
    session = {
        "id": f"cs_test_{next(_ids)}",
        "object": "checkout.session",
        "mode": "payment",
        "payment_intent": pi,
        "payment_status": status,
        "amount_total": amount,
        "currency": "eur",
        "metadata": metadata(invoice),
    }
    return event("checkout.session.completed", session)


def failed(invoice: Invoice, pi: str, **kw) -> dict[str, Any]:
    intent = {
        "id": pi,
        "object": "payment_intent",
        "amount": 11900,
        "currency": "eur",
        "status": "requires_payment_method",
        "metadata": metadata(invoice),
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    return event("payment_intent.payment_failed", intent, **kw)


def refunded(pi: str, total: int, currency: str = "eur", **kw) -> dict[str, Any]:
    charge = {
        "id": f"ch_{pi}",
        "object": "charge",
        "payment_intent": pi,
        "amount": 11900,
        "amount_refunded": total,
        "currency": currency,
        "refunded": total == 11900,
    }
    return event("charge.refunded", charge, **kw)


def signed(body: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)


def deliver(payload: dict[str, Any], http: HttpClient | None = None, **headers: str):
    """POST an event as Stripe does: JSON body, Stripe-Signature header."""
    body = json.dumps(payload)
    headers.setdefault("Stripe-Signature", signed(body))
    return (http or HttpClient()).post(
        reverse("payments:stripe_webhook"), body, content_type="application/json", headers=headers
    )


def outcome(response) -> str:
    assert response.status_code == 200, response.content
    return response.json()["received"]


# Each event, delivered three times ---------------------------------------------------------


def test_a_succeeded_payment_intent_delivered_three_times_records_one_payment(billing):
    invoice = issued(billing)
    payload = succeeded(invoice, "pi_3x")
    assert [outcome(deliver(payload)) for _ in range(3)] == [
        "processed",
        "duplicate",
        "duplicate",
    ]
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.method) == (
        Decimal("119.00"),
        "EUR",
        Method.STRIPE,
    )
    assert (payment.reference, payment.stripe_payment_intent) == ("pi_3x", "pi_3x")
    assert payment.received_on == date(2026, 11, 20)
    assert payment.created_by is None
    assert StripeEvent.objects.get().payment_intent == "pi_3x"
    assert balance_of(invoice, TODAY).state == "paid"


def test_a_completed_checkout_session_delivered_three_times_records_one_payment(billing):
    invoice = issued(billing)
    payload = session_completed(invoice, "pi_cs")
    for _ in range(3):
        deliver(payload)
    assert Payment.objects.get().stripe_payment_intent == "pi_cs"
    assert balance_of(invoice, TODAY).balance == 0


def test_a_failed_payment_intent_delivered_three_times_notes_one_failure(billing):
    invoice = issued(billing)
    payload = failed(invoice, "pi_fail")
    for _ in range(3):
        deliver(payload)
    note = InvoiceEvent.objects.get(invoice=invoice, kind=EventKind.PAYMENT_FAILED)
    assert note.detail["message"] == "Your card was declined."
    assert note.detail["payment_intent"] == "pi_fail"
    assert not Payment.objects.exists()


def test_a_refund_delivered_three_times_refunds_once(billing):
    invoice = issued(billing)
    deliver(succeeded(invoice, "pi_ref"))
    payload = refunded("pi_ref", 3000)
    for _ in range(3):
        deliver(payload)
    refund = Payment.objects.get(refund_of__isnull=False)
    assert (refund.amount, refund.stripe_refund) == (Decimal("-30.00"), "pi_ref:refunded:3000")
    assert balance_of(invoice, TODAY).balance == Decimal("30.00")


# Any order converges ------------------------------------------------------------------------


def _state(invoice: Invoice, pi: str) -> tuple[Any, ...]:
    """What the payments of a PaymentIntent say, without ids."""
    rows = sorted(
        (
            p.amount,
            p.currency,
            p.received_on,
            p.method,
            p.reference.replace(pi, "PI"),
            p.refund_of_id is not None,
            (p.stripe_refund or "").replace(pi, "PI"),
        )
        for p in Payment.objects.filter(client=invoice.client)
    )
    return (tuple(rows), balance_of(invoice, TODAY).balance)


@pytest.mark.parametrize("success", [succeeded, session_completed])
@pytest.mark.parametrize("refunded_total", [3000, 11900], ids=["partial", "full"])
def test_every_order_of_success_refund_and_late_failure_converges(billing, success, refunded_total):
    invoice = issued(billing)
    states = set()
    for n, order in enumerate(itertools.permutations(["success", "refund", "failure"])):
        pi = f"pi_order_{n}"
        events = {
            "success": success(invoice, pi),
            "refund": refunded(pi, refunded_total),
            "failure": failed(invoice, pi),
        }
        # Each order runs on the same invoice and is rolled back afterwards.
        sid = transaction.savepoint_create()
        for name in order:
            assert deliver(events[name]).status_code == 200
        states.add(_state(invoice, pi))
        notes = InvoiceEvent.objects.filter(invoice=invoice, kind=EventKind.PAYMENT_FAILED)
        # A failure is noted only while no success is known: never beside the payment.
        assert notes.count() == (order.index("failure") < order.index("success"))
        transaction.savepoint_rollback(sid)
    assert len(states) == 1
    rows, balance = states.pop()
    left = Decimal(refunded_total).scaleb(-2)
    assert balance == left
    assert [r[0] for r in rows] == [-left, Decimal("119.00")]


def test_two_refunds_in_either_order_return_the_largest_total(billing):
    invoice = issued(billing)
    for n, totals in enumerate([(3000, 11900), (11900, 3000)]):
        pi = f"pi_two_{n}"
        sid = transaction.savepoint_create()
        deliver(succeeded(invoice, pi))
        for total in totals:
            deliver(refunded(pi, total))
        refunds = Payment.objects.filter(refund_of__isnull=False)
        assert sum(r.amount for r in refunds) == Decimal("-119.00")
        assert balance_of(invoice, TODAY).balance == Decimal("119.00")
        transaction.savepoint_rollback(sid)


def test_a_refund_before_the_success_waits_for_it(billing):
    invoice = issued(billing)
    assert outcome(deliver(refunded("pi_early", 11900))) == "processed"
    assert not Payment.objects.exists()
    deliver(session_completed(invoice, "pi_early"))
    assert sorted(p.amount for p in Payment.objects.all()) == [Decimal("-119.00"), 119]
    assert balance_of(invoice, TODAY).balance == Decimal("119.00")


def test_the_session_and_the_intent_of_one_payment_record_it_once(billing):
    invoice = issued(billing)
    deliver(session_completed(invoice, "pi_both"))
    deliver(succeeded(invoice, "pi_both"))
    assert Payment.objects.count() == 1
    assert StripeEvent.objects.filter(payment_intent="pi_both").count() == 2


def test_a_late_failure_never_undoes_a_payment(billing):
    invoice = issued(billing)
    deliver(succeeded(invoice, "pi_late"))
    deliver(failed(invoice, "pi_late"))
    assert Payment.objects.count() == 1
    assert not InvoiceEvent.objects.filter(kind=EventKind.PAYMENT_FAILED).exists()


def test_an_unpaid_completed_session_records_nothing(billing):
    invoice = issued(billing)
    deliver(session_completed(invoice, "pi_async", status="unpaid"))
    assert not Payment.objects.exists()
    assert StripeEvent.objects.count() == 1


# Amounts, dates, and money that does not fit -------------------------------------------


def test_the_date_received_is_the_events_day_in_the_organizations_zone(billing):
    invoice = issued(billing)  # the agency is in Europe/Berlin, UTC+1 in November
    deliver(succeeded(invoice, "pi_tz", created=datetime(2026, 11, 19, 23, 30, tzinfo=UTC)))
    assert Payment.objects.get().received_on == date(2026, 11, 20)


def test_yen_arrive_in_whole_units(billing):
    set_manual_rate(
        billing.organization, by=billing.owner, currency="JPY", rate=Decimal(160), on=ISSUED
    )
    invoice = issued(billing, "1000", currency="JPY")  # 1,190 JPY
    deliver(succeeded(invoice, "pi_jpy", amount=1190, currency="jpy"))
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency) == (Decimal(1190), "JPY")
    assert balance_of(invoice, TODAY).balance == 0


def test_more_than_the_balance_is_recorded_and_the_rest_is_credit(billing):
    invoice = issued(billing)
    deliver(succeeded(invoice, "pi_over", amount=20000))
    assert Payment.objects.get().amount == Decimal("200.00")
    assert client_credit(billing.client.pk) == {"EUR": Decimal("81.00")}


def test_another_currency_is_recorded_at_the_known_rate(billing):
    invoice = issued(billing)
    set_manual_rate(
        billing.organization, by=billing.owner, currency="USD", rate=Decimal("0.80"), on=TODAY
    )
    deliver(succeeded(invoice, "pi_usd", amount=14875, currency="usd"))
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency) == (Decimal("148.75"), "USD")
    assert balance_of(invoice, TODAY).balance == 0


def test_money_for_a_credited_invoice_is_kept_noted_once_and_logged(billing, caplog):
    invoice = issued(billing)
    invoicing.credit_invoice(invoice, by=billing.owner, issue_date=TODAY)
    assert outcome(deliver(succeeded(invoice, "pi_credited"))) == "processed"
    assert outcome(deliver(session_completed(invoice, "pi_credited"))) == "processed"
    assert not Payment.objects.exists()
    assert StripeEvent.objects.count() == 2
    note = InvoiceEvent.objects.get(invoice=invoice, kind=EventKind.PAYMENT_FAILED)
    assert "credited in full" in note.detail["message"]
    assert "not recorded" in caplog.text


def test_events_that_are_not_for_our_invoices_are_stored_and_ignored(billing, outsider):
    invoice = issued(billing)
    foreign = succeeded(invoice, "pi_foreign")
    foreign["data"]["object"]["metadata"] = {}
    assert outcome(deliver(foreign)) == "processed"
    forged = succeeded(invoice, "pi_forged")
    forged["data"]["object"]["metadata"]["organization_id"] = str(outsider.organization_id)
    deliver(forged)
    assert outcome(deliver(event("customer.created", {"id": "cus_1"}))) == "ignored"
    assert not Payment.objects.exists()
    assert StripeEvent.objects.count() == 3


# Nothing that does not verify is written ------------------------------------------------


def _nothing_written() -> bool:
    return not StripeEvent.objects.exists() and not Payment.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        "missing header",
        "wrong secret",
        "altered body",
        "stale timestamp",
        "malformed header",
        "header without v1",
        "not JSON",
        "not UTF-8",
        "JSON but not an event",
    ],
)
def test_what_does_not_verify_is_refused_with_400_and_writes_nothing(billing, tamper):
    invoice = issued(billing)
    body = json.dumps(succeeded(invoice, "pi_bad"))
    header: str | None = signed(body)
    raw = body.encode()
    if tamper == "missing header":
        header = None
    elif tamper == "wrong secret":
        header = signed(body, secret="whsec_someone_else")
    elif tamper == "altered body":
        raw = body.replace("11900", "1").encode()
    elif tamper == "stale timestamp":
        header = signed(body, timestamp=int(time.time()) - 301)
    elif tamper == "malformed header":
        header = "t=yesterday,v1=abc"
    elif tamper == "header without v1":
        header = signed(body).replace("v1=", "v0=")
    elif tamper == "not JSON":
        raw = b"amount=11900"
        header = signed(raw.decode())
    elif tamper == "not UTF-8":
        raw = b"\xff\xfe{}"
    elif tamper == "JSON but not an event":
        raw = b'{"hello": "world"}'
        header = signed(raw.decode())
    headers = {"Stripe-Signature": header} if header is not None else {}
    response = HttpClient().post(
        reverse("payments:stripe_webhook"), raw, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert _nothing_written()


def test_without_a_webhook_secret_every_event_is_refused(billing, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = deliver(succeeded(issued(billing), "pi_unset"))
    assert response.status_code == 400
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]
    assert _nothing_written()


def test_a_get_is_not_allowed_and_csrf_does_not_apply(billing):
    assert HttpClient().get(reverse("payments:stripe_webhook")).status_code == 405
    strict = HttpClient(enforce_csrf_checks=True)
    assert deliver(succeeded(issued(billing), "pi_csrf"), http=strict).status_code == 200


def test_a_database_failure_keeps_nothing_and_asks_stripe_to_retry(billing, monkeypatch):
    invoice = issued(billing)

    def broken(payment_intent):
        raise OperationalError("database is locked")

    monkeypatch.setattr(stripe_payments, "reconcile", broken)
    response = deliver(succeeded(invoice, "pi_retry"))
    assert response.status_code == 503
    assert _nothing_written()
