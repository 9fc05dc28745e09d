"""Recurring invoices stepped through years day by day: one invoice per period, whatever happens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from punchclock.automation import recurring as service
from punchclock.automation import tasks
from punchclock.automation.models import (
    Action,
    Notification,
    RecurringInvoice,
    RecurringRun,
    RunStatus,
)
from punchclock.automation.recurring import LineSpec
from punchclock.invoicing.models import EventKind, Invoice, InvoiceStatus
from tests.concurrency import at_once
from tests.mailers import REFUSING

HOSTING = LineSpec("Hosting {month} {year}", Decimal(1), Decimal("49.00"))


def hosting(agency, *lines: LineSpec, **fields) -> RecurringInvoice:
    """A monthly hosting invoice for Globex on the 1st, in advance, issued."""
    agency.client.email = "ap@globex.test"
    agency.client.save()
    fields.setdefault("name", "Hosting")
    fields.setdefault("frequency", "monthly")
    fields.setdefault("starts_on", date(2026, 1, 1))
    fields.setdefault("action", Action.ISSUE)
    return service.save_recurring(
        agency.owner, client=agency.client, lines=list(lines) or [HOSTING], **fields
    )


def step(first: date, last: date, every: int = 1) -> None:
    """The worker's daily run, every day (or every few days) from first to last."""
    day = first
    while day <= last:
        service.run_due(today=day)
        day += timedelta(days=every)


def issued() -> list[Invoice]:
    return list(Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("issue_date", "pk"))


def test_two_years_day_by_day_give_one_invoice_per_month(billing):
    hosting(billing)
    step(date(2025, 12, 20), date(2027, 12, 31))
    invoices = issued()
    assert len(invoices) == 24
    assert [i.issue_date for i in invoices] == [
        date(2026 + m // 12, m % 12 + 1, 1) for m in range(24)
    ]
    assert [i.period_start for i in invoices] == [i.issue_date for i in invoices]
    assert invoices[0].period_end == date(2026, 1, 31)
    assert invoices[1].period_end == date(2026, 2, 28)
    lines = [i.lines.get() for i in invoices]
    assert lines[0].description == "Hosting January 2026"
    assert lines[23].description == "Hosting December 2027"
    assert {i.gross_total for i in invoices} == {Decimal("58.31")}  # 49 + 19 % VAT
    runs = RecurringRun.objects.order_by("period_start")
    assert [r.cycle for r in runs] == list(range(1, 25))


def test_day_31_through_a_leap_february_and_a_common_one(billing):
    hosting(
        billing,
        LineSpec("Support {period_start} – {period_end}", Decimal(1), Decimal(10)),
        day_of_month=31,
        starts_on=date(2027, 12, 31),
    )
    step(date(2027, 12, 1), date(2029, 3, 31))
    runs = list(RecurringRun.objects.order_by("period_start"))
    spans = [(r.period_start, r.period_end) for r in runs]
    assert spans[1:4] == [
        (date(2028, 1, 31), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2028, 3, 30)),
        (date(2028, 3, 31), date(2028, 4, 29)),
    ]
    assert (date(2029, 1, 31), date(2029, 2, 27)) in spans
    assert (date(2029, 2, 28), date(2029, 3, 30)) in spans
    # Contiguous: each period starts the day after the one before ends.
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in pairwise(spans))
    assert {r.invoice.issue_date for r in runs} == {r.period_start for r in runs}
    assert len(issued()) == len(runs) == 16


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # 1 March 00:00 in Auckland (summer time, UTC+13) is 28 February 11:00 UTC.
        (
            "Pacific/Auckland",
            datetime(2027, 2, 28, 10, 50, tzinfo=UTC),
            datetime(2027, 2, 28, 11, 10, tzinfo=UTC),
        ),
        # 1 March 00:00 in Los Angeles is 08:00 UTC the same day.
        (
            "America/Los_Angeles",
            datetime(2027, 3, 1, 7, 50, tzinfo=UTC),
            datetime(2027, 3, 1, 8, 10, tzinfo=UTC),
        ),
    ],
)
def test_the_run_happens_on_the_organizations_local_day(billing, monkeypatch, zone, before, after):
    billing.organization.timezone = zone
    billing.organization.save()
    hosting(billing, starts_on=date(2027, 3, 1))
    monkeypatch.setattr(service, "now", lambda: before)
    assert service.run_due() == []
    assert not Invoice.objects.exists()
    monkeypatch.setattr(service, "now", lambda: after)
    (outcome,) = service.run_due()
    assert outcome.invoice.issue_date == date(2027, 3, 1)
    assert outcome.invoice.lines.get().description == "Hosting March 2027"


def test_cycles_end_after_n_and_an_end_date_stops_it(billing):
    three = hosting(billing, cycles=3)
    dated = hosting(billing, name="Support", ends_on=date(2026, 4, 15))
    step(date(2026, 1, 1), date(2026, 12, 31), every=4)
    assert three.runs.count() == 3
    # The period starting 1 April holds the end: it is the last one.
    assert [r.period_start.month for r in dated.runs.order_by("period_start")] == [1, 2, 3, 4]
    assert service.preview(three, today=date(2026, 12, 31)) is None


def test_a_price_change_applies_from_its_date(billing):
    line = LineSpec(
        "Hosting {month} {year}",
        Decimal(1),
        Decimal("49.00"),
        prices=((date(2027, 1, 1), Decimal("59.00")), (date(2026, 7, 15), Decimal("54.00"))),
    )
    hosting(billing, line, starts_on=date(2026, 6, 1))
    step(date(2026, 6, 1), date(2027, 2, 1), every=5)
    prices = [i.lines.get().unit_price for i in issued()]
    # 15 July is after the July period's start: August is the first at 54.
    assert prices == [Decimal(49)] * 2 + [Decimal(54)] * 5 + [Decimal(59)] * 2


def test_placeholders_in_german_and_english_and_in_the_note(billing):
    billing.client.language = "de"
    billing.client.save()
    hosting(
        billing,
        LineSpec("Hosting {month} {year}", Decimal(1), Decimal(49)),
        LineSpec("Wartung Q{quarter}/{year}, Rate {cycle}", Decimal(1), Decimal(10)),
        note="Zeitraum {period_start} bis {period_end} ({month_number}/{year}).",
        starts_on=date(2026, 12, 1),
    )
    service.run_due(today=date(2026, 12, 1))
    invoice = Invoice.objects.get()
    assert [line.description for line in invoice.lines.order_by("position")] == [
        "Hosting Dezember 2026",
        "Wartung Q4/2026, Rate 1",
    ]
    assert invoice.message == "Zeitraum 01.12.2026 bis 31.12.2026 (12/2026)."
    billing.client.language = "en"
    billing.client.save()
    service.run_due(today=date(2027, 1, 1))
    later = Invoice.objects.order_by("pk").last()
    assert later.lines.order_by("position").first().description == "Hosting January 2027"
    assert later.message == "Zeitraum Jan 1, 2027 bis Jan 31, 2027 (01/2027)."


def test_advance_bills_the_coming_period_and_arrears_the_one_just_ended(billing):
    advance = hosting(billing, starts_on=date(2026, 3, 1))
    arrears = hosting(billing, name="Support", billing="arrears", starts_on=date(2026, 3, 1))
    service.run_due(today=date(2026, 3, 1))
    assert [r.recurring for r in RecurringRun.objects.all()] == [advance]
    service.run_due(today=date(2026, 4, 1))
    run = arrears.runs.get()
    assert (run.period_start, run.period_end, run.invoice.issue_date) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        date(2026, 4, 1),
    )
    assert run.invoice.lines.get().description == "Hosting March 2026"
    assert advance.runs.order_by("-period_start").first().period_start == date(2026, 4, 1)


def test_quarterly_yearly_and_every_n_months(billing):
    quarterly = hosting(billing, frequency="quarterly", starts_on=date(2026, 2, 1))
    yearly = hosting(
        billing, name="Domain", frequency="yearly", starts_on=date(2026, 1, 15), day_of_month=15
    )
    every = hosting(billing, name="Audit", frequency="months", interval_months=5)
    service.run_due(today=date(2027, 12, 31))  # caught up at once, each period once
    starts = {
        r: [x.period_start for x in r.runs.order_by("period_start")]
        for r in (quarterly, yearly, every)
    }
    assert starts[quarterly] == [date(2026, m, 1) for m in (2, 5, 8, 11)] + [
        date(2027, m, 1) for m in (2, 5, 8, 11)
    ]
    assert starts[yearly] == [date(2026, 1, 15), date(2027, 1, 15)]
    assert starts[every] == [
        date(2026, 1, 1),
        date(2026, 6, 1),
        date(2026, 11, 1),
        date(2027, 4, 1),
        date(2027, 9, 1),
    ]


def test_catching_up_bills_each_missed_period_once_on_the_day_it_runs(billing):
    hosting(billing)
    service.run_due(today=date(2026, 1, 1))
    service.run_due(today=date(2026, 5, 10))  # the worker was down from February to May
    service.run_due(today=date(2026, 5, 11))
    invoices = issued()
    assert [i.period_start.month for i in invoices] == [1, 2, 3, 4, 5]
    assert [i.issue_date for i in invoices[1:]] == [date(2026, 5, 10)] * 4


def test_ten_runs_the_same_day_and_auto_send_mail_once(billing, monkeypatch):
    hosting(billing, action=Action.SEND)
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 1, 1, 9, tzinfo=UTC))
    for _ in range(10):
        service.run_due(today=date(2026, 1, 1))
        tasks.run_schedules.call()
    assert Invoice.objects.count() == 1
    run = RecurringRun.objects.get()
    assert run.status == RunStatus.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ap@globex.test"]
    assert run.invoice.events.filter(kind=EventKind.SENT).count() == 1


def test_a_refused_send_is_retried_later_and_sent_once(billing, settings):
    hosting(billing, action=Action.SEND)
    settings.MAILERS = REFUSING
    service.run_due(today=date(2026, 1, 1))
    run = RecurringRun.objects.get()
    assert (run.status, run.invoice.status) == (RunStatus.ISSUED, InvoiceStatus.ISSUED)
    assert "sending failed" in run.message
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    service.run_due(today=date(2026, 1, 2))
    service.run_due(today=date(2026, 1, 3))
    run.refresh_from_db()
    assert run.status == RunStatus.SENT
    assert len(mail.outbox) == 1
    assert Invoice.objects.count() == 1


def test_a_draft_tells_the_billing_people_once(billing):
    hosting(billing, action=Action.DRAFT)
    for _ in range(3):
        service.run_due(today=date(2026, 1, 1))
    run = RecurringRun.objects.get()
    assert run.status == RunStatus.DRAFTED
    assert run.invoice.is_draft
    assert sorted(m.to for m in mail.outbox) == [["admin@acme.test"], ["owner@acme.test"]]
    assert "recurring invoice “Hosting” drafted" in mail.outbox[0].body
    news = Notification.objects.filter(kind="draft_ready", key=f"invoice:{run.invoice_id}")
    assert news.count() == 2


def test_a_crash_in_the_middle_leaves_nothing_and_the_next_run_bills_once(billing, monkeypatch):
    hosting(billing)
    real_issue = service.invoicing.issue_invoice

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the worker killed while issuing

    monkeypatch.setattr(service.invoicing, "issue_invoice", crash)
    with pytest.raises(KeyboardInterrupt):
        service.run_due(today=date(2026, 1, 1))
    assert not RecurringRun.objects.exists()
    assert not Invoice.objects.exists()
    monkeypatch.setattr(service.invoicing, "issue_invoice", real_issue)
    service.run_due(today=date(2026, 1, 1))
    service.run_due(today=date(2026, 1, 1))
    assert len(issued()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_bill_each_period_once(billing, wipe_invoices_after):
    hosting(billing, action=Action.SEND)
    _, failures = at_once(lambda: service.run_due(today=date(2026, 4, 1)))
    assert failures == []
    assert RecurringRun.objects.count() == 4
    assert len(issued()) == 4
    assert len(mail.outbox) == 4


def test_someone_no_longer_allowed_fails_clearly(billing):
    recurring = hosting(billing)
    recurring.run_as = billing.member
    recurring.save()
    service.run_due(today=date(2026, 1, 1))
    run = RecurringRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "may no longer issue invoices" in run.message
    assert not Invoice.objects.exists()


def test_the_organization_filter_runs_only_that_organization(billing, outsider):
    hosting(billing)
    assert service.run_due(today=date(2026, 1, 1), organization_id=outsider.organization_id) == []
    assert not RecurringRun.objects.exists()
    assert (
        len(service.run_due(today=date(2026, 1, 1), organization_id=billing.organization.pk)) == 1
    )


def test_paused_deleted_and_resumed(billing):
    recurring = hosting(billing)
    service.set_active(recurring, by=billing.owner, active=False)
    service.run_due(today=date(2026, 2, 1))
    assert not Invoice.objects.exists()
    service.set_active(recurring, by=billing.owner, active=True)
    service.run_due(today=date(2026, 2, 1))
    assert len(issued()) == 2  # January and February, caught up once
    service.delete_recurring(recurring, by=billing.owner)
    recurring.refresh_from_db()
    assert recurring.deleted_at is not None
    assert recurring.runs.count() == 2
    service.run_due(today=date(2026, 3, 1))
    assert len(issued()) == 2
    never_ran = hosting(billing, name="Later", starts_on=date(2030, 1, 1))
    service.delete_recurring(never_ran, by=billing.owner)
    assert not RecurringInvoice.objects.filter(pk=never_ran.pk).exists()


def test_the_preview_names_the_next_run_with_lines_and_tax(billing):
    recurring = hosting(
        billing,
        HOSTING,
        LineSpec("Support plan", Decimal(2), Decimal("15.00"), unit="HUR"),
        starts_on=date(2026, 1, 1),
    )
    found = service.preview(recurring, today=date(2026, 11, 20))
    assert found is not None
    assert (found.period.start, found.period.end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert [(p.description, p.net) for p in found.lines] == [
        ("Hosting December 2026", Decimal("49.00")),
        ("Support plan", Decimal("30.00")),
    ]
    assert (found.net, found.tax, found.gross) == (
        Decimal("79.00"),
        Decimal("15.01"),
        Decimal("94.01"),
    )
    assert str(found) == "on 1 Dec: Hosting December 2026 + 1 more line — 79.00 EUR + VAT"


@pytest.mark.parametrize(
    ("fields", "lines", "field", "words"),
    [
        ({}, [LineSpec("Hosting {monht}", Decimal(1), Decimal(1))], "lines", "“{monht}” is not a"),
        ({}, [LineSpec("Hosting {month", Decimal(1), Decimal(1))], "lines", "Unbalanced braces"),
        ({}, [LineSpec("Hosting {month!r}", Decimal(1), Decimal(1))], "lines", "is not a"),
        ({"note": "For {period}"}, [HOSTING], "note", "“{period}” is not a"),
        ({}, [], "lines", "at least one line"),
        ({}, [LineSpec("Hosting", Decimal(0), Decimal(1))], "lines", "Line 1"),
        ({"starts_on": date(2026, 1, 2)}, [HOSTING], "starts_on", "1 Feb 2026 is the next"),
        ({"ends_on": date(2025, 1, 1)}, [HOSTING], "ends_on", "before the first day"),
        ({"cycles": 3, "ends_on": date(2027, 1, 1)}, [HOSTING], "ends_on", "not both"),
        ({"name": "  "}, [HOSTING], "name", "Name it"),
        ({"day_of_month": 32}, [HOSTING], "day_of_month", "1 to 31"),
        (
            {},
            [LineSpec("Hosting", Decimal(1), Decimal(1), prices=((date(1999, 1, 1), Decimal(2)),))],
            "lines",
            "price change",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(billing, fields, lines, field, words):
    fields = {"name": "Hosting", "frequency": "monthly", "starts_on": date(2026, 1, 1), **fields}
    with pytest.raises(ValidationError) as caught:
        service.save_recurring(billing.owner, client=billing.client, lines=lines, **fields)
    assert field in caught.value.message_dict
    assert words in " ".join(caught.value.message_dict[field])
    assert not RecurringInvoice.objects.exists()


def test_changing_the_lines_replaces_them_and_keeps_the_runs(billing):
    recurring = hosting(billing)
    service.run_due(today=date(2026, 1, 1))
    service.save_recurring(
        billing.owner,
        recurring=recurring,
        lines=[LineSpec("Managed hosting {month}", Decimal(1), Decimal(60))],
    )
    with pytest.raises(ValidationError):
        service.save_recurring(
            billing.owner, recurring=recurring, lines=[LineSpec("{bad}", Decimal(1), Decimal(1))]
        )
    assert [line.description for line in recurring.lines.all()] == ["Managed hosting {month}"]
    service.run_due(today=date(2026, 2, 1))
    assert [i.lines.get().description for i in issued()] == [
        "Hosting January 2026",
        "Managed hosting February",
    ]


def test_changing_the_day_never_bills_a_day_twice(billing):
    recurring = hosting(billing)
    service.run_due(today=date(2026, 1, 1))  # January, 1–31, billed in advance
    # Now billed on the 15th from 15 January: that period starts inside January's.
    service.save_recurring(
        billing.owner, recurring=recurring, day_of_month=15, starts_on=date(2026, 1, 15)
    )
    service.run_due(today=date(2026, 2, 15))
    starts = [r.period_start for r in RecurringRun.objects.order_by("period_start")]
    assert starts == [date(2026, 1, 1), date(2026, 2, 15)]


def test_an_idle_run_reads_all_recurring_invoices_in_a_fixed_number_of_queries(
    billing, django_assert_max_num_queries
):
    for day in range(1, 11):
        hosting(billing, name=f"Hosting {day}", day_of_month=day, starts_on=date(2026, 2, day))
    with django_assert_max_num_queries(3):  # the invoices, their runs, sends to retry
        assert service.run_due(today=date(2026, 1, 20)) == []
