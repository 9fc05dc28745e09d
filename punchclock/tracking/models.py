"""Time entries, running timers, tags and timesheet approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import F, Q

from punchclock.accounts.models import Membership, Organization, User
from punchclock.projects.models import Project, Task


class Source(models.TextChoices):
    WEB = "web", "Web"
    CLI = "cli", "Command line"
    API = "api", "API"
    IMPORT = "import", "Import"


class Tag(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="tag_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class TimeEntry(models.Model):
    """Tracked time of one person; `end` is empty while the timer runs.

    Start and end are aware UTC instants exactly as tracked: billing rounds a copy of the
    duration when invoicing and never writes back here.
    """

    # No single-column foreign-key indexes: the composite indexes below lead with these
    # columns and serve the same lookups, and one index less per column is cheaper to write.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="time_entries", db_index=False
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="time_entries", db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="time_entries", db_index=False
    )
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="time_entries"
    )
    description = models.CharField(max_length=500, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    # end - start in whole seconds, kept by the services so reports sum integers in SQL
    # (SQLite has no native interval arithmetic); empty while running.
    duration_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    billable = models.BooleanField(default=True)
    # On an issued invoice: a copy of "a BilledEntry on a line of an issued invoice", kept by
    # the invoicing services in the transaction that issues or fully credits, so reports can
    # skip billed history by index instead of probing the billed tables entry by entry.
    # Only invoicing writes it (save() below leaves it alone); editing rules still ask
    # BilledEntry, which also counts drafts.
    invoiced = models.BooleanField(default=False, db_default=False, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="entries")
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.WEB)
    external_ref = models.CharField(
        "external reference",
        max_length=200,
        blank=True,
        help_text="Issue key, pull request or commit",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            # The database, not the application, guarantees one running timer per person:
            # concurrent starts race on this index and all but one fail cleanly.
            models.UniqueConstraint(
                fields=["membership"], condition=Q(end__isnull=True), name="one_running_timer"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="entry_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True, duration_seconds__isnull=True)
                | Q(end__isnull=False, duration_seconds__gt=0),
                name="entry_duration_with_end",
            ),
        ]
        indexes = [
            # Reports cut by period first; leading with start keeps month queries on a range
            # scan instead of walking a project's whole history. The trailing columns are
            # everything the time report reads, so the scan never visits the table
            # (docs/decisions/0015-reports.md).
            models.Index(
                fields=[
                    "organization",
                    "start",
                    "project",
                    "membership",
                    "task",
                    "billable",
                    "duration_seconds",
                    "invoiced",
                ],
                name="entry_report_cover",
            ),
            # Billable finished work not yet on an issued invoice: what the dashboard's
            # unbilled card and every "not invoiced" report read. Partial, so they scan only
            # the unbilled part of the history (a few percent once an agency bills monthly)
            # and covering like entry_report_cover. billable and invoiced are constant here
            # but stay in the key: SQLite only counts an index as covering when it holds
            # every column the query names.
            models.Index(
                fields=[
                    "organization",
                    "start",
                    "project",
                    "membership",
                    "task",
                    "billable",
                    "duration_seconds",
                    "invoiced",
                ],
                condition=Q(billable=True, invoiced=False, duration_seconds__isnull=False),
                name="entry_unbilled_cover",
            ),
            models.Index(fields=["membership", "start"], name="entry_person_start"),
            # A few projects over all their history (budgets, a project's report): one range
            # per project instead of a walk of the organization's every entry. Covering for
            # the same reason as above; organization comes after start so that (project,
            # start) stays a prefix for the lookups the plain project index served.
            models.Index(
                fields=[
                    "project",
                    "start",
                    "organization",
                    "membership",
                    "task",
                    "billable",
                    "duration_seconds",
                ],
                name="entry_project_report_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.description or 'time'} from {self.start}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.duration_seconds = (
            None if self.end is None else int((self.end - self.start).total_seconds())
        )
        update_fields = kwargs.get("update_fields")
        if (
            update_fields is None
            and not self._state.adding
            and self.pk is not None
            and not kwargs.get("force_insert")
        ):
            # A copy loaded before an issue commits must not write the old flag back. (A row
            # whose pk was cleared is Django's way to save a copy: that one is inserted.)
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "invoiced"
            ]
            update_fields = kwargs["update_fields"]
        if update_fields is not None and "end" in update_fields:
            kwargs["update_fields"] = {*update_fields, "duration_seconds"}
        super().save(*args, **kwargs)

    @property
    def is_running(self) -> bool:
        return self.end is None

    def seconds(self, until: datetime | None = None) -> int:
        """Tracked seconds; a running entry counts up to `until` (default: now)."""
        from punchclock.core.timeutil import now

        stop = self.end or until or now()
        return max(0, int((stop - self.start).total_seconds()))


class TimesheetStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Timesheet(models.Model):
    """A person's submission of a period (a week or a month) for approval."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="timesheets"
    )
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="timesheets")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=9, choices=TimesheetStatus.choices, default=TimesheetStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "period_start"], name="one_timesheet_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="timesheet_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} {self.period_start}–{self.period_end} ({self.status})"


class LockEvent(models.Model):
    """An append-only record of lock-date changes and unlocks by admins."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="lock_events"
    )
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=40)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at}"
