"""Stripe: a Checkout page for an invoice's open balance, and webhooks that record the money.

Outbound calls go through `stripe_client()` alone, so tests swap it for a fake. Inbound
events are stored once each (StripeEvent.event_id is unique) with their PaymentIntent id;
after each new event `reconcile` derives from *all* stored events of that PaymentIntent what
Stripe received and returned, and brings the payments to that state. Events may come in any
order, more than once, and at the same time: the Payment of a PaymentIntent is unique, each
refund row is unique on the refunded total it brings the payment to, and the reconciles of
one PaymentIntent run one after the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.fields.json import KT

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.core.money import minor_units
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.models import EventKind, Invoice, InvoiceEvent, InvoiceKind
from punchclock.payments import services
from punchclock.payments.balances import balance_of
from punchclock.payments.models import (
    CheckoutSession,
    Method,
    Payment,
    PaymentSettings,
    StripeEvent,
)

logger = logging.getLogger(__name__)

SESSION_COMPLETED = "checkout.session.completed"
INTENT_SUCCEEDED = "payment_intent.succeeded"
INTENT_FAILED = "payment_intent.payment_failed"
CHARGE_REFUNDED = "charge.refunded"
# What the webhook endpoint in Stripe's dashboard must send.
HANDLED_EVENTS = (SESSION_COMPLETED, INTENT_SUCCEEDED, INTENT_FAILED, CHARGE_REFUNDED)

# A session this close to expiring is not offered again: the client needs time to pay.
REUSE_MARGIN = timedelta(minutes=30)


def stripe_client() -> stripe.StripeClient:
    """The one door to Stripe's API (tests replace it with a fake that records calls)."""
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY)


def keys_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


# Amounts --------------------------------------------------------------------------------
# Stripe wants integers of a currency's smallest unit, which is not always ISO 4217's
# (docs.stripe.com/currencies, "zero-decimal" and "special cases"). Zero-decimal ones,
# MGA among them although ISO 4217 gives it two decimals:
_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)
# Whole units only, yet written with two decimals for backwards compatibility: 5 → 500.
_WHOLE_UNITS_IN_HUNDREDTHS = frozenset({"ISK", "UGX"})
# Three decimals whose last digit must be 0.
_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# HUF and TWD need nothing special: Stripe charges them with two decimals and treats them
# as zero-decimal only for payouts.


@dataclass(frozen=True, slots=True)
class StripeUnits:
    exponent: int  # amounts are integers of 10**-exponent
    step: Decimal  # an amount Stripe takes is a multiple of this


def stripe_units(currency: str) -> StripeUnits | None:
    """How Stripe writes amounts of a currency; None when it takes no payments in it."""
    if currency in _ZERO_DECIMAL:
        return StripeUnits(0, Decimal(1))
    if currency in _WHOLE_UNITS_IN_HUNDREDTHS:
        return StripeUnits(2, Decimal(1))
    if currency in _THREE_DECIMAL:
        return StripeUnits(3, Decimal("0.01"))
    if minor_units(currency) == 2:
        return StripeUnits(2, Decimal("0.01"))
    return None  # IQD, LYD (three decimals), CLF, UYW (four): not Stripe currencies


def to_stripe_amount(amount: Decimal, currency: str) -> int:
    """An amount as Stripe's integer, or a clear error when Stripe cannot charge it exactly."""
    units = stripe_units(currency)
    if units is None:
        raise ValidationError(f"Stripe does not take payments in {currency}.")
    if amount % units.step:
        raise ValidationError(
            f"Stripe charges {currency} in steps of {units.step}; {amount} {currency} cannot "
            "be paid online exactly."
        )
    return int(amount.scaleb(units.exponent))


def from_stripe_amount(value: int, currency: str) -> Decimal:
    units = stripe_units(currency)
    exponent = units.exponent if units else minor_units(currency)
    return Decimal(value).scaleb(-exponent)


# Checkout -------------------------------------------------------------------------------


def _payable(invoice: Invoice) -> tuple[Decimal, str]:
    """The open balance a client may pay online now, or why they cannot."""
    if not keys_configured():
        raise ValidationError("Online payment is not set up: the Stripe keys are missing.")
    if not stripe_enabled(invoice.organization_id):
        raise ValidationError(f"{invoice.organization.name} does not take online payments.")
    if not invoice.client.online_payment:
        raise ValidationError("Online payment is not offered for this client.")
    if invoice.is_draft:
        raise ValidationError("A draft cannot be paid: issue it first.")
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError(f"{invoice.number} is a credit note: there is nothing to pay.")
    balance = balance_of(invoice, local_date(now(), invoice.organization.timezone))
    if balance.balance <= 0:
        raise ValidationError(f"{invoice.number} has nothing left to pay.")
    to_stripe_amount(balance.balance, balance.currency)
    return balance.balance, balance.currency


def online_payment_available(invoice: Invoice) -> bool:
    """May the client pay this invoice online (a "pay online" link is shown)?"""
    try:
        _payable(invoice)
    except ValidationError:
        return False
    return True


def start_checkout(invoice: Invoice, *, success_url: str, cancel_url: str) -> CheckoutSession:
    """A Stripe Checkout session for the invoice's open balance (an open one is reused)."""
    for url in (success_url, cancel_url):
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"Stripe needs absolute URLs, not {url!r}")
    amount, currency = _payable(invoice)
    reusable = _reusable_session(invoice, amount, currency)
    if reusable is not None:
        return reusable
    params = _session_params(invoice, amount, currency, success_url, cancel_url)
    # The same request retried (a timeout, a double click) gets the same session from
    # Stripe; once a session is stored, the count moves on and a new attempt gets a new one.
    attempt = CheckoutSession.objects.filter(invoice=invoice).count()
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:24]
    key = f"punchclock-checkout-{invoice.pk}-{attempt}-{digest}"
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": key},
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused a checkout session for invoice %s: %s", invoice.pk, exc)
        raise ValidationError(_refusal(exc)) from exc
    expires_at = datetime.fromtimestamp(session.expires_at, UTC) if session.expires_at else None
    stored, _ = CheckoutSession.objects.get_or_create(
        session_id=session.id,
        defaults={
            "invoice": invoice,
            "url": session.url or "",
            "amount": amount,
            "currency": currency,
            "expires_at": expires_at,
        },
    )
    return stored


def _reusable_session(invoice: Invoice, amount: Decimal, currency: str) -> CheckoutSession | None:
    completed = StripeEvent.objects.annotate(session=KT("payload__data__object__id")).filter(
        type=SESSION_COMPLETED, session=OuterRef("session_id")
    )
    return (
        CheckoutSession.objects.filter(
            invoice=invoice,
            amount=amount,
            currency=currency,
            expires_at__gt=now() + REUSE_MARGIN,
        )
        .exclude(Exists(completed))
        .first()
    )


def _session_params(
    invoice: Invoice, amount: Decimal, currency: str, success_url: str, cancel_url: str
) -> dict[str, Any]:
    title = f"Invoice {invoice.number}"
    metadata = {"invoice_id": str(invoice.pk), "organization_id": str(invoice.organization_id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": to_stripe_amount(amount, currency),
                    "product_data": {"name": title},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(invoice.pk),
        "metadata": metadata,
        # The PaymentIntent's events carry it too, whichever event arrives first.
        "payment_intent_data": {"metadata": metadata, "description": title},
    }
    if invoice.client.email:
        params["customer_email"] = invoice.client.email
    return params


def _refusal(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.InvalidRequestError) and exc.user_message:
        return f"Stripe cannot take this payment: {exc.user_message}"
    return "Online payment is not available right now; please try again later."


# Settings -------------------------------------------------------------------------------


def stripe_enabled(organization_id: int) -> bool:
    return PaymentSettings.objects.filter(
        organization_id=organization_id, stripe_enabled=True
    ).exists()


def set_stripe_enabled(organization_id: int, *, by: Membership, enabled: bool) -> None:
    """Offer online payment to clients, or stop offering it."""
    require(by, "payments.manage")
    if by.organization_id != organization_id:
        raise ValidationError("These settings belong to another organization.")
    if enabled and not settings.STRIPE_SECRET_KEY:
        raise ValidationError(
            "Stripe has no secret key here: set STRIPE_SECRET_KEY on the server first."
        )
    if enabled and not settings.STRIPE_WEBHOOK_SECRET:
        raise ValidationError(
            "Stripe has no webhook signing secret here, so payments could not be recorded: "
            "set STRIPE_WEBHOOK_SECRET on the server first."
        )
    with transaction.atomic():
        found = PaymentSettings.of(organization_id)
        found.stripe_enabled = enabled
        found.save(update_fields=["stripe_enabled"])


# Webhook events -------------------------------------------------------------------------


class BadEvent(ValueError):
    """A verified body that does not read as a Stripe event."""


def receive_event(event: Any) -> str:
    """Store a verified event once and bring its PaymentIntent's payments up to date.

    Answers "duplicate" for an event already stored, "ignored" for one that moves no money
    here, else "processed". Storing and reconciling share one transaction: when anything
    unexpected fails, nothing is kept and Stripe's redelivery tries again."""
    event_id, kind, created, obj = _read(event)
    payment_intent = _payment_intent_of(kind, obj)
    with transaction.atomic():
        _serialize(payment_intent)
        try:
            with transaction.atomic():
                stored = StripeEvent.objects.create(
                    event_id=event_id,
                    type=kind,
                    payment_intent=payment_intent,
                    created=created,
                    payload=event,
                )
        except IntegrityError:
            return "duplicate"
        if kind not in HANDLED_EVENTS or not payment_intent:
            return "ignored"
        success = reconcile(payment_intent)
        if kind == INTENT_FAILED and success is None:
            _note_failure(stored)
    return "processed"


def _read(event: Any) -> tuple[str, str, datetime, dict[str, Any]]:
    if not isinstance(event, dict):
        raise BadEvent("The body is not a Stripe event.")
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (
        isinstance(event_id, str)
        and 0 < len(event_id) <= 255
        and isinstance(kind, str)
        and 0 < len(kind) <= 100
        and isinstance(created, int)
        and isinstance(obj, dict)
    ):
        raise BadEvent("The event lacks an id, a type, a creation time or its object.")
    try:
        at = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadEvent("The event's creation time is out of range.") from exc
    return event_id, kind, at, obj


def _payment_intent_of(kind: str, obj: Mapping[str, Any]) -> str:
    found = obj.get("id") if kind.startswith("payment_intent.") else obj.get("payment_intent")
    if isinstance(found, dict):  # expanded
        found = found.get("id")
    return found if isinstance(found, str) and len(found) <= 255 else ""


def _serialize(payment_intent: str) -> None:
    """Make concurrent reconciles of one PaymentIntent run one after the other.

    Each must see the events the previous one stored, or a refund stored beside a success
    could be missed by both. PostgreSQL: a transaction-scoped advisory lock on the
    PaymentIntent id, taken before the event is stored. SQLite: the IMMEDIATE transaction
    already holds the database's one write lock from BEGIN."""
    if payment_intent and connection.vendor == "postgresql":
        digest = hashlib.sha256(f"stripe:{payment_intent}".encode()).digest()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)",
                [int.from_bytes(digest[:8], "big", signed=True)],
            )


@dataclass(frozen=True, slots=True)
class Success:
    """What Stripe received for a PaymentIntent, from a success event."""

    invoice_id: int
    organization_id: int
    amount: Decimal
    currency: str
    at: datetime
    event_id: str


def reconcile(payment_intent: str) -> Success | None:
    """Bring the payments of one PaymentIntent to what all of its stored events say.

    Returns the success the events tell of, if any."""
    events = list(StripeEvent.objects.filter(payment_intent=payment_intent))
    success = _success(events)
    if success is None:
        return None  # refunds wait for it, stored
    invoice = (
        Invoice.objects.select_related("organization")
        .filter(pk=success.invoice_id, organization_id=success.organization_id)
        .first()
    )
    if invoice is None:
        logger.warning(
            "Stripe paid %s for invoice %s of organization %s, which does not exist here",
            payment_intent,
            success.invoice_id,
            success.organization_id,
        )
        return success
    payment = Payment.objects.filter(stripe_payment_intent=payment_intent).first()
    if payment is None:
        payment = _record(invoice, payment_intent, success)
    if payment is not None:
        _refund(payment, invoice, events)
    return success


def _success(events: list[StripeEvent]) -> Success | None:
    """The success the events tell of; the PaymentIntent's own event is preferred."""
    found = [_as_success(event) for event in events]
    known = [s for s in found if s is not None]
    known.sort(key=lambda s: (s[0], s[1].at, s[1].event_id))
    return known[0][1] if known else None


def _as_success(event: StripeEvent) -> tuple[int, Success] | None:
    obj = event.payload["data"]["object"]
    if event.type == INTENT_SUCCEEDED:
        rank, amount = 0, obj.get("amount_received")
    elif event.type == SESSION_COMPLETED and obj.get("payment_status") == "paid":
        rank, amount = 1, obj.get("amount_total")
    else:
        return None
    ids = _invoice_ids(obj)
    if ids is None:
        logger.info("Stripe event %s is not for a Punchclock invoice", event.event_id)
        return None
    currency = obj.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str) or len(currency) != 3:
        logger.warning("Stripe event %s has no usable amount", event.event_id)
        return None
    upper = currency.upper()
    value = from_stripe_amount(amount, upper)
    return rank, Success(*ids, value, upper, event.created, event.event_id)


def _invoice_ids(obj: Mapping[str, Any]) -> tuple[int, int] | None:
    """Invoice and organization ids from the metadata start_checkout gave the payment."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return None
    try:
        return int(metadata["invoice_id"]), int(metadata["organization_id"])
    except (KeyError, TypeError, ValueError):
        return None


def _record(invoice: Invoice, payment_intent: str, success: Success) -> Payment | None:
    given = services.PaymentInput(
        amount=success.amount,
        currency=success.currency,
        received_on=local_date(success.at, invoice.organization.timezone),
        method=Method.STRIPE,
        reference=payment_intent,
    )
    try:
        # Whatever arrived is recorded, even when it is not the open balance: it is real
        # money, and what exceeds the balance becomes the client's credit.
        return services.record_payment(
            invoice, given, by=None, stripe_payment_intent=payment_intent
        )
    except ValidationError as exc:
        _unrecorded(invoice, payment_intent, f"received {success.amount} {success.currency}", exc)
        return None


def _refund(payment: Payment, invoice: Invoice, events: list[StripeEvent]) -> None:
    """Refund rows that add up to the largest refunded total Stripe reported."""
    refunded: tuple[int, datetime] | None = None
    for event in events:
        obj = event.payload["data"]["object"]
        total = obj.get("amount_refunded")
        if event.type != CHARGE_REFUNDED or not isinstance(total, int):
            continue
        if str(obj.get("currency", "")).upper() != payment.currency:
            logger.warning("Stripe refund %s is not in %s", event.event_id, payment.currency)
            continue
        if refunded is None or (total, event.created) > refunded:
            refunded = (total, event.created)
    if refunded is None:
        return
    total, at = refunded
    target = from_stripe_amount(total, payment.currency)
    done = -sum(r.amount for r in payment.refunds.filter(stripe_refund__isnull=False))
    if target <= done:
        return
    try:
        services.refund_payment(
            payment,
            by=None,
            amount=target - done,
            on=local_date(at, invoice.organization.timezone),
            # One row per refunded total reached: a second try cannot add it again.
            stripe_refund=f"{payment.stripe_payment_intent}:refunded:{total}",
        )
    except ValidationError as exc:
        what = f"refunded {target - done} {payment.currency}"
        _unrecorded(invoice, payment.stripe_payment_intent or "", what, exc)


def _unrecorded(invoice: Invoice, payment_intent: str, what: str, exc: ValidationError) -> None:
    """Money moved at Stripe but cannot be recorded: say so on the invoice, once, and log it.

    The event stays stored and the webhook answers 200: Stripe retrying would not help."""
    reason = "; ".join(exc.messages)
    logger.warning("Stripe %s for %s not recorded on %s: %s", what, payment_intent, invoice, reason)
    already = InvoiceEvent.objects.filter(
        invoice=invoice,
        kind=EventKind.PAYMENT_FAILED,
        detail__payment_intent=payment_intent,
        detail__problem="not recorded",
    ).exists()
    if not already:
        services.record_event(
            invoice,
            EventKind.PAYMENT_FAILED,
            payment_intent=payment_intent,
            problem="not recorded",
            message=f"Stripe {what}, but Punchclock could not record it: {reason}. "
            "Settle it in Stripe's dashboard or record it by hand.",
        )


def _note_failure(event: StripeEvent) -> None:
    """A failed attempt shows on the invoice (only while no success is known: a failure
    delivered late never stands beside the payment that followed it)."""
    obj = event.payload["data"]["object"]
    ids = _invoice_ids(obj)
    invoice = Invoice.objects.filter(pk=ids[0], organization_id=ids[1]).first() if ids else None
    if invoice is None:
        return
    error = obj.get("last_payment_error") or {}
    services.payment_failed(
        invoice,
        payment_intent=event.payment_intent,
        stripe_event=event.event_id,
        message=str(error.get("message") or "The payment did not go through."),
    )
