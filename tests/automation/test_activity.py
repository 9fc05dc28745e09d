"""The failed-and-stuck page: what the worker could not finish, and retries that never repeat
an invoice or a late fee; the instance's queue failures only for staff."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from punchclock.automation import reminders, services
from punchclock.automation.models import Action, ReminderSent, RunStatus, ScheduleRun
from punchclock.invoicing.models import EventKind, Invoice
from tests.automation.test_reminders import DUE, clock, dunning  # noqa: F401 - fixtures
from tests.automation.test_schedules import monthly, worked
from tests.automation.test_worker import drain, fail_loudly, keep_the_test_connection  # noqa: F401
from tests.conftest import login
from tests.mailers import REFUSING

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
PAGE = reverse("automation:activity")


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: services.start_of_day(date(2026, 2, 1), "UTC"))


def failed_run(billing, **fields) -> ScheduleRun:
    """January's run failed on every attempt (the worker gives up after RUN_ATTEMPTS)."""
    schedule = monthly(billing)
    worked(billing, date(2026, 1, 12))
    return ScheduleRun.objects.create(
        schedule=schedule,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        run_on=date(2026, 2, 1),
        status=RunStatus.FAILED,
        message="Olivia may no longer issue invoices.",
        attempts=services.RUN_ATTEMPTS,
        **fields,
    )


@pytest.mark.usefixtures("frozen")
def test_a_failed_run_is_listed_and_its_retry_bills_the_period_once(billing):
    run = failed_run(billing)
    services.run_due(today=date(2026, 2, 2))  # the worker has given up on it
    assert not Invoice.objects.exists()
    http = login(billing.owner)
    page = http.get(PAGE).content.decode()
    assert "Olivia may no longer issue invoices." in page
    assert reverse("automation:retry_run", args=[run.pk]) in page

    response = http.post(reverse("automation:retry_run", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.ISSUED, services.RUN_ATTEMPTS + 1)
    assert Invoice.objects.count() == 1

    http.post(reverse("automation:retry_run", args=[run.pk]))  # again: not failed any more
    assert Invoice.objects.count() == 1
    assert "Only a failed run" in http.get(PAGE).content.decode()
    assert f'id="run-{run.pk}"' not in http.get(PAGE).content.decode()


def test_a_run_whose_email_failed_too_often_is_sent_again_never_issued_again(billing, settings):
    monthly(billing, action=Action.SEND)
    worked(billing, date(2026, 1, 12))
    settings.MAILERS = REFUSING
    for day in range(1, 3 + services.SEND_ATTEMPTS):
        services.run_due(today=date(2026, 2, day))
    run = ScheduleRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.invoice is not None
    http = login(billing.admin)
    assert "sending failed" in http.get(PAGE).content.decode()

    settings.MAILERS = LOCMEM
    http.post(reverse("automation:retry_run", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.SENT
    assert Invoice.objects.count() == 1
    assert run.invoice.events.filter(kind=EventKind.SENT).count() == 1
    assert len(mail.outbox) == 1
    assert f'id="run-{run.pk}"' not in http.get(PAGE).content.decode()


def test_a_waiting_reminder_is_sent_now_and_an_unconfirmed_one_only_by_hand(
    dunning,  # noqa: F811
    clock,  # noqa: F811
    settings,
):
    clock.day(DUE + timedelta(days=7))
    settings.MAILERS = REFUSING
    reminders.send_due()
    waiting = ReminderSent.objects.get()
    http = login(dunning.owner)
    page = http.get(PAGE).content.decode()
    assert "the mail server did not take it" in page
    assert reverse("automation:retry_reminder", args=[waiting.pk]) in page

    settings.MAILERS = LOCMEM
    http.post(reverse("automation:retry_reminder", args=[waiting.pk]))
    waiting.refresh_from_db()
    assert waiting.sent_at is not None
    assert len(mail.outbox) == 1
    assert f'id="reminder-{waiting.pk}"' not in http.get(PAGE).content.decode()

    # Handed over, never confirmed: shown with "Send again" (the person's call), and the
    # page's own retry refuses it.
    ReminderSent.objects.filter(pk=waiting.pk).update(
        sent_at=None, recipients=["ap@globex.test"], status="unconfirmed"
    )
    page = http.get(PAGE).content.decode()
    assert "Not confirmed" in page
    assert reverse("reminders:send_again", args=[waiting.pk]) in page
    http.post(reverse("automation:retry_reminder", args=[waiting.pk]))
    assert len(mail.outbox) == 1
    assert "Only a reminder waiting to be sent" in http.get(PAGE).content.decode()


def test_queue_failures_are_shown_to_instance_staff_only(billing):
    fail_loudly.enqueue()
    drain()
    assert DBTaskResult.objects.failed().exists()
    owner = login(billing.owner)
    page = owner.get(PAGE).content.decode()
    assert "Worker queue" not in page
    assert "fail_loudly" not in page
    billing.owner.user.is_staff = True
    billing.owner.user.save()
    page = owner.get(PAGE).content.decode()
    assert "Worker queue" in page
    assert "fail_loudly" in page


def test_nothing_to_show_says_so(billing):
    page = login(billing.owner).get(PAGE).content.decode()
    assert "No failed schedule runs" in page
    assert "Every reminder claimed has gone out." in page


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins_open_it(billing, role):
    assert login(getattr(billing, role)).get(PAGE).status_code == 403
