"""Reminder levels, their wording and the reminders sent: each step once per invoice."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from punchclock.accounts.models import Organization
from punchclock.invoicing.models import Invoice


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
