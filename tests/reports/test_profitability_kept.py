"""Profitability from kept line work (invoicing.BilledWork) gives what the billed entries give.

A random agency bills two clients in two currencies over three months: invoices with
discounts and surcharges whose lines straddle months and local midnights, a fixed-fee
project, partial and full credit notes, and work billed again after a full credit. Each
report is computed twice, from the kept sums and entry by entry
(profitability.KEEP_LINE_WORK off), for periods that start and end on any local day, in
zones on both sides of UTC and with half- and quarter-hour offsets.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.clients.models import TaxTreatment
from punchclock.expenses.models import ExchangeRate, RateSource
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import BilledWork, Invoice, InvoiceStatus, WorkUnit
from punchclock.projects.models import BillingMethod, RateKind
from punchclock.reports import profitability as module
from punchclock.reports.profitability import DIMENSIONS, profitability
from punchclock.reports.query import TimeFilter
from tests.factories import make_client, make_project, make_rate
from tests.invoicing.conftest import approved_expense, track

ORG_ZONE = "Europe/Berlin"
ZONES = ["UTC", ORG_ZONE, "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"]


def figures(report):
    """Everything a profitability page shows, per row and in total."""

    def row(r):
        return (
            r.key,
            r.seconds,
            r.invoiced,
            r.uninvoiced,
            r.cost,
            r.expenses,
            r.revenue_home,
            r.cost_home,
        )

    return sorted(map(row, report.rows), key=repr), row(report.total), report.rates


def both(viewer, *, by, first, last, zone, monkeypatch):
    kept = profitability(viewer, TimeFilter(), by=by, first=first, last=last, zone=zone)
    monkeypatch.setattr(module, "KEEP_LINE_WORK", False)
    try:
        entries = profitability(viewer, TimeFilter(), by=by, first=first, last=last, zone=zone)
    finally:
        monkeypatch.setattr(module, "KEEP_LINE_WORK", True)
    return figures(kept), figures(entries)


def build(agency, seed: int) -> random.Random:
    """Entries, invoices and credit notes, drawn from `seed` (the agency bills 100 EUR an
    hour on API and 80 on Website)."""
    rng = random.Random(seed)
    org = agency.organization
    org.timezone = ORG_ZONE
    org.save(update_fields=["timezone"])
    ExchangeRate.objects.create(
        organization=org, currency="USD", rate=Decimal("1.08"), on=date(2026, 1, 1),
        source=RateSource.MANUAL,
    )  # fmt: skip
    initech = make_client(
        org, "Initech", currency="USD", country="US", tax_treatment=TaxTreatment.EXPORT
    )
    tps = make_project(initech, "TPS reports")
    fixed = make_project(
        initech, "Migration", billing_method=BillingMethod.FIXED_FEE, fixed_fee=Decimal(4000)
    )
    make_rate(org, "133.3333", project=tps, currency="USD")
    make_rate(org, "97.5", project=tps, currency="USD", effective_from=date(2026, 11, 16))
    people = [agency.owner, agency.admin, agency.manager, agency.member]
    projects = [agency.project, agency.other_project, tps, fixed]
    for person in people:
        make_rate(org, f"{rng.randint(30, 60)}.5", kind=RateKind.COST, membership=person)
    start = datetime(2026, 9, 20, tzinfo=UTC)
    for _ in range(160):
        # Minutes anywhere in the day, so entries fall on both sides of UTC and local
        # midnights (Berlin's is 22:00 or 23:00 UTC).
        at = start + timedelta(days=rng.randint(0, 100), minutes=rng.randint(0, 24 * 60 - 1))
        track(
            rng.choice(people),
            rng.choice(projects),
            at,
            rng.randint(5, 300),
            billable=rng.random() < 0.9,
        )
    for project in (agency.project, tps):
        approved_expense(
            agency.member,
            f"{rng.randint(10, 99)}.{rng.randint(0, 99):02}",
            billable=False,
            project=project,
            client=project.client,
            spent_on=date(2026, 10, rng.randint(1, 31)),
        )
    issued: list[Invoice] = []
    day = date(2026, 10, 1)
    issue = date(2026, 11, 1)
    while day < date(2026, 12, 28):
        end = day + timedelta(days=rng.randint(5, 40))
        for client in (agency.client, initech):
            try:
                draft = invoicing.create_draft(
                    client, by=agency.owner, period_start=day - timedelta(days=12), period_end=end
                )
            except ValidationError:  # nothing left to bill for this client
                continue
            if not draft.lines.exists():
                invoicing.delete_draft(draft, by=agency.owner)
                continue
            if rng.random() < 0.5:
                invoicing.set_discount(
                    draft, by=agency.owner, discount_percent=Decimal(rng.choice(["5", "12.5"]))
                )
            if rng.random() < 0.3:
                invoicing.set_surcharge(
                    draft, by=agency.owner, surcharge_percent=Decimal("7.25"), reason="Rush"
                )
            issue += timedelta(days=1)
            issued.append(invoicing.issue_invoice(draft, by=agency.owner, issue_date=issue))
        day = end + timedelta(days=1)
    for invoice in issued:
        lines = list(invoice.lines.all())
        roll = rng.random()
        issue += timedelta(days=1)
        if roll < 0.2:
            invoicing.credit_invoice(invoice, by=agency.owner, issue_date=issue)
        elif roll < 0.45:
            chosen = rng.sample(lines, rng.randint(1, len(lines)))
            invoicing.credit_invoice(invoice, by=agency.owner, lines=chosen, issue_date=issue)
    # Work a full credit note released, billed again on a new invoice.
    for client in (agency.client, initech):
        try:
            draft = invoicing.create_draft(
                client,
                by=agency.owner,
                period_start=date(2026, 9, 1),
                period_end=date(2026, 12, 31),
            )
        except ValidationError:  # nothing released for this client
            continue
        issue += timedelta(days=1)
        invoicing.issue_invoice(draft, by=agency.owner, issue_date=issue)
    return rng


@pytest.fixture
def billed(billing, frozen_today, request):
    return billing, build(billing, request.param)


def test_the_world_has_what_the_comparison_needs(billing, frozen_today):
    build(billing, 1)
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
    assert issued.filter(kind="credit_note", lines__credits_line__isnull=False).exists()
    assert {i.currency for i in issued} == {"EUR", "USD"}
    assert issued.exclude(discount_percent=0).exists()
    assert issued.exclude(surcharge_percent=0).exists()
    assert BilledWork.objects.filter(unit=WorkUnit.MONTH).exists()
    # Some line bills work of two UTC months.
    months = BilledWork.objects.filter(unit=WorkUnit.MONTH).values_list("line_id", flat=True)
    assert len(months) > len(set(months))


@pytest.mark.parametrize("billed", [1, 2, 3], indirect=True)
def test_kept_line_work_gives_every_figure_the_entries_give(billed, monkeypatch):
    agency, rng = billed
    periods = [
        (date(2026, 10, 1), date(2026, 12, 31)),  # whole months
        (date(2026, 9, 1), date(2027, 1, 31)),  # all of it
        (date(2026, 11, 1), date(2026, 11, 1)),  # one day
    ]
    for _ in range(5):
        first = date(2026, 9, 25) + timedelta(days=rng.randint(0, 70))
        periods.append((first, first + timedelta(days=rng.randint(0, 60))))
    compared = 0
    for first, last in periods:
        for zone in ZONES:
            for by in DIMENSIONS:
                kept, entries = both(
                    agency.owner, by=by, first=first, last=last, zone=zone, monkeypatch=monkeypatch
                )
                assert kept == entries, (first, last, zone, by)
                compared += any(r[2] for r in kept[0])
    assert compared > 20  # most of the reports did see invoiced time


@pytest.mark.parametrize("billed", [2], indirect=True)
def test_hours_and_costs_skip_bill_prices_and_open_work_reads_kept_lines(billed, monkeypatch):
    """Profitability asks its time reports only for what it shows: hours and costs of all
    the work (bill=False), the billable value of the open work (cost=False). Both equal
    what the full reports give, and the first looks up no bill rate."""
    from punchclock.core.timeutil import start_of_day
    from punchclock.projects.ratebook import RateBook
    from punchclock.reports.timereport import time_report

    agency, _ = billed
    owner = agency.owner
    # Work not invoiced yet, beside the billed history: three people, two projects.
    for n, person in enumerate((owner, agency.admin, agency.member)):
        for project in (agency.project, agency.other_project):
            track(person, project, datetime(2026, 11, 9 + n, 8, 7, tzinfo=UTC), 97 + 13 * n)
            track(person, project, datetime(2026, 11, 16 + n, 22, 50, tzinfo=UTC), 31)
    for first, last, zone in (
        (date(2026, 10, 1), date(2026, 12, 31), ORG_ZONE),
        (date(2026, 9, 20), date(2026, 11, 17), "America/St_Johns"),
    ):
        window = {
            "start": start_of_day(first, zone),
            "end": start_of_day(last + timedelta(days=1), zone),
        }
        for by in DIMENSIONS:
            report = profitability(owner, TimeFilter(), by=by, first=first, last=last, zone=zone)
            rows = {r.key: r for r in report.rows}
            full = time_report(owner, TimeFilter(**window), by=(by,), zone=zone)
            open_work = TimeFilter(**window, billable=True, invoiced=False)
            unbilled = time_report(owner, open_work, by=(by,), zone=zone)
            assert full.total.seconds > 0
            for group in full.groups:
                row = rows[group.key[0]]
                assert (row.seconds, row.cost) == (group.figures.seconds, dict(group.figures.cost))
            for group in unbilled.groups:
                amounts = {c: a for c, a in group.figures.amounts.items() if a}
                assert rows[group.key[0]].uninvoiced == amounts, (by, group.key)
            assert any(r.uninvoiced for r in report.rows)
    calls = []
    real = RateBook.bill_chain
    monkeypatch.setattr(
        RateBook, "bill_chain", lambda self, **kw: calls.append(kw) or real(self, **kw)
    )
    window = TimeFilter(start=start_of_day(date(2026, 10, 1), ORG_ZONE))
    costs = time_report(owner, window, by=("project",), zone=ORG_ZONE, bill=False)
    assert calls == []
    assert costs.total.cost
    assert not costs.total.amounts
    assert costs.unpriced_seconds == 0
    priced = time_report(owner, window, by=("project",), zone=ORG_ZONE)
    assert calls  # the full report does look them up
    assert costs.total.seconds == priced.total.seconds
    assert costs.total.cost == priced.total.cost
