"""Billing schedules stepped through months: one invoice per period, whatever happens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from punchclock.automation import services
from punchclock.automation.models import Action, RunStatus, ScheduleRun
from punchclock.core.timeutil import local_date
from punchclock.invoicing.models import EventKind, Invoice, InvoiceStatus
from tests.concurrency import at_once
from tests.invoicing.conftest import free_draft, track
from tests.mailers import REFUSING


def worked(agency, day: date, minutes: int = 120) -> None:
    track(
        agency.member,
        agency.project,
        datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        minutes,
    )


def monthly(agency, action: str = Action.ISSUE, **fields):
    agency.client.email = "ap@globex.test"
    agency.client.save()
    return services.save_schedule(
        agency.owner,
        client=agency.client,
        frequency="monthly",
        day_of_month=fields.pop("day_of_month", 1),
        starts_on=fields.pop("starts_on", date(2026, 1, 1)),
        action=action,
        **fields,
    )


def test_a_year_of_months_gives_one_invoice_per_month_with_work(billing):
    monthly(billing)
    for month in range(1, 13):
        if month != 6:  # June: nobody worked for Globex
            worked(billing, date(2026, month, 10))
    day = date(2026, 1, 1)
    while day <= date(2027, 1, 3):
        services.run_due(today=day)  # every day, as the worker does
        day += timedelta(days=1)
    runs = list(ScheduleRun.objects.order_by("period_start"))
    assert [r.period_start.month for r in runs] == list(range(1, 13))
    assert [r.status for r in runs].count(RunStatus.ISSUED) == 11
    june = runs[5]
    assert (june.status, june.invoice) == (RunStatus.EMPTY, None)
    assert "No unbilled work" in june.message
    invoices = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("issue_date")
    assert invoices.count() == 11
    assert invoices.first().issue_date == date(2026, 2, 1)
    assert {i.gross_total for i in invoices} == {Decimal("238.00")}  # 2 h × 100 + 19 %


def test_running_ten_times_the_same_day_changes_nothing_after_the_first(billing):
    schedule = monthly(billing, action=Action.SEND)
    worked(billing, date(2026, 1, 12))
    for _ in range(10):
        services.run_due(today=date(2026, 2, 1))
    assert Invoice.objects.count() == 1
    assert ScheduleRun.objects.get().status == RunStatus.SENT
    assert len(mail.outbox) == 1
    assert schedule.runs.count() == 1


def test_month_end_schedule_through_a_leap_february(billing):
    monthly(billing, day_of_month=31, starts_on=date(2028, 1, 1))
    for day in (date(2028, 1, 20), date(2028, 2, 10), date(2028, 3, 1)):
        worked(billing, day)
    services.run_due(today=date(2028, 3, 31))
    runs = list(ScheduleRun.objects.order_by("period_start"))
    assert [(r.period_start, r.period_end) for r in runs] == [
        (date(2028, 1, 1), date(2028, 1, 30)),
        (date(2028, 1, 31), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2028, 3, 30)),
    ]
    # Caught up on one day, all three are issued that day: issue dates never go backwards.
    assert {r.invoice.issue_date for r in runs} == {date(2028, 3, 31)}


def test_a_draft_schedule_tells_the_owner_and_issues_nothing(billing):
    monthly(billing, action=Action.DRAFT)
    worked(billing, date(2026, 1, 12))
    services.run_due(today=date(2026, 2, 1))
    run = ScheduleRun.objects.get()
    assert run.status == RunStatus.DRAFTED
    assert run.invoice.is_draft
    # Owners and admins are told (the notifications' defaults email both of this kind).
    assert sorted(m.to for m in mail.outbox) == [["admin@acme.test"], ["owner@acme.test"]]
    assert all("ready for review" in m.subject for m in mail.outbox)


def test_a_refused_send_is_retried_without_issuing_twice(billing, settings):
    monthly(billing, action=Action.SEND)
    worked(billing, date(2026, 1, 12))
    settings.MAILERS = REFUSING
    services.run_due(today=date(2026, 2, 1))
    run = ScheduleRun.objects.get()
    assert run.status == RunStatus.ISSUED
    assert "sending failed" in run.message
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    services.run_due(today=date(2026, 2, 2))
    run.refresh_from_db()
    assert run.status == RunStatus.SENT
    assert Invoice.objects.count() == 1
    assert run.invoice.events.filter(kind=EventKind.SENT).count() == 1


def test_a_crash_in_the_middle_leaves_nothing_and_the_next_run_bills_once(billing, monkeypatch):
    monthly(billing)
    worked(billing, date(2026, 1, 12))
    real_issue = services.invoicing.issue_invoice

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the worker killed while issuing

    monkeypatch.setattr(services.invoicing, "issue_invoice", crash)
    with pytest.raises(KeyboardInterrupt):
        services.run_due(today=date(2026, 2, 1))
    assert not ScheduleRun.objects.exists()
    assert not Invoice.objects.exists()
    monkeypatch.setattr(services.invoicing, "issue_invoice", real_issue)
    services.run_due(today=date(2026, 2, 1))
    services.run_due(today=date(2026, 2, 1))
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 1


def test_a_schedule_of_someone_no_longer_allowed_fails_clearly(billing):
    schedule = monthly(billing)
    worked(billing, date(2026, 1, 12))
    schedule.run_as = billing.member
    schedule.save()
    services.run_due(today=date(2026, 2, 1))
    run = ScheduleRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "may no longer issue invoices" in run.message
    assert not Invoice.objects.exists()


def test_the_preview_names_the_next_run(billing, monkeypatch):
    schedule = monthly(billing)
    worked(billing, date(2026, 11, 3), minutes=150)
    monkeypatch.setattr(services, "now", lambda: datetime(2026, 11, 26, 12, tzinfo=UTC))
    found = services.preview(schedule)
    assert found is not None
    assert (found.period.start, found.period.run_on) == (date(2026, 11, 1), date(2026, 12, 1))
    assert str(found) == "on 1 Dec: invoice for 2.5 h + 0 expenses ≈ 250.00 EUR"


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_bill_each_period_once(billing, wipe_invoices_after):
    monthly(billing)
    for month in (1, 2, 3):
        worked(billing, date(2026, month, 10))
    _, failures = at_once(lambda: services.run_due(today=date(2026, 4, 1)))
    assert failures == []
    assert ScheduleRun.objects.count() == 3
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 3


def test_a_failed_period_is_tried_again_on_a_later_day(billing):
    schedule = monthly(billing)
    worked(billing, date(2026, 1, 12))
    schedule.run_as = billing.member  # not allowed to invoice
    schedule.save()
    services.run_due(today=date(2026, 2, 1))
    services.run_due(today=date(2026, 2, 1))  # the same day: not again
    run = ScheduleRun.objects.get()
    assert (run.status, run.attempts) == (RunStatus.FAILED, 1)
    schedule.run_as = billing.owner
    schedule.save()
    # The day after the failure where the organization is (Berlin): a UTC date is still
    # the failure's own day there between 23:00 and midnight UTC.
    tomorrow = local_date(run.updated_at, schedule.organization.timezone) + timedelta(days=1)
    services.run_due(today=tomorrow)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.ISSUED, 2)
    assert run.invoice.issue_date == tomorrow
    assert Invoice.objects.count() == 1


def test_catching_up_after_a_later_invoice_issues_today_instead_of_failing(billing):
    monthly(billing)
    worked(billing, date(2026, 1, 12))
    later = free_draft(billing, ("Workshop", "1", "500"))
    services.invoicing.issue_invoice(later, by=billing.owner, issue_date=date(2026, 3, 10))
    services.run_due(today=date(2026, 3, 12))  # January and February are caught up
    runs = list(ScheduleRun.objects.order_by("period_start"))
    assert [r.status for r in runs] == [RunStatus.ISSUED, RunStatus.EMPTY]
    assert runs[0].invoice.issue_date == date(2026, 3, 12)


def test_an_idle_run_reads_all_schedules_in_a_fixed_number_of_queries(
    billing, django_assert_max_num_queries
):
    for day in range(1, 11):
        monthly(billing, starts_on=date(2026, 1, day))
    services.run_due(today=date(2026, 1, 20))  # nothing due yet: no run day has come
    with django_assert_max_num_queries(4):
        services.run_due(today=date(2026, 1, 20))


def weekly_since_2024(agency):
    return services.save_schedule(
        agency.owner,
        client=agency.client,
        frequency="weekly",
        interval_weeks=1,
        starts_on=date(2024, 1, 1),  # a Monday
        action=Action.ISSUE,
    )


def test_a_schedule_older_than_sixty_periods_still_bills_its_new_one(billing):
    schedule = weekly_since_2024(billing)
    # Seventy weeks already run (nothing was worked then): the history of a busy schedule.
    for week in range(70):
        start = date(2024, 1, 1) + timedelta(weeks=week)
        ScheduleRun.objects.create(
            schedule=schedule,
            period_start=start,
            period_end=start + timedelta(days=6),
            run_on=start + timedelta(days=7),
            status=RunStatus.EMPTY,
        )
    new_week = date(2024, 1, 1) + timedelta(weeks=70)
    worked(billing, new_week + timedelta(days=2))
    services.run_due(today=new_week + timedelta(weeks=1))
    run = ScheduleRun.objects.get(period_start=new_week)
    assert run.status == RunStatus.ISSUED
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 1


def test_a_long_backlog_is_billed_sixty_periods_a_run_oldest_first(billing):
    schedule = weekly_since_2024(billing)
    today = date(2024, 1, 1) + timedelta(weeks=100)  # a hundred weeks ended, none run
    services.run_due(today=today)
    assert schedule.runs.count() == 60
    assert schedule.runs.order_by("period_start").first().period_start == date(2024, 1, 1)
    services.run_due(today=today)
    assert schedule.runs.count() == 100
    assert set(schedule.runs.values_list("status", flat=True)) == {RunStatus.EMPTY}
