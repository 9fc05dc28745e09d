"""Stripe events delivered at the same time: one payment, converging state, and no waiting
for an invoice being numbered. Real transactions and threads, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import EventKind, InvoiceEvent, NumberSeries
from punchclock.payments import services
from punchclock.payments.balances import balance_of
from punchclock.payments.models import Payment, StripeEvent
from tests.invoicing.conftest import free_draft
from tests.payments.conftest import TODAY, issued
from tests.payments.test_stripe_webhook import (
    deliver,
    failed,
    outcome,
    refunded,
    session_completed,
    succeeded,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today", "stripe_keys", "wipe_invoices_after"),
]


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_0123456789"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789"
    settings.STRIPE_WEBHOOK_TOLERANCE = 300


def in_thread(work: Callable[[], Any], results: list[Any]) -> threading.Thread:
    """Run `work` on its own database connection; its answer or error lands in `results`."""

    def run() -> None:
        try:
            results.append(work())
        except Exception as exc:  # the failure the test looks for
            results.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def at_once(payloads: list[dict[str, Any]]) -> list[Any]:
    """Deliver the events from one thread each, released together."""
    barrier = threading.Barrier(len(payloads))
    results: list[Any] = []

    def delivery(payload: dict[str, Any]) -> Callable[[], Any]:
        def go() -> Any:
            barrier.wait()
            return deliver(payload)

        return go

    threads = [in_thread(delivery(p), results) for p in payloads]
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("kind", ["succeeded", "session", "failed", "refunded"])
def test_one_event_delivered_three_times_at_once_counts_once(billing, kind):
    invoice = issued(billing)
    if kind == "refunded":
        deliver(succeeded(invoice, "pi_many"))
    payload = {
        "succeeded": lambda: succeeded(invoice, "pi_many"),
        "session": lambda: session_completed(invoice, "pi_many"),
        "failed": lambda: failed(invoice, "pi_many"),
        "refunded": lambda: refunded("pi_many", 3000),
    }[kind]()
    answers = at_once([payload] * 3)
    assert sorted(outcome(a) for a in answers) == ["duplicate", "duplicate", "processed"]
    assert StripeEvent.objects.filter(event_id=payload["id"]).count() == 1
    if kind == "failed":
        assert InvoiceEvent.objects.filter(kind=EventKind.PAYMENT_FAILED).count() == 1
        assert not Payment.objects.exists()
    else:
        assert Payment.objects.filter(refund_of__isnull=True).count() == 1
        refunds = list(Payment.objects.filter(refund_of__isnull=False))
        assert [r.amount for r in refunds] == ([Decimal("-30.00")] if kind == "refunded" else [])


@pytest.mark.parametrize("round_", range(3))
def test_different_events_of_one_payment_at_once_converge(billing, round_):
    invoice = issued(billing)
    pi = f"pi_mixed_{round_}"
    answers = at_once([succeeded(invoice, pi), session_completed(invoice, pi), refunded(pi, 3000)])
    assert [outcome(a) for a in answers] == ["processed"] * 3
    assert sorted(p.amount for p in Payment.objects.all()) == [Decimal("-30.00"), 119]
    assert balance_of(invoice, TODAY).balance == Decimal("30.00")


def test_a_refund_arriving_while_the_success_is_recorded_waits_and_is_applied(billing, monkeypatch):
    """Serialised reconciles, made visible: the refund's delivery waits for the success's
    transaction, then sees it. Without that, it would find no payment and be skipped."""
    invoice = issued(billing)
    inside, release = threading.Event(), threading.Event()
    record = services.record_payment

    def slow_record(*args: Any, **kwargs: Any):
        inside.set()
        release.wait(10)
        return record(*args, **kwargs)

    monkeypatch.setattr(services, "record_payment", slow_record)
    results: list[Any] = []
    first = in_thread(lambda: deliver(succeeded(invoice, "pi_wait")), results)
    assert inside.wait(10)
    second = in_thread(lambda: deliver(refunded("pi_wait", 11900)), results)
    second.join(0.5)
    assert second.is_alive(), "the refund did not wait for the payment being recorded"
    release.set()
    first.join()
    second.join()
    assert [outcome(r) for r in results] == ["processed", "processed"]
    assert sorted(p.amount for p in Payment.objects.all()) == [Decimal("-119.00"), 119]


def test_the_webhook_does_not_wait_for_an_invoice_being_numbered(billing, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: any write waits for an issuing transaction there.")
    invoice = issued(billing)
    draft = free_draft(billing, ("Next month", "1", "100"))
    numbering, release = threading.Event(), threading.Event()
    store_pdf = invoicing._store_pdf

    def paused_store_pdf(document):
        # Issuing is past its locks now: the chain head, the number series, the counter.
        numbering.set()
        release.wait(10)
        return store_pdf(document)

    monkeypatch.setattr(invoicing, "_store_pdf", paused_store_pdf)
    results: list[Any] = []
    issuer = in_thread(lambda: invoicing.issue_invoice(draft, by=billing.owner), results)
    try:
        assert numbering.wait(10)
        with pytest.raises(DatabaseError), transaction.atomic():
            NumberSeries.objects.select_for_update(nowait=True).get(
                organization=billing.organization
            )
        started = time.monotonic()
        response = deliver(succeeded(invoice, "pi_busy"))
        took = time.monotonic() - started
        assert issuer.is_alive(), "the issuer let go of its locks too early"
    finally:
        release.set()
        issuer.join()
    assert outcome(response) == "processed"
    assert took < 2, f"the webhook waited {took:.2f} s for the numbering lock"
    assert Payment.objects.get().stripe_payment_intent == "pi_busy"
    assert results[0].number  # the issue went through afterwards
