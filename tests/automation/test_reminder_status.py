"""ReminderSent's status and attempts columns: what each hand-over does to them, and the
migration's backfill of the state that was derived from a row before."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.core import mail
from django.utils import timezone

from punchclock.automation import reminders
from punchclock.automation.models import ReminderSent
from tests.automation.test_reminders import DUE, clock, dunning  # noqa: F401 - fixtures
from tests.mailers import REFUSING

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
backfill = importlib.import_module("punchclock.automation.migrations.0006_reminder_status")


def test_each_refused_hand_over_counts_and_the_step_waits(dunning, clock, settings):  # noqa: F811
    clock.day(DUE + timedelta(days=7))
    settings.MAILERS = REFUSING
    reminders.send_due()
    reminders.send_due()
    row = ReminderSent.objects.get()
    assert (row.status, row.attempts, row.recipients) == ("waiting", 2, [])
    assert "did not take it" in row.message
    settings.MAILERS = LOCMEM
    reminders.send_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.sent_at is not None
    assert len(mail.outbox) == 1


def test_the_backfill_gives_old_rows_the_state_they_had(dunning):  # noqa: F811
    invoice = dunning.invoice
    sent = ReminderSent.objects.create(invoice=invoice, level=1, balance=1, sent_at=timezone.now())
    withdrawn = ReminderSent.objects.create(
        invoice=invoice, level=2, balance=1, message="Withdrawn: paid before it went out."
    )
    handed = ReminderSent.objects.create(invoice=invoice, level=3, balance=1, recipients=["a@b.c"])
    waiting = ReminderSent.objects.create(
        invoice=invoice, level=4, balance=1, message="Not sent yet: no billing email."
    )
    ReminderSent.objects.update(status="waiting", attempts=0)  # as the new columns start

    backfill.derive(apps, None)

    found = {row.pk: (row.status, row.attempts) for row in ReminderSent.objects.all()}
    assert found == {
        sent.pk: ("sent", 1),
        withdrawn.pk: ("withdrawn", 0),
        handed.pk: ("unconfirmed", 1),  # never sent again by a run
        waiting.pk: ("waiting", 0),
    }
    assert [row.pk for row in reminders.waiting(dunning.organization)] == [waiting.pk]
