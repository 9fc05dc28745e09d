"""Recurring invoices for fixed amounts, their lines, price changes and runs (decision 0011)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization
from punchclock.automation.models.schedules import Action, RunStatus
from punchclock.clients.models import Client
from punchclock.invoicing.models import Invoice, TaxCategory, Unit


class RecurringFrequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"
    MONTHS = "months", "Every N months"


class Billing(models.TextChoices):
    ADVANCE = "advance", "In advance: the period that starts on the issue day"
    ARREARS = "arrears", "In arrears: the period that just ended"


class RecurringInvoice(models.Model):
    """An invoice with fixed lines issued on a day of the month, one per period.

    Periods start on `starts_on` (an issue day) and follow each other without gap; in
    advance a period is billed on its first day, in arrears on the day after its last."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="recurring_invoices"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="recurring_invoices")
    name = models.CharField(max_length=100)
    frequency = models.CharField(
        max_length=9, choices=RecurringFrequency.choices, default=RecurringFrequency.MONTHLY
    )
    interval_months = models.PositiveSmallIntegerField(default=1)  # every N months
    # 29–31 mean the month's last day when it is shorter, as for schedules.
    day_of_month = models.PositiveSmallIntegerField(default=1)
    billing = models.CharField(max_length=7, choices=Billing.choices, default=Billing.ADVANCE)
    starts_on = models.DateField()
    # The end: no period starting after `ends_on`, or no more than `cycles`; both empty: open.
    ends_on = models.DateField(null=True, blank=True)
    cycles = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)  # the invoice's message; placeholders allowed
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.DRAFT)
    run_as = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    # Deleted after it ran: gone from lists and never runs again; runs and invoices stay.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client__name", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1, day_of_month__lte=31),
                name="recurring_day_of_month",
            ),
            models.CheckConstraint(
                condition=Q(interval_months__gte=1, interval_months__lte=120),
                name="recurring_interval_months",
            ),
            models.CheckConstraint(
                condition=Q(cycles__isnull=True) | Q(cycles__gte=1), name="recurring_cycles"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.client}"


class RecurringLine(models.Model):
    """A fixed line; its description may hold period placeholders such as {month}."""

    recurring = models.ForeignKey(RecurringInvoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=3, choices=Unit.choices, default=Unit.PIECE)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)  # until a price change
    # Empty: the client's tax treatment decides, as for a line added to a draft.
    tax_category = models.CharField(max_length=2, choices=TaxCategory.choices, blank=True)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["recurring", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring", "position"], name="one_recurring_line_per_position"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="recurring_line_quantity"),
        ]

    def __str__(self) -> str:
        return self.description


class RecurringPrice(models.Model):
    """A line's new unit price from a day: a period uses the latest one on or before its start."""

    line = models.ForeignKey(RecurringLine, on_delete=models.CASCADE, related_name="prices")
    effective_from = models.DateField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["line", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "effective_from"], name="one_recurring_price_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_price} from {self.effective_from}"


class RecurringRun(models.Model):
    """One period of a recurring invoice, claimed once: unique on (recurring, period start)."""

    recurring = models.ForeignKey(RecurringInvoice, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateField()
    period_end = models.DateField()
    run_on = models.DateField()
    cycle = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=RunStatus.choices)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring", "period_start"], name="one_run_per_recurring_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recurring}: {self.period_start} – {self.period_end}"
