"""Billing schedules and their runs: each period of a schedule is billed exactly once.

`ScheduleRun` is unique on (schedule, period start): two schedulers, or one run ten times,
find the period taken and do nothing. A run and the invoice it makes commit together, so a
worker killed in the middle leaves no run and the next one bills the period again, once.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization
from punchclock.clients.models import Client
from punchclock.invoicing.models import Invoice, TaxCategory, Unit
from punchclock.projects.models import Project


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly, on a chosen day"
    WEEKLY = "weekly", "Every N weeks"
    QUARTERLY = "quarterly", "Quarterly"
    PROJECT_END = "project_end", "Once, when the project ends"


class Action(models.TextChoices):
    DRAFT = "draft", "Create a draft and tell me"
    ISSUE = "issue", "Issue the invoice"
    SEND = "send", "Issue and send it to the client"


class BillingSchedule(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="billing_schedules"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="schedules")
    # Only this project's work; all of the client's when empty.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules"
    )
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    # Monthly: the day of the month the run happens (29–31 mean the month's last day when
    # it is shorter); the period is the month before that day.
    day_of_month = models.PositiveSmallIntegerField(default=1)
    interval_weeks = models.PositiveSmallIntegerField(default=2)  # weekly
    starts_on = models.DateField()  # the first period starts here
    ends_on = models.DateField(null=True, blank=True)  # the project's last day (project end)
    include_time = models.BooleanField(default=True)
    include_expenses = models.BooleanField(default=True)
    include_fixed_fees = models.BooleanField(default=True)
    group_by = models.CharField(max_length=10, default="project")
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.DRAFT)
    # Whose authority the runs use; told about drafts. Must stay an owner or admin.
    run_as = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client__name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1, day_of_month__lte=31),
                name="schedule_day_of_month",
            ),
            models.CheckConstraint(
                condition=Q(interval_weeks__gte=1, interval_weeks__lte=52),
                name="schedule_interval_weeks",
            ),
            models.CheckConstraint(
                condition=~Q(frequency="project_end") | Q(ends_on__isnull=False),
                name="schedule_project_end_has_a_day",
            ),
            models.CheckConstraint(
                condition=Q(include_time=True)
                | Q(include_expenses=True)
                | Q(include_fixed_fees=True),
                name="schedule_includes_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} for {self.project or self.client}"


class RunStatus(models.TextChoices):
    DRAFTED = "drafted", "Draft created"
    ISSUED = "issued", "Issued"
    SENT = "sent", "Issued and sent"
    EMPTY = "empty", "Nothing to bill"
    FAILED = "failed", "Failed"


class ScheduleRun(models.Model):
    schedule = models.ForeignKey(BillingSchedule, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateField()
    period_end = models.DateField()
    run_on = models.DateField()
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
                fields=["schedule", "period_start"], name="one_run_per_schedule_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.period_start} – {self.period_end}"


class LateFee(models.TextChoices):
    NONE = "none", "No late fee"
    FIXED = "fixed", "A fixed amount"
    PERCENT = "percent", "A percentage of the open balance"


class ReminderLevel(models.Model):
    """One step of an organization's dunning: level 1–3, or the repeating one (level 4).

    Sent `days_after_due` days after the due date (negative: before it, as a friendly
    heads-up). The repeating level comes `repeat_every_days` after the last one, again and
    again, while the invoice stays unpaid."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reminder_levels"
    )
    level = models.PositiveSmallIntegerField()  # 1, 2, 3; 4 = repeating
    days_after_due = models.SmallIntegerField(default=7)
    repeat_every_days = models.PositiveSmallIntegerField(default=14)  # level 4 only
    late_fee = models.CharField(max_length=8, choices=LateFee.choices, default=LateFee.NONE)
    late_fee_amount = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    late_fee_taxed = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "level"], name="one_reminder_level_per_number"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="reminder_level_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(late_fee_amount__gte=0), name="reminder_late_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(repeat_every_days__gte=1), name="reminder_repeat_at_least_daily"
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder level {self.level}"


class ReminderTemplate(models.Model):
    """The wording of one level in one language; built-in texts apply without one."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reminder_templates"
    )
    level = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "level", "language"], name="one_reminder_text_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.level} ({self.language})"


class ReminderStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to be sent"  # claimed, not handed to the mail server
    UNCONFIRMED = "unconfirmed", "Not confirmed"  # being handed over, or the worker stopped
    SENT = "sent", "Sent"
    WITHDRAWN = "withdrawn", "Withdrawn"  # paid or credited before it went out


class ReminderSent(models.Model):
    """A reminder that went out: unique per invoice, level and repetition, so never twice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    level = models.PositiveSmallIntegerField()
    repetition = models.PositiveSmallIntegerField(default=0)  # counts the repeating level
    sent_at = models.DateTimeField(null=True, blank=True)  # NULL while being sent
    recipients = models.JSONField(default=list, blank=True)
    balance = models.DecimalField(max_digits=14, decimal_places=4)
    late_fee_invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set to "unconfirmed" in the commit before the email goes to the mail server, "sent"
    # after: a row left "unconfirmed" is never sent again by a run, only by a person.
    status = models.CharField(
        max_length=12, choices=ReminderStatus.choices, default=ReminderStatus.WAITING
    )
    attempts = models.PositiveSmallIntegerField(default=0)  # hand-overs to the mail server

    class Meta:
        ordering = ["invoice", "level", "repetition"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "level", "repetition"], name="one_reminder_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.level} for {self.invoice}"


# Retainers ----------------------------------------------------------------------------------


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


# Notifications to the team ---------------------------------------------------------------


class NotificationKind(models.TextChoices):
    DRAFT_READY = "draft_ready", "Draft ready for review"
    OVERDUE = "overdue", "Invoice overdue"
    PAYMENT = "payment", "Payment received"
    BUDGET = "budget", "Project budget threshold crossed"
    LONG_TIMER = "long_timer", "Timer running for long"


class EmailState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not be sent"
    OFF = "off", "Not by email"


class Notification(models.Model):
    """One thing one person is told about, in the app and, by their choice, by email.

    Unique on (recipient, kind, key): the key names the cause (an invoice, a payment, a
    project's threshold at a budget value, a time entry), so however often or concurrently
    the checks run, a cause notifies each person once."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)  # a path inside the app
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=8, choices=EmailState.choices, default=EmailState.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_at = models.DateTimeField(null=True, blank=True)  # no retry before then
    email_error = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"], name="one_notification_per_cause"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_known"
            ),
        ]
        indexes = [
            # The nav's unread count: a small partial index, read on every page.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            # The checks ask "was anyone told about this cause already?"
            models.Index(fields=["organization", "kind", "key"], name="notification_cause"),
            # The worker's delivery looks only at mail still to send.
            models.Index(
                fields=["email_state", "email_next_at"],
                condition=Q(email_state__in=["pending", "sending"]),
                name="notification_mail_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.title}"


class NotificationPreferences(models.Model):
    """What one member wants by email (in the app they see everything meant for them).

    Without a row the role's defaults apply (see notifications.DEFAULT_EMAIL)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_kinds = models.JSONField(default=list, blank=True)
    # Owners, admins (everyone's) and managers (their projects'): told of others' long timers.
    watch_team_timers = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.membership_id}"


class NotificationSettings(models.Model):
    """An organization's notification settings; defaults apply without a row."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="notification_settings"
    )
    long_timer_hours = models.PositiveSmallIntegerField(default=10)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(long_timer_hours__gte=1, long_timer_hours__lte=168),
                name="long_timer_within_a_week",
            )
        ]

    def __str__(self) -> str:
        return f"Notification settings of {self.organization_id}"


# Recurring invoices -----------------------------------------------------------------------


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
