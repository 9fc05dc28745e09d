"""Notification emails: sent once, retried while the mail server refuses, then failed and
shown; checks run ten times or by two workers at once tell each person once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from punchclock.automation import notification_mail, notifications, tasks
from punchclock.automation.models import EmailState, Notification, NotificationKind
from punchclock.automation.notification_mail import EMAIL_ATTEMPTS, deliver
from punchclock.automation.services import run_due, save_schedule
from punchclock.tracking.models import TimeEntry
from tests.automation import test_reminders as reminders_tests
from tests.automation.test_notifications import NOW, budget, running, worked
from tests.automation.test_worker import drain, keep_the_test_connection  # noqa: F401
from tests.concurrency import at_once
from tests.invoicing import test_sending
from tests.mailers import REFUSING

clock = reminders_tests.clock
smtp_server = test_sending.smtp_server
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def test_an_email_goes_out_once_with_the_link(agency, settings):
    settings.SITE_URL = "https://punch.example"
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    for _ in range(10):
        deliver(at=NOW)
    assert [m.to for m in mail.outbox] == [["member@acme.test"]]
    message = mail.outbox[0]
    assert message.subject == "[Acme Agency] Your timer on globex/api has run for 11 hours"
    assert "Open it: https://punch.example/time/" in message.body
    assert "https://punch.example/notifications/preferences/" in message.body
    sent = Notification.objects.get()
    assert (sent.email_state, sent.email_attempts) == (EmailState.SENT, 1)
    assert sent.emailed_at is not None


def test_a_refused_mail_server_is_retried_later_then_sent_once(agency, settings):
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    settings.MAILERS = REFUSING
    assert deliver(at=NOW) == {"retry": 1}
    waiting = Notification.objects.get()
    assert waiting.email_state == EmailState.PENDING
    assert waiting.email_attempts == 1
    assert waiting.email_error == "connection refused"
    assert waiting.email_next_at == NOW + timedelta(minutes=5)
    assert deliver(at=NOW + timedelta(minutes=1)) == {}  # not yet due again
    settings.MAILERS = LOCMEM
    assert deliver(at=NOW + timedelta(minutes=5)) == {"sent": 1}
    assert deliver(at=NOW + timedelta(hours=5)) == {}
    assert len(mail.outbox) == 1
    done = Notification.objects.get()
    assert (done.email_state, done.email_attempts, done.email_error) == (EmailState.SENT, 2, "")


def test_after_the_last_attempt_the_email_is_failed_and_says_why(agency, settings):
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    settings.MAILERS = REFUSING
    at = NOW
    outcomes = []
    for _ in range(EMAIL_ATTEMPTS + 3):
        outcomes.append(deliver(at=at))
        at += timedelta(hours=2)
    assert outcomes[: EMAIL_ATTEMPTS - 1] == [{"retry": 1}] * (EMAIL_ATTEMPTS - 1)
    assert outcomes[EMAIL_ATTEMPTS - 1] == {"failed": 1}
    assert outcomes[EMAIL_ATTEMPTS:] == [{}, {}, {}]
    failed = Notification.objects.get()
    assert (failed.email_state, failed.email_attempts) == (EmailState.FAILED, EMAIL_ATTEMPTS)
    assert failed.email_error == "connection refused"
    settings.MAILERS = LOCMEM
    deliver(at=at)
    assert mail.outbox == []


def test_an_email_interrupted_mid_send_is_never_sent_again(agency):
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    # A worker claimed it and died before the mail server answered.
    Notification.objects.update(email_state=EmailState.SENDING, email_next_at=NOW, email_attempts=1)
    assert deliver(at=NOW + timedelta(minutes=30)) == {}
    assert deliver(at=NOW + timedelta(hours=2)) == {"interrupted": 1}
    assert mail.outbox == []
    stuck = Notification.objects.get()
    assert stuck.email_state == EmailState.FAILED
    assert "may or may not have arrived" in stuck.email_error


@pytest.mark.usefixtures("keep_the_test_connection")
def test_the_tick_checks_hourly_and_delivers_each_minute(agency):
    running(agency.member, agency.project, 11)
    start = TimeEntry.objects.get().start + timedelta(hours=11)
    for minutes in range(0, 120, 7):  # a worker ticking through two hours
        tasks.tick(at=start + timedelta(minutes=minutes))
        drain()
    assert [m.to for m in mail.outbox] == [["member@acme.test"]]
    assert Notification.objects.count() == 1


def test_a_draft_schedule_run_ten_times_tells_each_billing_person_once(billing, clock):
    billing.client.email = "ap@globex.test"
    billing.client.save()
    save_schedule(
        billing.owner,
        client=billing.client,
        frequency="monthly",
        starts_on=date(2026, 10, 1),
        action="draft",
    )
    worked(billing, 2, day=2)
    clock.day(date(2026, 12, 1))
    for _ in range(10):
        run_due(today=date(2026, 12, 1))
    drafts = Notification.objects.filter(kind=NotificationKind.DRAFT_READY)
    assert sorted(drafts.values_list("recipient__user__email", "email_state")) == [
        ("admin@acme.test", EmailState.SENT),
        ("owner@acme.test", EmailState.SENT),
    ]
    assert len(mail.outbox) == 2
    assert drafts.first().link.startswith("/invoices/")


# Concurrency: two workers at once (real threads, real locks; PostgreSQL in CI) ----------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_checking_and_delivering_at_once_tell_and_email_each_person_once(
    billing, smtp_server, settings
):
    inbox, port = smtp_server
    settings.MAILERS = test_sending._smtp_mailer(port)
    budget(billing, hours="10")
    worked(billing, 9)
    running(billing.member, billing.project, 11)

    def job() -> None:
        for _ in range(5):
            notifications.check(at=NOW)
            notification_mail.deliver(at=NOW)

    assert at_once(job)[1] == []
    rows = Notification.objects.order_by("recipient__user__email", "kind")
    assert [(n.recipient.user.email, n.kind) for n in rows] == [
        ("admin@acme.test", "budget"),
        ("manager@acme.test", "budget"),
        ("member@acme.test", "long_timer"),
        ("owner@acme.test", "budget"),
    ]
    assert {n.email_state for n in rows} == {EmailState.SENT}
    assert sorted(to[0] for _sender, to, _message in inbox.messages) == [
        "admin@acme.test",
        "manager@acme.test",
        "member@acme.test",
        "owner@acme.test",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_payments_recorded_at_once_each_tell_once(billing, clock, wipe_invoices_after):
    from decimal import Decimal

    from punchclock.payments import services as payments
    from tests.automation.test_notifications import issued

    invoice = issued(billing)

    def pay() -> None:
        payments.record_payment(
            invoice, payments.PaymentInput(Decimal("10.00"), invoice.issue_date), by=None
        )

    assert at_once(pay)[1] == []
    keys = Notification.objects.filter(recipient=billing.owner).values_list("key", flat=True)
    assert len(set(keys)) == 2 == len(keys)
    assert Notification.objects.count() == 4  # owner and admin, for each payment
