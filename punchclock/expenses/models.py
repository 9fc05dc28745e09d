"""Expenses with receipts, categories, and exchange rates for converting them."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization, User
from punchclock.clients.models import Client
from punchclock.core.validators import validate_currency
from punchclock.projects.models import Project


class ExpenseCategory(models.Model):
    """A kind of expense with its defaults; unit categories (mileage) price a quantity."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="expense_categories"
    )
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. km; empty for amounts")
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    default_tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    default_markup_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(0))
    billable_default = models.BooleanField(default=True)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "expense categories"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="category_name_per_org"),
            models.CheckConstraint(
                condition=Q(unit="") | Q(unit_price__gt=0), name="unit_category_has_price"
            ),
            models.CheckConstraint(
                condition=Q(default_tax_rate__gte=0) & Q(default_tax_rate__lte=100),
                name="category_tax_rate_percent",
            ),
            models.CheckConstraint(
                condition=Q(default_markup_percent__gte=0) & Q(default_markup_percent__lte=1000),
                name="category_markup_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_unit_based(self) -> bool:
        return bool(self.unit)


class RateSource(models.TextChoices):
    ECB = "ecb", "European Central Bank"
    MANUAL = "manual", "Entered by hand"


class ExchangeRate(models.Model):
    """Units of `currency` for one euro on a day (the ECB's form; other pairs are crossed)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="exchange_rates"
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    on = models.DateField()
    source = models.CharField(max_length=6, choices=RateSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-on", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "currency", "on"], name="one_rate_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]
        indexes = [models.Index(fields=["organization", "currency", "on"], name="fx_lookup")]

    def __str__(self) -> str:
        return f"1 EUR = {self.rate} {self.currency} on {self.on} ({self.source})"


class ExpenseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Expense(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="expenses"
    )
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="expenses")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="expenses")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="expenses"
    )
    category = models.ForeignKey(ExpenseCategory, on_delete=models.PROTECT, related_name="expenses")
    spent_on = models.DateField()
    description = models.CharField(max_length=300)
    vendor = models.CharField(max_length=200, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    amount_includes_tax = models.BooleanField(default=True)
    billable = models.BooleanField(default=True)
    markup_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(0))
    reimbursable = models.BooleanField(
        default=False, help_text="Paid by the person, to be paid back to them"
    )
    status = models.CharField(
        max_length=9, choices=ExpenseStatus.choices, default=ExpenseStatus.DRAFT
    )
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The conversion into the client's currency, kept with its source so it never changes.
    client_currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=Decimal(1))
    rate_source = models.CharField(max_length=6, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    net_amount = models.DecimalField(
        max_digits=14, decimal_places=4, help_text="Without tax, in the expense's currency"
    )
    billable_amount = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        help_text="Net, converted to the client's currency, with markup",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-spent_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expense_amount_positive"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="expense_tax_percent"
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0) & Q(markup_percent__lte=1000),
                name="expense_markup_range",
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0), name="expense_exchange_rate_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "spent_on"], name="expense_org_day"),
            models.Index(fields=["membership", "spent_on"], name="expense_person_day"),
            models.Index(fields=["client", "spent_on"], name="expense_client_day"),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount} {self.currency})"


class Receipt(models.Model):
    """A receipt file; served only through a permission-checked view, never a public URL."""

    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="receipts")
    file = models.FileField(upload_to="receipts/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name
