"""The kept span (monthly.SPAN, decision 0025): reports without a start (unbilled work,
budgets' use, all history) read the whole closed history as one run of sums. Every test
runs the report from the span, from the kept months (KEEP_SPANS off) and from the entries
(KEEP_MONTHS off), and checks that a change to any month is never read from a stale span.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from punchclock.reports import monthly, query
from punchclock.reports.models import MonthState, MonthTotal
from punchclock.reports.query import Covered, TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.reports.unbilled import unbilled_report
from punchclock.tracking.models import TimeEntry
from tests.concurrency import at_once
from tests.factories import make_rate
from tests.reports.conftest import ZONE, spy_calls
from tests.reports.test_kept_months import longer_through_the_orm
from tests.reports.test_totals_match_entries import cells_of

# September (the first entry's, on the 30th), October and November have ended; December runs.
DECEMBER = datetime(2026, 12, 10, 12, tzinfo=UTC)
HISTORY = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
UNBILLED = TimeFilter(billable=True, invoiced=False)


@pytest.fixture
def december(world, monkeypatch):
    monkeypatch.setattr(monthly, "now", lambda: DECEMBER)
    # The world holds three closed months; a span pays off from six in production.
    monkeypatch.setattr(monthly, "SPAN_MIN_MONTHS", 3)
    # Some of October on an issued invoice, so open and whole sums differ.
    october = [e.pk for e in world.entries if e.start.month == 10][::3]
    TimeEntry.objects.filter(pk__in=october).update(invoiced=True)
    return world


def _grains_read(monkeypatch) -> list[str]:
    """The grains of the kept rows each read asks for."""
    return spy_calls(monkeypatch, monthly, "_filters", lambda *args, **kwargs: args[-1].name)


def _three_ways(call, monkeypatch):
    """The call's result from the span, from the kept months, and from the entries."""
    spanned = call()
    monkeypatch.setattr(monthly, "KEEP_SPANS", False)
    months = call()
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    scanned = call()
    monkeypatch.setattr(query, "KEEP_MONTHS", True)
    monkeypatch.setattr(monthly, "KEEP_SPANS", True)
    return spanned, months, scanned


def _unbilled(viewer):
    report = unbilled_report(viewer, today=date(2026, 12, 10), zone=ZONE)
    return (
        report.totals,
        report.unpriced_seconds,
        [
            (
                client.name,
                [
                    (r.label, r.billable_seconds, r.billed_seconds, r.amounts, r.oldest)
                    for r in client.rows
                ],
            )
            for client in report.clients
        ],
    )


def _an_open_october_entry() -> TimeEntry:
    return TimeEntry.objects.filter(
        start__gte=datetime(2026, 10, 5, tzinfo=UTC),
        start__lt=datetime(2026, 10, 25, tzinfo=UTC),
        billable=True,
        invoiced=False,
    ).earliest("pk")


def _span_state():
    return MonthState.objects.filter(grain="span").values_list("month", "fingerprint").get()


def test_reports_without_a_start_read_the_span_and_give_the_months_figures(december, monkeypatch):
    agency = december.agency
    grains = _grains_read(monkeypatch)
    end = datetime(2026, 12, 11, tzinfo=UTC)
    budgets = TimeFilter(end=end, projects=(agency.project.pk,))
    cases = [
        (agency.owner, TimeFilter(), ("client",), True),
        (agency.owner, TimeFilter(), ("project", "person"), True),
        (agency.admin, budgets, ("project",), True),
        (agency.owner, TimeFilter(billable=False), ("task",), True),
        (agency.owner, UNBILLED, ("client", "project"), False),  # the unbilled views' read
        (agency.manager, TimeFilter(), ("project",), True),
        (agency.member, UNBILLED, ("person",), True),
    ]
    for viewer, where, by, cost in cases:
        spanned, months, scanned = _three_ways(
            lambda v=viewer, w=where, b=by, c=cost: cells_of(
                time_report(v, w, by=b, zone=ZONE, cost=c)
            ),
            monkeypatch,
        )
        assert spanned == months == scanned, (viewer.role, where, by)
        assert spanned[("total",)][0] > 0
    spanned, months, scanned = _three_ways(lambda: _unbilled(agency.owner), monkeypatch)
    assert spanned == months == scanned
    assert spanned[2]
    assert all(row[4] is not None for _, rows in spanned[2] for row in rows)
    assert "span" in grains
    assert _span_state()[0] == HISTORY[0]
    rows = MonthTotal.objects.filter(grain="span")
    # At most one row per pricing key and rate over the three months (rate periods here
    # mostly fall within one month), each dated where its open billable time starts.
    assert 0 < rows.count() <= MonthTotal.objects.filter(grain="month").count()
    key = ("membership_id", "project_id", "task_id", "period", "bill_rate", "bill_currency")
    first_open: dict[tuple, date] = {}
    for *parts, month in MonthTotal.objects.filter(
        grain="month", open_billable_seconds__gt=0
    ).values_list(*key, "month"):
        first_open[tuple(parts)] = min(month, first_open.get(tuple(parts), month))
    spans = {tuple(parts): first for *parts, first in rows.values_list(*key, "first_open")}
    assert {k: v for k, v in spans.items() if v is not None} == first_open
    assert len(set(first_open.values())) > 1


def test_a_month_changed_after_the_span_was_built_is_never_read_from_it(december, monkeypatch):
    agency = december.agency
    by = ("client", "project")
    report = lambda: cells_of(time_report(agency.owner, UNBILLED, by=by, zone=ZONE, cost=False))  # noqa: E731
    report()
    built = _span_state()
    changes = [
        lambda: longer_through_the_orm(_an_open_october_entry()),
        # A backdated rate splits October's rate periods: every month is built again.
        lambda: make_rate(
            agency.organization, "99", project=agency.project, effective_from=date(2026, 10, 20)
        ),
        lambda: TimeEntry.objects.filter(pk=december.entries[-1].pk).update(invoiced=True),
    ]
    for change in changes:
        before = report()
        change()
        spanned, months, scanned = _three_ways(report, monkeypatch)
        assert spanned == months == scanned
        assert spanned != before
        assert _span_state() != built  # built again from the rebuilt months
        built = _span_state()


def test_the_hourly_job_builds_the_span_and_reports_then_only_read_it(december, monkeypatch):
    org = december.agency.organization.pk
    assert monthly.keep_built(org) > 0
    assert monthly.span_fresh(org, HISTORY)
    rebuilt: list[list[date]] = []
    real = monthly.build_span
    monkeypatch.setattr(
        monthly, "build_span", lambda o, months: rebuilt.append(months) or real(o, months)
    )
    grains = _grains_read(monkeypatch)
    _unbilled(december.agency.owner)
    assert "span" in grains
    assert rebuilt == []
    assert monthly.keep_built(org) == 0  # nothing left to build


def test_only_the_whole_closed_history_is_a_span(december):
    months = HISTORY
    assert monthly.spans_history(TimeFilter(), months, monthly.MONTH, ZONE)
    assert monthly.spans_history(UNBILLED, months, monthly.MONTH, ZONE)
    # A start, a week grain, a history ending before the last closed month, too few months,
    # or a retainer's window (it cuts months out) read the months.
    start = datetime(2026, 8, 31, 22, tzinfo=UTC)
    assert not monthly.spans_history(TimeFilter(start=start), months, monthly.MONTH, ZONE)
    assert not monthly.spans_history(TimeFilter(), months, monthly.WEEK, ZONE)
    assert not monthly.spans_history(TimeFilter(), months[:-1], monthly.MONTH, ZONE)
    assert not monthly.spans_history(TimeFilter(), months[1:], monthly.MONTH, ZONE)
    window = Covered(client=1, start=datetime(2026, 9, 30, 22, tzinfo=UTC))
    assert not monthly.spans_history(TimeFilter(not_covered=(window,)), months, monthly.MONTH, ZONE)


@pytest.mark.django_db(transaction=True)
def test_two_builders_at_once_build_the_span_once(december, monkeypatch):
    org = december.agency.organization.pk
    start = datetime(2026, 8, 31, 22, tzinfo=UTC)  # a start: the months, built; no span
    time_report(december.agency.owner, TimeFilter(start=start), by=("project",), zone=ZONE)
    assert not MonthState.objects.filter(grain="span").exists()
    built, failures = at_once(lambda: monthly.build_span(org, HISTORY))
    assert failures == []
    # The second, once it had the lock, found the span built by the first.
    assert sorted(built) == [0, 1]
    assert MonthState.objects.filter(organization_id=org, grain="span").count() == 1
    keys = list(
        MonthTotal.objects.filter(grain="span").values_list(
            "membership_id", "project_id", "task_id", "period", "bill_rate", "bill_currency"
        )
    )
    assert keys
    assert len(keys) == len(set(keys))
    spanned, months, scanned = _three_ways(lambda: _unbilled(december.agency.owner), monkeypatch)
    assert spanned == months == scanned
