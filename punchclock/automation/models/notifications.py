"""Notifications to the team, and who wants which by email (decision 0013)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Membership, Organization


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
