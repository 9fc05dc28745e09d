"""Retainers and their closed periods (decision 0012)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization
from punchclock.automation.models.schedules import Action
from punchclock.clients.models import Client
from punchclock.invoicing.models import Invoice
from punchclock.projects.models import Project


class RetainerKind(models.TextChoices):
    HOURS = "hours", "Hours per period"
    AMOUNT = "amount", "An amount of work per period"


class RetainerFrequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly (calendar months)"
    QUARTERLY = "quarterly", "Quarterly (calendar quarters)"


class OveragePolicy(models.TextChoices):
    BILL = "bill", "Bill it at the period's close"
    CARRY = "carry", "Deduct it from the next period"


class UnusedPolicy(models.TextChoices):
    EXPIRE = "expire", "They expire"
    ROLL_OVER = "roll_over", "They roll over to the next period"


class Retainer(models.Model):
    """A client buys an allowance of hours (or of work's value) each period for a fee.

    Time tracked on the client's hourly projects (or on one project) from `starts_on` to
    `ends_on` draws the allowance down and is billed only by the retainer's closes."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="retainers"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="retainers")
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="retainers"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=6, choices=RetainerKind.choices, default=RetainerKind.HOURS)
    # Hours (kind hours) or an amount in the client's currency (kind amount) per period.
    included = models.DecimalField(max_digits=12, decimal_places=2)
    fee = models.DecimalField(max_digits=12, decimal_places=2)
    frequency = models.CharField(
        max_length=9, choices=RetainerFrequency.choices, default=RetainerFrequency.MONTHLY
    )
    starts_on = models.DateField()  # the first day of a month (quarter)
    ends_on = models.DateField(null=True, blank=True)  # the last day of a period
    overage = models.CharField(
        max_length=5, choices=OveragePolicy.choices, default=OveragePolicy.BILL
    )
    # Hours kind: the price of an hour beyond the allowance; empty: the project's or
    # client's bill rate on the period's last day.
    overage_rate = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    unused = models.CharField(
        max_length=9, choices=UnusedPolicy.choices, default=UnusedPolicy.EXPIRE
    )
    # Roll over at most this much (hours or amount); empty: everything unused.
    rollover_cap = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.DRAFT)
    run_as = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    # The last close that failed, and why (tried again the next day); cleared on success.
    message = models.TextField(blank=True)
    failed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client__name", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(included__gt=0), name="retainer_includes_some"),
            models.CheckConstraint(condition=Q(fee__gt=0), name="retainer_fee_positive"),
            models.CheckConstraint(
                condition=Q(overage_rate__isnull=True) | Q(overage_rate__gte=0),
                name="retainer_overage_rate_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(rollover_cap__isnull=True) | Q(rollover_cap__gte=0),
                name="retainer_rollover_cap_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})"


class RetainerPeriodStatus(models.TextChoices):
    DRAFTED = "drafted", "Draft created"
    ISSUED = "issued", "Issued"
    SENT = "sent", "Issued and sent"


class RetainerPeriod(models.Model):
    """One closed period of a retainer, unique per (retainer, period start): the claim.

    Figures are whole units: seconds for an hours retainer, minor units of the client's
    currency for an amount retainer. included + carried_in − used = unused − over; the over
    part is billed (`overage`) or carried (negative `carried_out`), the unused part rolls
    over (positive `carried_out`) or expires (`expired`)."""

    retainer = models.ForeignKey(Retainer, on_delete=models.PROTECT, related_name="periods")
    period_start = models.DateField()
    period_end = models.DateField()
    included = models.BigIntegerField()
    carried_in = models.BigIntegerField(default=0)
    used = models.BigIntegerField(default=0)
    overage = models.BigIntegerField(default=0)  # billed on this period's invoice
    carried_out = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)
    overage_rate = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=8, choices=RetainerPeriodStatus.choices)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # send attempts
    closed_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["retainer", "period_start"], name="one_close_per_retainer_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.retainer}: {self.period_start} – {self.period_end}"
