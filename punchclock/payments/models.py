"""Money received and returned, and what it paid.

A `Payment` is money that moved between the client and the organization: positive when
received, negative when refunded. `Allocation`s say which invoices it paid, in the
invoice's currency; what a payment has not allocated is the client's credit, in the
payment's currency. Balances and statuses are never stored: issued invoices are immutable,
so they derive from the invoice, its credit notes and the allocations (see balances.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Organization
from punchclock.clients.models import Client
from punchclock.core.validators import validate_currency
from punchclock.invoicing.models import Invoice

User = settings.AUTH_USER_MODEL


class Method(models.TextChoices):
    TRANSFER = "transfer", "Bank transfer"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    STRIPE = "stripe", "Online (Stripe)"
    OTHER = "other", "Other"


class BankLine(models.Model):
    """One booked line of an imported bank statement; unique per organization."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MATCHED = "matched", "Recorded as payment"
        IGNORED = "ignored", "Ignored"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bank_lines"
    )
    statement = models.ForeignKey("BankStatement", on_delete=models.CASCADE, related_name="lines")
    fingerprint = models.CharField(max_length=64)
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    reference = models.TextField(blank=True)
    counterparty = models.CharField(max_length=200, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    bank_reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # The invoice the matcher proposed; the user confirms or picks another.
    proposed_invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    proposal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["booking_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"], name="bank_line_once_per_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.currency}"


class BankStatement(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bank_statements"
    )
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    line_count = models.PositiveIntegerField(default=0)  # lines in the file
    new_lines = models.PositiveIntegerField(default=0)  # lines not imported before

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.filename


class Payment(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="payments"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    # In `currency`; negative for money returned to the client.
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    received_on = models.DateField()
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.TRANSFER)
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    # Units of the invoice's currency per unit of `currency`, kept when they differ.
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    # Stripe: the PaymentIntent a received payment came from, the Refund a refund mirrors.
    # NULL when not online; unique, so a webhook delivered twice records once.
    stripe_payment_intent = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    stripe_refund = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    bank_line = models.OneToOneField(
        BankLine, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, refund_of__isnull=True) | Q(amount__lt=0),
                name="payment_refund_is_negative",
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0),
                name="payment_exchange_rate_positive",
            ),
            models.UniqueConstraint(
                fields=["stripe_payment_intent"], name="one_payment_per_payment_intent"
            ),
            models.UniqueConstraint(fields=["stripe_refund"], name="one_payment_per_refund"),
        ]
        indexes = [models.Index(fields=["organization", "client"], name="payment_org_client")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.received_on}"

    @property
    def is_refund(self) -> bool:
        return self.amount < 0


class Allocation(models.Model):
    """The part of a payment (or refund) that went to one invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=4)  # the invoice's currency
    payment_amount = models.DecimalField(max_digits=14, decimal_places=4)  # the payment's
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, payment_amount__gt=0)
                | Q(amount__lt=0, payment_amount__lt=0),
                name="allocation_signs_agree",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} to {self.invoice}"


class PaymentSettings(models.Model):
    """Online payment and bank import preferences of one organization."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="payment_settings"
    )
    stripe_enabled = models.BooleanField(default=False)
    # The column mapping last used for CSV statements (see statements.CsvMapping).
    csv_mapping = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Payment settings of {self.organization}"

    @classmethod
    def of(cls, organization_id: int) -> PaymentSettings:
        found, _ = cls.objects.get_or_create(organization_id=organization_id)
        return found


class CheckoutSession(models.Model):
    """A Stripe Checkout session opened for an invoice's open balance."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="checkout_sessions")
    session_id = models.CharField(max_length=255, unique=True)
    url = models.TextField()
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.session_id


class StripeEvent(models.Model):
    """Every verified webhook event, once: its id is unique, so a redelivery is a no-op.

    The state of a PaymentIntent is derived from all of its stored events, whatever order
    they came in (see stripe_payments.py)."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    created = models.DateTimeField()  # Stripe's time of the event
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PortalLink(models.Model):
    """A client's link to one invoice (or, without invoice, to all its documents).

    The link's token is signed: the link's id and its random nonce, with an HMAC under the
    server's SECRET_KEY (see portal.py). The database alone gives no working link, the same
    link can be shown again (in the email, the PDF, the invoice page), and revoking it or
    its expiry ends it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="portal_links"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="portal_links")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="portal_links"
    )
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Portal link for {self.invoice or self.client}"


ZERO = Decimal(0)
