"""Retainers stepped through months: allowance, overage, carry, rollover, exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.automation import retainer_runs as runs
from punchclock.automation import retainers
from punchclock.automation.models import Action, Retainer, RetainerPeriod
from punchclock.invoicing.models import Invoice, InvoiceStatus
from punchclock.tracking.models import TimeEntry
from tests.invoicing.conftest import track

H = 3600


def worked(agency, day: date, minutes: int = 60, *, hour: int = 9, project=None):
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return track(agency.member, project or agency.project, start, minutes)


def make(agency, **fields) -> Retainer:
    fields.setdefault("name", "Support")
    fields.setdefault("included", Decimal(10))
    fields.setdefault("fee", Decimal(900))
    fields.setdefault("starts_on", date(2026, 1, 1))
    fields.setdefault("overage_rate", Decimal(120))
    fields.setdefault("action", Action.ISSUE)
    return retainers.save_retainer(agency.owner, client=agency.client, **fields)


def every_day(first: date, last: date) -> None:
    day = first
    while day <= last:
        runs.run_due(today=day)
        day += timedelta(days=1)


def closed() -> list[RetainerPeriod]:
    return list(RetainerPeriod.objects.order_by("period_start"))


def test_twelve_months_each_close_once_with_overage_billed(billing):
    make(billing)
    for month in range(1, 13):
        # 9 h in odd months, 12.5 h in even ones: 2.5 h over, billed at 120.
        worked(billing, date(2026, month, 3), 9 * 60 if month % 2 else 12 * 60 + 30)
    every_day(date(2026, 1, 1), date(2027, 1, 5))
    periods = closed()
    assert [p.period_start.month for p in periods] == list(range(1, 13))
    assert [p.used for p in periods] == [9 * H if m % 2 else 12.5 * H for m in range(1, 13)]
    assert [p.overage for p in periods] == [0 if m % 2 else 2.5 * H for m in range(1, 13)]
    assert all(p.carried_in == 0 and p.carried_out == 0 for p in periods)
    assert [p.expired for p in periods] == [H if m % 2 else 0 for m in range(1, 13)]
    invoices = [p.invoice for p in periods]
    assert all(i.status == InvoiceStatus.ISSUED for i in invoices)
    assert Invoice.objects.count() == 12
    # Fee 900; overage 2.5 h × 120 = 300; plus 19 % VAT.
    assert invoices[0].net_total == Decimal("900.00")
    assert invoices[1].net_total == Decimal("1200.00")
    lines = list(invoices[1].lines.order_by("position"))
    assert lines[0].description == "Retainer February 2026: 10 h included"
    assert lines[1].description == "Overage 2.5 h at 120.00"
    assert invoices[1].issue_date == date(2026, 3, 1)


def test_carried_overage_is_deducted_from_the_next_allowance(billing):
    make(billing, overage="carry")
    worked(billing, date(2026, 1, 5), 13 * 60)  # 3 h over
    worked(billing, date(2026, 2, 5), 5 * 60)
    runs.run_due(today=date(2026, 3, 1))
    january, february = closed()
    assert (january.overage, january.carried_out) == (0, -3 * H)
    assert january.invoice.net_total == Decimal("900.00")  # nothing billed beyond the fee
    assert (february.carried_in, february.used, february.expired) == (-3 * H, 5 * H, 2 * H)
    assert "3 h overage carried" in february.invoice.lines.first().description


def test_unused_hours_roll_over_up_to_the_cap(billing):
    make(billing, unused="roll_over", rollover_cap=Decimal("4"))
    worked(billing, date(2026, 1, 5), 4 * 60)  # 6 h unused, 4 roll over
    worked(billing, date(2026, 2, 5), 13 * 60)  # 14 h allowance
    worked(billing, date(2026, 3, 5), 9 * 60)
    runs.run_due(today=date(2026, 4, 1))
    january, february, march = closed()
    assert (january.carried_out, january.expired) == (4 * H, 2 * H)
    assert (february.carried_in, february.overage, february.carried_out) == (4 * H, 0, H)
    assert (march.carried_in, march.used, march.carried_out, march.expired) == (H, 9 * H, 2 * H, 0)


def test_uncapped_rollover_keeps_everything(billing):
    make(billing, unused="roll_over")
    runs.run_due(today=date(2026, 4, 1))
    assert [p.carried_out for p in closed()] == [10 * H, 20 * H, 30 * H]
    # A fee is billed each period even without work: the client bought the hours.
    assert Invoice.objects.count() == 3


def test_amount_retainer_bills_the_value_beyond_the_amount(billing):
    make(billing, kind="amount", included=Decimal(1000), overage_rate=None)
    worked(billing, date(2026, 1, 5), 9 * 60)  # 900 EUR at 100
    worked(billing, date(2026, 1, 6), 3 * 60, project=billing.other_project)  # 240 EUR at 80
    runs.run_due(today=date(2026, 2, 1))
    (january,) = closed()
    assert (january.used, january.overage) == (114000, 14000)  # cents
    lines = list(january.invoice.lines.order_by("position"))
    assert lines[0].description == "Retainer January 2026: 1,000.00 EUR included"
    assert (lines[1].quantity, lines[1].unit_price) == (Decimal(1), Decimal("140.00"))
    assert january.invoice.net_total == Decimal("1040.00")


def test_overage_rate_defaults_to_the_projects_rate(billing):
    make(billing, project=billing.project, overage_rate=None)
    worked(billing, date(2026, 1, 5), 11 * 60)
    runs.run_due(today=date(2026, 2, 1))
    (january,) = closed()
    assert january.overage_rate == Decimal(100)
    assert january.invoice.net_total == Decimal("1000.00")


def test_quarterly_through_a_leap_february(billing):
    make(billing, frequency="quarterly", included=Decimal(30), starts_on=date(2028, 1, 1))
    worked(billing, date(2028, 2, 29), 60)
    worked(billing, date(2028, 3, 31), 60, hour=21)  # 23:00 in Berlin: still March
    runs.run_due(today=date(2028, 3, 31))
    assert closed() == []  # the quarter has not ended
    runs.run_due(today=date(2028, 4, 1))
    (q1,) = closed()
    assert (q1.period_start, q1.period_end, q1.used) == (date(2028, 1, 1), date(2028, 3, 31), 2 * H)
    assert q1.invoice.lines.first().description.startswith("Retainer Q1 2028")


def test_period_boundaries_are_the_organizations_midnight(billing):
    make(billing)
    # 31 Jan 23:30 UTC is 1 Feb 00:30 in Berlin: February's.
    track(billing.member, billing.project, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), 60)
    # 31 Jan 22:30 UTC is 23:30 in Berlin: January's.
    track(billing.member, billing.project, datetime(2026, 1, 31, 22, 30, tzinfo=UTC), 30)
    runs.run_due(today=date(2026, 3, 1))
    january, february = closed()
    assert (january.used, february.used) == (H // 2, H)


def test_draw_down_is_measured_after_the_projects_rounding(billing):
    billing.project.rounding_minutes = 15
    billing.project.rounding_direction = "up"
    billing.project.save()
    make(billing)
    worked(billing, date(2026, 1, 5), 61)  # bills 1.25 h
    worked(billing, date(2026, 1, 6), 1)  # bills 0.25 h
    runs.run_due(today=date(2026, 2, 1))
    assert closed()[0].used == int(1.5 * H)


def test_odd_seconds_are_exact(billing):
    make(billing, included=Decimal("0.01"), overage_rate=Decimal("99.99"))
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    TimeEntry.objects.create(
        organization=billing.organization,
        membership=billing.member,
        project=billing.project,
        start=start,
        end=start + timedelta(seconds=7),
    )
    runs.run_due(today=date(2026, 2, 1))
    (january,) = closed()
    assert (january.included, january.used, january.overage) == (36, 7, 0)
    assert january.expired == 29


def test_ten_runs_close_each_period_once(billing):
    make(billing, action=Action.DRAFT)
    worked(billing, date(2026, 1, 5))
    for _ in range(10):
        runs.run_due(today=date(2026, 3, 2))
    assert RetainerPeriod.objects.count() == 2
    assert Invoice.objects.count() == 2


def test_late_entries_of_a_closed_period_are_drawn_at_the_next_close(billing):
    make(billing)
    runs.run_due(today=date(2026, 2, 1))
    worked(billing, date(2026, 1, 20), 120)  # tracked after January closed
    runs.run_due(today=date(2026, 3, 1))
    january, february = closed()
    assert (january.used, february.used) == (0, 2 * H)


def test_a_close_that_fails_writes_nothing_and_retries_the_next_day(billing):
    retainer = make(billing, overage_rate=None, project=billing.other_project)
    billing.organization.rates.all().delete()  # no rate for the overage
    worked(billing, date(2026, 1, 5), 11 * 60, project=billing.other_project)
    outcomes = runs.run_due(today=date(2026, 2, 1))
    assert [o.status for o in outcomes] == ["failed"]
    assert "No overage rate" in outcomes[0].message
    assert RetainerPeriod.objects.count() == 0
    assert Invoice.objects.count() == 0
    assert runs.run_due(today=date(2026, 2, 1)) == []  # not again today
    retainer.refresh_from_db()
    assert retainer.failed_on == date(2026, 2, 1)
    retainers.save_retainer(billing.owner, retainer=retainer, overage_rate=Decimal(50))
    outcomes = runs.run_due(today=date(2026, 2, 2))
    assert [o.status for o in outcomes] == ["issued"]
    retainer.refresh_from_db()
    assert (retainer.message, retainer.failed_on) == ("", None)


def test_balance_shows_hours_left_this_period(billing, monkeypatch):
    retainer = make(billing, overage="carry")
    worked(billing, date(2026, 1, 5), 12 * 60)  # 2 h over, carried, not yet closed
    worked(billing, date(2026, 2, 3), 150)
    found = retainers.balance(retainer, today=date(2026, 2, 10))
    assert found is not None
    assert found.label == "February 2026"
    assert (found.settlement.carried_in, found.settlement.used) == (-2 * H, int(2.5 * H))
    assert found.left == int(5.5 * H)
    assert found.left_text == "5.5 h"
    assert RetainerPeriod.objects.count() == 0  # reading writes nothing
    assert retainers.balance(retainer, today=date(2025, 12, 31)) is None


def test_preview_and_dry_run_say_what_a_close_would_bill(billing):
    retainer = make(billing)
    worked(billing, date(2026, 1, 5), 13 * 60)
    planned = runs.dry_run(retainer, today=date(2026, 2, 3))
    assert [(p.period.start, p.net) for p in planned] == [(date(2026, 1, 1), Decimal("1260.00"))]
    assert RetainerPeriod.objects.count() == 0
    nxt = runs.preview(retainer, today=date(2026, 2, 3))
    assert nxt is not None
    assert runs.preview_text(retainer, nxt) == "on 1 Mar: fee 900.00 ≈ 900.00 EUR net"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_on": date(2026, 1, 2)}, "starts_on"),
        ({"frequency": "quarterly", "starts_on": date(2026, 2, 1)}, "starts_on"),
        ({"ends_on": date(2026, 3, 15)}, "ends_on"),
        ({"ends_on": date(2025, 12, 31)}, "ends_on"),
        ({"included": Decimal(0)}, "included"),
        ({"included": Decimal("1.005")}, "included"),
        ({"fee": Decimal(-1)}, "fee"),
        ({"kind": "amount"}, "overage_rate"),
        ({"kind": "weekly"}, "kind"),
        ({"starts_on": date(3026, 1, 1)}, "starts_on"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(billing, fields, field):
    with pytest.raises(ValidationError) as raised:
        make(billing, **fields)
    assert field in raised.value.message_dict
    assert Retainer.objects.count() == 0


def test_two_retainers_cannot_cover_the_same_work(billing):
    make(billing, ends_on=date(2026, 6, 30))
    with pytest.raises(ValidationError, match="already covers"):
        make(billing, project=billing.project, starts_on=date(2026, 6, 1))
    make(billing, starts_on=date(2026, 7, 1))  # after the first one ends: fine
    assert Retainer.objects.count() == 2


def test_a_retainer_with_closed_periods_keeps_its_history(billing):
    retainer = make(billing)
    runs.run_due(today=date(2026, 2, 1))
    with pytest.raises(ValidationError):
        retainers.delete_retainer(retainer, by=billing.owner)
    with pytest.raises(ValidationError, match="closed"):
        retainers.save_retainer(billing.owner, retainer=retainer, starts_on=date(2026, 2, 1))
    assert Retainer.objects.count() == 1
