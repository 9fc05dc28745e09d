"""Closed months of tracked time, summed once and kept for long reports (decision 0017).

A report over a year reads twelve months of sums instead of hundreds of thousands of
entries. The sums are a cache of the entries, never a source: database triggers mark the
UTC day of every entry that is written, moved or deleted, and the project whose rounding
rule changes, and the next report rebuilds the months those marks touch before it reads.
"""

from __future__ import annotations

from django.db import models

from punchclock.accounts.models import Organization

# The sums a read of kept totals adds up: in the reading indexes, so they cover it.
SUMS = [
    "seconds",
    "billable_seconds",
    "billed_seconds",
    "open_seconds",
    "open_billable_seconds",
    "open_billed_seconds",
]

# A line's key (person, project, task, rate), then its rate periods and periods: the order
# of the indexes the reports read per line (decision 0021).
LINE_KEY = [
    "membership_id",
    "project_id",
    "task_id",
    "bill_rate",
    "bill_currency",
    "period",
    "month",
]


class MonthTotal(models.Model):
    """Seconds of one organization-local month per pricing key, as the time report sums them.

    The key is what pricing needs (person, project, task, rate period); seconds, billable
    seconds and billed seconds (after the project's rounding rule, per entry or per
    person's day and task) are the report's own sums. Ids are plain integers: the rows
    are rebuilt from the entries, so they never need to follow a deletion themselves.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # "month", or "week" for the totals of weekly reports (decision 0019); `month` is then
    # the week's Monday. One column for both lets the rounding trigger mark either.
    grain = models.CharField(max_length=5, default="month")
    month = models.DateField()
    membership_id = models.BigIntegerField()
    project_id = models.BigIntegerField()
    task_id = models.BigIntegerField(null=True)
    period = models.PositiveIntegerField()
    seconds = models.BigIntegerField()
    billable_seconds = models.BigIntegerField()
    billed_seconds = models.BigIntegerField()
    # The same sums over the entries not on an issued invoice (TimeEntry.invoiced false):
    # unbilled work and the invoiced filters read them (billed seconds rounded over that
    # part alone, as a scan with the filter rounds them).
    open_seconds = models.BigIntegerField(default=0)
    open_billable_seconds = models.BigIntegerField(default=0)
    open_billed_seconds = models.BigIntegerField(default=0)
    # The bill rate the period was priced with (1/10,000 of a unit; none: no hourly rate)
    # and the amounts of its lines (decision 0021): a line is (period, person, project,
    # task, rate), as on an invoice; its rounded amount, in minor units, sits on the line's
    # first row and the others hold 0. A report by month (or week) adds them up in SQL; it
    # trusts them only while every row's rate is still the rate the rate book gives.
    bill_rate = models.BigIntegerField(null=True)
    bill_currency = models.CharField(max_length=3, blank=True, default="")
    amount_minor = models.BigIntegerField(default=0)
    open_amount_minor = models.BigIntegerField(default=0)
    # Rows of grain "span" (decision 0025) sum a run of kept months; their `month` is the
    # run's first. This is the first of those months holding open billable time of the row,
    # where the unbilled views date their oldest work. Null on every other row.
    first_open = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "grain", "month"], name="month_total_org_grain"),
            # Unbilled work reads the kept months of all history: once an agency bills
            # monthly, only the last months hold rows with open billable time. Covering, in
            # line order (decision 0021): with little billed yet, those rows are most of the
            # table, and the unbilled views read them per line.
            models.Index(
                fields=[
                    "organization",
                    "grain",
                    *LINE_KEY,
                    "open_seconds",
                    "open_billable_seconds",
                    "open_billed_seconds",
                    "open_amount_minor",
                ],
                condition=models.Q(open_billable_seconds__gt=0),
                name="month_total_open",
            ),
            # Reports by month or week read these in the order they group by, so neither
            # needs sorting (decision 0021): the sums per line (person, project, task,
            # rate) and per pricing key (the line's rate periods), and the sums per period,
            # person, rate period and currency (project and task follow, for reports by
            # period and project or task).
            models.Index(
                fields=[
                    "organization",
                    "grain",
                    *LINE_KEY,
                    *SUMS,
                ],
                name="month_total_by_key",
            ),
            models.Index(
                fields=[
                    "organization",
                    "grain",
                    "month",
                    "membership_id",
                    "period",
                    "bill_currency",
                    "project_id",
                    "task_id",
                    *SUMS,
                    "amount_minor",
                    "open_amount_minor",
                ],
                name="month_total_by_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} person {self.membership_id} project {self.project_id}"


class MonthState(models.Model):
    """A month whose totals are built, and for which rate periods and zone (fingerprint)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=5, default="month")
    month = models.DateField()
    fingerprint = models.CharField(max_length=64)
    # The prices its line amounts were checked against (timereport.pricing_version): a
    # report checks the rates of kept rows again only when the rate book, a project's
    # billing or a client's currency changed since (decision 0021).
    prices = models.CharField(max_length=64, blank=True, default="")
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "grain", "month"], name="one_state_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} built {self.built_at:%Y-%m-%d %H:%M}"


class DirtyDay(models.Model):
    """A UTC day on which some entry of the organization changed since the months were built.

    Written by triggers only (reports.triggers), so any writer is seen: services, imports,
    the admin, a raw SQL console. A plain integer instead of a foreign key lets the
    triggers run while an organization is being deleted."""

    organization_id = models.BigIntegerField()
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "day"], name="one_dirty_day")
        ]

    def __str__(self) -> str:
        return f"organization {self.organization_id} {self.day}"


class KeptDocument(models.Model):
    """An issued invoice or credit note's totals in minor units, and in the organization's
    currency, summed by the revenue and tax reports in SQL (decision 0023).

    Issued documents never change, so a row is written once, by the first report or worker
    run that finds it missing. Only the conversion can go stale: a trigger (reports.triggers)
    deletes the rows an exchange rate can change, and a row kept for another home currency
    counts as missing, so the next report keeps it again."""

    invoice_id = models.BigIntegerField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    issue_date = models.DateField()
    month = models.DateField()
    currency = models.CharField(max_length=3)
    # The organization's currency the home figures are in; none when no rate was found.
    home = models.CharField(max_length=3)
    net_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()
    gross_minor = models.BigIntegerField()
    home_net_minor = models.BigIntegerField(null=True)
    home_gross_minor = models.BigIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "issue_date"], name="kept_document_day"),
            # Counted against the issued documents before every report (documents.all_kept).
            models.Index(fields=["organization", "home"], name="kept_document_home"),
        ]

    def __str__(self) -> str:
        return f"document {self.invoice_id} of {self.issue_date}"


class KeptTax(models.Model):
    """One tax group (name, category, rate) of a kept document: its basis and tax, as the
    issuing code totalled them, in minor units of the document's and the home currency."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    invoice_id = models.BigIntegerField()
    issue_date = models.DateField()
    currency = models.CharField(max_length=3)
    home = models.CharField(max_length=3)
    name = models.CharField(max_length=50)
    category = models.CharField(max_length=4)
    # The percentage as written, normalised ("19", "5.5"): grouped exactly on any database.
    rate = models.CharField(max_length=20)
    basis_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()
    home_basis_minor = models.BigIntegerField(null=True)
    home_tax_minor = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_id", "name", "category", "rate"], name="one_kept_tax_group"
            )
        ]
        indexes = [models.Index(fields=["organization", "issue_date"], name="kept_tax_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.rate} % of document {self.invoice_id}"
