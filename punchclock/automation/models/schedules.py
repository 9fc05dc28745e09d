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
from punchclock.invoicing.models import Invoice
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
