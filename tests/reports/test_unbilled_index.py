"""The invoiced filters read TimeEntry.invoiced, and unbilled work has its own index.

The oracle decides "invoiced" from the billed rows of issued invoices, so these tests also
cross-check the flag the invoicing services keep.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction

from punchclock.invoicing.models import BilledEntry, Invoice, InvoiceStatus
from punchclock.invoicing.services import create_draft, credit_invoice, issue_invoice
from punchclock.reports import query
from punchclock.reports.dashboard import unbilled_by_client
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from tests.reports.conftest import ZONE
from tests.reports.test_filters_and_roles import _check, window

ISSUED = date(2026, 12, 1)


def on_issued_invoices() -> set[int]:
    return set(
        BilledEntry.objects.filter(line__invoice__status=InvoiceStatus.ISSUED).values_list(
            "entry_id", flat=True
        )
    )


def check_invoiced_filters(world) -> None:
    billed = on_issued_invoices()
    _check(world, window(world, invoiced=True), lambda e: e.pk in billed)
    _check(world, window(world, invoiced=False), lambda e: e.pk not in billed)
    _check(
        world,
        window(world, invoiced=False, billable=True),
        lambda e: e.billable and e.pk not in billed,
        by=("client", "day"),
    )
    _check(
        world,
        window(world, invoiced=True, billable=False),
        lambda e: not e.billable and e.pk in billed,
    )


def draft_of(world, first: date, last: date, **kw):
    a = world.agency
    return create_draft(
        a.client, by=a.owner, period_start=first, period_end=last, tax_rate=None, **kw
    )


@pytest.fixture
def issuing(world):
    world.agency.organization.vat_id = "DE811907980"  # issuing checks the e-invoice rules
    world.agency.organization.save()
    return world


def test_invoiced_filters_follow_issues_and_credits(issuing):
    world, a = issuing, issuing.agency
    october = issue_invoice(
        draft_of(world, date(2026, 10, 1), date(2026, 10, 31)), by=a.owner, issue_date=ISSUED
    )
    november = issue_invoice(
        draft_of(world, date(2026, 11, 1), date(2026, 11, 15), project=a.project),
        by=a.owner,
        issue_date=ISSUED,
    )
    draft_of(world, date(2026, 11, 16), date(2026, 11, 30))  # a draft: still not invoiced
    assert on_issued_invoices()
    check_invoiced_filters(world)
    credit_invoice(
        november, by=a.owner, lines=[november.lines.order_by("position")[0]], issue_date=ISSUED
    )
    check_invoiced_filters(world)  # a partial credit leaves the work invoiced
    before = on_issued_invoices()
    credit_invoice(october, by=a.owner, issue_date=ISSUED)
    assert on_issued_invoices() < before  # the full credit released October's work
    check_invoiced_filters(world)


def test_the_unbilled_card_counts_only_work_off_issued_invoices(issuing):
    world, a = issuing, issuing.agency
    everything = {row.client_id: row.billable_seconds for row in unbilled_by_client(a.owner)}
    issue_invoice(
        draft_of(world, date(2026, 10, 1), date(2026, 10, 31)), by=a.owner, issue_date=ISSUED
    )
    billed = on_issued_invoices()
    left = {row.client_id: row.billable_seconds for row in unbilled_by_client(a.owner)}
    on_invoice = sum(e.seconds() for e in world.entries if e.pk in billed)
    assert on_invoice > 0
    assert left == {a.client.pk: everything[a.client.pk] - on_invoice}


def _queries(monkeypatch, call) -> list[tuple[str, list]]:
    seen: list[tuple[str, list]] = []
    fetch = query._fetch

    def recording(sql: str, params: list):
        seen.append((sql, params))
        return fetch(sql, params)

    monkeypatch.setattr(query, "_fetch", recording)
    call()
    assert seen
    return seen


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        # A handful of rows make a sequential scan cheapest; forbid it to see which index
        # PostgreSQL would take for the same query on a big table. Bitmap scans too: after
        # other tests' rolled-back rows, until autovacuum marks the entries' pages visible
        # again, a bitmap scan of the same index costs less than an index-only scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def _plan_through(index: str, sql: str, params: list) -> str:
    """The plan of a read of the kept table when `index` is the only index it could take
    (PostgreSQL; on SQLite, as _plan). On a few rows PostgreSQL picks between two indexes
    by statistics that other tests' rows leave behind (the plain month index won one CI
    run), so the others are dropped for the EXPLAIN, inside a savepoint undone at once:
    what is checked is that the query's terms let it read that index."""
    if connection.vendor == "sqlite":
        return _plan(sql, params)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'reports_monthtotal' "
                "AND indexname <> %s AND indexname NOT LIKE '%%pkey'",
                [index],
            )
            for (other,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{other}"')
        plan = _plan(sql, params)
        transaction.set_rollback(True)
    return plan


@pytest.mark.parametrize(
    ("where", "by"),
    [
        (TimeFilter(billable=True, invoiced=False), ("client",)),  # the dashboard's card
        (TimeFilter(billable=True, invoiced=False), ("project", "person")),  # per-day rounding
        (TimeFilter(billable=True, invoiced=False), ("tag",)),
    ],
)
def test_unbilled_reports_read_the_partial_index_only(world, monkeypatch, where, by):
    # The scan (kept months are read from their own partial index: the test below).
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    report = lambda: time_report(world.agency.owner, where, by=by, zone=ZONE)  # noqa: E731
    for sql, params in _queries(monkeypatch, report):
        plan = _plan(sql, params)
        assert "entry_unbilled_cover" in plan, plan
        assert "entry_report_cover" not in plan, plan
        if connection.vendor == "sqlite":
            assert "COVERING INDEX entry_unbilled_cover" in plan, plan
        elif "tag" not in by:
            # The tag join needs the entry's id, which PostgreSQL's index does not hold
            # (SQLite's always does): like entry_report_cover, it then reads the table.
            assert "Index Only Scan using entry_unbilled_cover" in plan, plan


def test_other_invoiced_filters_keep_the_covering_index(world, monkeypatch):
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    for where in (
        TimeFilter(invoiced=True),
        TimeFilter(invoiced=False),
        TimeFilter(billable=False, invoiced=False),
    ):
        report = lambda w=where: time_report(world.agency.owner, w, by=("client",), zone=ZONE)  # noqa: E731
        for sql, params in _queries(monkeypatch, report):
            plan = _plan(sql, params)
            assert "entry_unbilled_cover" not in plan, plan
            assert "billedentry" not in plan, plan
            if connection.vendor == "sqlite":
                assert "COVERING INDEX entry_report_cover" in plan, plan


def test_unbilled_work_reads_kept_months_through_their_open_index(issuing, monkeypatch):
    """All history's unbilled work from kept months: only rows with open billable time,
    through the partial index month_total_open; and the figures equal the scan's."""
    from punchclock.reports import monthly
    from punchclock.reports.models import MonthTotal

    world, a = issuing, issuing.agency
    monkeypatch.setattr(monthly, "now", lambda: datetime(2027, 1, 10, tzinfo=UTC))
    issue_invoice(
        draft_of(world, date(2026, 10, 1), date(2026, 10, 31)), by=a.owner, issue_date=ISSUED
    )
    where = TimeFilter(billable=True, invoiced=False)
    report = lambda: time_report(a.owner, where, by=("client",), zone=ZONE)  # noqa: E731
    reads = [
        (sql, params)
        for sql, params in _queries(monkeypatch, report)
        if "reports_monthtotal" in sql
    ]
    assert len(reads) == 1
    plan = _plan_through("month_total_open", *reads[0])
    assert "month_total_open" in plan, plan
    assert MonthTotal.objects.filter(open_billable_seconds__gt=0).exists()
    assert MonthTotal.objects.filter(billable_seconds__gt=0, open_billable_seconds=0).exists()
    check_invoiced_filters(world)  # kept months against the oracle
    credit_invoice(Invoice.objects.get(status=InvoiceStatus.ISSUED), by=a.owner, issue_date=ISSUED)
    check_invoiced_filters(world)  # the full credit's released work shows in them
