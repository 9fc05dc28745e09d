"""Reminders through the worker: queued once an hour, each reminder sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from punchclock.automation import tasks
from punchclock.automation.models import ReminderSent
from tests.automation.test_reminders import DUE, clock, dunning  # noqa: F401 - fixtures
from tests.automation.test_worker import drain, keep_the_test_connection  # noqa: F401


@pytest.mark.usefixtures("dunning")
def test_ticks_through_the_day_send_each_reminder_once(clock):  # noqa: F811 - fixture
    clock.day(DUE + timedelta(days=7))  # level 1 is due this morning
    start = timezone.now()
    sent = []
    for minutes in range(0, 180, 20):  # a worker ticking through three hours
        tasks.tick(at=start + timedelta(minutes=minutes))
        before = len(mail.outbox)
        drain()
        # The team's own notice that the invoice is overdue is not a reminder to the client.
        team = "[Acme Agency]"
        sent += [m.subject for m in mail.outbox[before:] if not m.subject.startswith(team)]
    assert len(sent) == 1
    assert ReminderSent.objects.get().level == 1
    runs = tasks.DBTaskResult.objects.filter(task_path=tasks.send_reminders.module_path)
    values = sorted((job.return_value for job in runs), key=len, reverse=True)
    assert values == [{"sent": 1}, {}, {}]  # one run an hour; only one had work
