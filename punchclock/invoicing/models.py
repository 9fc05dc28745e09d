"""Invoices and credit notes, their lines, numbering series, billed work and events.

An issued document never changes: the services refuse, and database triggers (migration
0002_immutability_triggers) refuse raw UPDATE and DELETE of issued invoices and their lines.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization, User
from punchclock.clients.models import Client
from punchclock.core.validators import validate_currency, validate_locale
from punchclock.expenses.models import Expense
from punchclock.projects.models import Project
from punchclock.tracking.models import TimeEntry


class NumberSeries(models.Model):
    """A numbering sequence such as 2026-0001, 2026-0002 …; gapless, assigned on issue."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="number_series"
    )
    name = models.CharField(max_length=50)
    pattern = models.CharField(
        max_length=50, default="{year}-{seq:04}", help_text="{year} and {seq} are replaced"
    )
    yearly_reset = models.BooleanField(default=True)
    # Issue dates never go backwards within a series; kept here because this row is locked
    # while a number is taken.
    last_issue_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "number series"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="series_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    def format(self, *, year: int, seq: int) -> str:
        return self.pattern.format(year=year, seq=seq)


class SeriesCounter(models.Model):
    """The last number taken in a series for one year (year 0 when it never resets)."""

    series = models.ForeignKey(NumberSeries, on_delete=models.CASCADE, related_name="counters")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="one_counter_per_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"


class InvoiceChain(models.Model):
    """The head of an organization's hash chain; locked while a document is issued."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="invoice_chain"
    )
    length = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"chain of {self.organization_id}: {self.length}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"


class Invoice(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invoices"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=11, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    status = models.CharField(
        max_length=6, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    series = models.ForeignKey(
        NumberSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    # NULL, not "", while a draft: a draft has no number at all (DESIGN rule 5).
    number = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    language = models.CharField(max_length=8, default="en", validators=[validate_locale])
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    # A document-level charge (BG-21), e.g. a rush surcharge, as a percent of the lines.
    surcharge_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    surcharge_reason = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    # Why a category needs no VAT (exempt, export …): printed with the legal wording.
    tax_note = models.CharField(max_length=300, blank=True)
    # Lists the billed time entries after the lines.
    time_appendix = models.BooleanField(default=False)
    # References the client's purchasing needs on the document (BT-13, BT-12, BT-11).
    purchase_order_reference = models.CharField(max_length=100, blank=True)
    contract_reference = models.CharField(max_length=100, blank=True)
    project_reference = models.CharField(max_length=100, blank=True)
    credits = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    snapshot = models.JSONField(default=dict, blank=True)
    net_total = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    tax_total = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    gross_total = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    chain_position = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="number_unique_in_series"),
            models.UniqueConstraint(
                fields=["organization", "chain_position"], name="one_document_per_chain_position"
            ),
            # A draft has no number; an issued document has every legal field.
            models.CheckConstraint(
                condition=Q(
                    status="draft",
                    number__isnull=True,
                    chain_position__isnull=True,
                    issued_at__isnull=True,
                )
                | Q(
                    status="issued",
                    number__isnull=False,
                    series__isnull=False,
                    issue_date__isnull=False,
                    chain_position__isnull=False,
                    issued_at__isnull=False,
                ),
                name="invoice_number_only_when_issued",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credits__isnull=True)
                | Q(kind="credit_note", credits__isnull=False),
                name="credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="invoice_discount_percent",
            ),
            models.CheckConstraint(
                condition=Q(surcharge_percent__gte=0) & Q(surcharge_percent__lte=1000),
                name="invoice_surcharge_percent",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="invoice_org_status")]

    def __str__(self) -> str:
        return self.number or f"Draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class Unit(models.TextChoices):
    """UN/ECE Recommendation 20 codes, as EN 16931 wants them."""

    HOUR = "HUR", "hours"
    DAY = "DAY", "days"
    PIECE = "C62", "pieces"


class TaxCategory(models.TextChoices):
    """UNCL 5305 VAT categories used by EN 16931."""

    STANDARD = "S", "Standard rate"
    ZERO = "Z", "Zero rated"
    EXEMPT = "E", "Exempt from VAT"
    REVERSE_CHARGE = "AE", "Reverse charge"
    INTRA_COMMUNITY = "K", "Intra-community supply"
    EXPORT = "G", "Export outside the EU"
    NOT_SUBJECT = "O", "Not subject to VAT"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=3, choices=Unit.choices, default=Unit.HOUR)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    # A line-level charge (BG-28), e.g. +50 % for weekend work.
    surcharge_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    tax_category = models.CharField(
        max_length=2, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    # A second tax on the same base, e.g. Québec's QST beside the federal GST.
    additional_tax_name = models.CharField(max_length=20, blank=True)
    additional_tax_rate = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    net_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    # Tracked hours before the project's rounding rule, shown beside the billed quantity.
    raw_hours = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # A credit note's line names the line it corrects, so no line is credited twice.
    credits_line = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credited_by"
    )

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="line_position_unique"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="line_discount_percent",
            ),
            models.CheckConstraint(
                condition=Q(surcharge_percent__gte=0) & Q(surcharge_percent__lte=1000),
                name="line_surcharge_percent",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="line_tax_rate_percent"
            ),
            models.CheckConstraint(
                condition=Q(additional_tax_rate__isnull=True, additional_tax_name="")
                | Q(additional_tax_rate__gte=0, additional_tax_rate__lte=100)
                & ~Q(additional_tax_name=""),
                name="line_additional_tax_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"


class BilledEntry(models.Model):
    """A time entry on the line that bills it; the one-to-one makes double billing impossible."""

    entry = models.OneToOneField(TimeEntry, on_delete=models.PROTECT, related_name="billing")
    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="billed_entries")
    billed_seconds = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"entry {self.entry_id} on line {self.line_id}"


class WorkUnit(models.TextChoices):
    DAY = "day", "UTC day"
    MONTH = "month", "UTC month"


class BilledWork(models.Model):
    """The time an issued line bills, summed per person, project and UTC day (and month).

    Written in the transaction that issues the document (migration 0013 for documents issued
    before) and deleted with the billed rows when a full credit note releases the work; an
    issued line's entries cannot change (the tracking services refuse, and the triggers of
    migration 0012 refuse raw SQL), so the sums stay those of the entries. Profitability
    reads a period's whole UTC months and days here instead of every billed entry (decision
    0020): each entry counts in one day row and in one month row. `line_seconds` is the
    whole line's time, the same on each of its rows."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The unique constraint below leads with the line and serves its lookups.
    line = models.ForeignKey(
        InvoiceLine, on_delete=models.CASCADE, related_name="billed_work", db_index=False
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_index=False)
    unit = models.CharField(max_length=5, choices=WorkUnit.choices)
    # The UTC day of the entries' start, or the first day of their UTC month.
    day = models.DateField()
    seconds = models.PositiveBigIntegerField()
    line_seconds = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line", "membership", "project", "unit", "day"], name="billed_work_once"
            )
        ]
        indexes = [
            # A period's rows with every column profitability reads: an index-only range.
            models.Index(
                fields=[
                    "organization",
                    "unit",
                    "day",
                    "line",
                    "membership",
                    "project",
                    "seconds",
                    "line_seconds",
                ],
                name="billed_work_period_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seconds} s of line {self.line_id} on {self.day}"


class BilledExpense(models.Model):
    expense = models.OneToOneField(Expense, on_delete=models.PROTECT, related_name="billing")
    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="billed_expenses")

    def __str__(self) -> str:
        return f"expense {self.expense_id} on line {self.line_id}"


class BilledFixedFee(models.Model):
    """A share of a fixed-fee project's fee on the line that bills it (milestones).

    The shares of a project never add up to more than 100 %: the services lock the project
    row while they add one, and one line bills one share at most.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="fee_billings")
    line = models.OneToOneField(InvoiceLine, on_delete=models.CASCADE, related_name="billed_fee")
    share_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(100))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(share_percent__gt=0) & Q(share_percent__lte=100),
                name="fee_share_percent",
            )
        ]

    def __str__(self) -> str:
        return f"fee of project {self.project_id} on line {self.line_id}"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    ISSUED = "issued", "Issued"
    SENT = "sent", "Sent"
    VIEWED = "viewed", "Viewed by the client"
    CREDITED = "credited", "Credited"
    PAYMENT_FAILED = "payment_failed", "Online payment failed"


class InvoiceEvent(models.Model):
    """What happened to an invoice, appended by the service that did it."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at}"


class InvoiceDocument(models.Model):
    """A document rendered once at issue time; downloads return these exact bytes."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=10, default="pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="one_document_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.invoice_id}"


class FontStyle(models.TextChoices):
    """The typeface of the default design; serif faces ship inside Typst, so they always work."""

    SANS = "sans", "Sans-serif (Inter, Liberation Sans or DejaVu Sans, as installed)"
    SERIF = "serif", "Serif (Libertinus Serif)"
    CLASSIC = "classic", "Classic (New Computer Modern)"


class InvoiceSettings(models.Model):
    """How an organization's documents look and go out: footer, own template, email copies."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="invoice_settings"
    )
    footer_text = models.TextField(
        blank=True, help_text="Printed at the end of every document, e.g. registration details"
    )
    font = models.CharField(max_length=8, choices=FontStyle.choices, default=FontStyle.SANS)
    # A Typst file replacing the default design; checked by a test render when uploaded.
    template_source = models.TextField(blank=True)
    template_name = models.CharField(max_length=200, blank=True)
    template_uploaded_at = models.DateTimeField(null=True, blank=True)
    bcc = models.EmailField(
        "always copy to",
        blank=True,
        help_text="A blind copy of every invoice email, e.g. your books",
    )

    class Meta:
        verbose_name_plural = "invoice settings"

    def __str__(self) -> str:
        return f"invoice settings of {self.organization_id}"

    @classmethod
    def of(cls, organization_id: int) -> InvoiceSettings:
        """The organization's settings; unsaved defaults when it never changed any."""
        found = cls.objects.filter(organization_id=organization_id).first()
        return found or cls(organization_id=organization_id)


class EmailTemplate(models.Model):
    """The subject and text of invoice emails in one language; built-in wording otherwise."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_templates"
    )
    language = models.CharField(max_length=8, validators=[validate_locale])
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "language"], name="one_email_template_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.subject}"
