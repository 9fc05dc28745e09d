"""Unbilled work: what the entries and expenses say is not invoiced yet, with its age."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.utils.html import escape

from punchclock.core.timeutil import local_date
from punchclock.invoicing.models import Invoice
from punchclock.invoicing.services import create_draft, issue_invoice
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.reports.unbilled import unbilled_report
from tests.conftest import login
from tests.reports.conftest import ZONE
from tests.reports.test_reports_api import _get

TODAY = date(2026, 12, 15)


def _rows(report) -> dict[tuple[int, int | None], object]:
    return {(c.client_id, r.project_id): r for c in report.clients for r in c.rows}


def _issue_october_of_the_api_project(world) -> set[int]:
    a = world.agency
    a.organization.vat_id = "DE811907980"  # issuing checks the e-invoice rules
    a.organization.save()
    draft = create_draft(
        a.client,
        by=a.owner,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        project=a.project,
    )
    billed = set(draft.lines.values_list("billed_entries__entry_id", flat=True)) - {None}
    issue_invoice(draft, by=a.owner, issue_date=date(2026, 12, 1))
    return billed


def _draft_of_the_row(a, row) -> set[int]:
    """Click the project row's Draft button (as the page posts it): the entries the new
    draft bills."""
    response = login(a.owner).post(
        "/invoices/unbilled/",
        {
            "client": a.client.pk,
            "project": row.project_id,
            "period_start": row.oldest.isoformat(),
            "period_end": TODAY.isoformat(),
            "group_by": "project",
        },
    )
    assert response.status_code == 302
    draft = Invoice.objects.get(client=a.client)
    return set(draft.lines.values_list("billed_entries__entry_id", flat=True)) - {None}


def test_time_is_the_time_reports_unbilled_figures_with_the_oldest_day(world):
    a = world.agency
    billed = _issue_october_of_the_api_project(world)
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    expected = time_report(
        a.owner, TimeFilter(billable=True, invoiced=False), by=("client", "project"), zone=ZONE
    )
    rows = _rows(report)
    for group in expected.groups:
        for child in group.children:
            row = rows[(group.key[0], child.key[0])]
            assert row.billable_seconds == child.figures.billable_seconds
            assert row.billed_seconds == child.figures.billed_seconds
            assert row.amounts == {c: v for c, v in child.figures.amounts.items() if v}
    # The oldest day and the age come from the entries that are still unbilled.
    for (_client_id, project_id), row in rows.items():
        waiting = [
            e
            for e in world.entries
            if e.project_id == project_id and e.billable and e.pk not in billed
        ]
        assert row.oldest == min(local_date(e.start, ZONE) for e in waiting)
        assert row.age(TODAY) == (TODAY - row.oldest).days
    api_row = rows[(a.client.pk, a.project.pk)]
    assert api_row.oldest >= date(2026, 11, 1)  # October of that project is invoiced
    all_time = sum(e.duration_seconds for e in world.entries if e.billable and e.pk not in billed)
    assert sum(r.billable_seconds for r in rows.values()) == all_time


def _approved_train_ticket(a):
    """An approved billable expense of 119 on the API project, 20 September."""
    from punchclock.expenses.models import Expense, ExpenseStatus
    from punchclock.expenses.services import (
        ExpenseInput,
        create_starter_categories,
        record_expense,
    )

    create_starter_categories(a.organization)
    expense = record_expense(
        a.member,
        by=a.member,
        data=ExpenseInput(
            client=a.client,
            project=a.project,
            category=a.organization.expense_categories.get(name="Travel"),
            spent_on=date(2026, 9, 20),
            description="Train to the client",
            amount="119",
        ),
    )
    Expense.objects.filter(pk=expense.pk).update(status=ExpenseStatus.APPROVED)
    expense.refresh_from_db()
    return expense


def test_expenses_join_their_project_and_the_totals(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    a = world.agency
    expense = _approved_train_ticket(a)
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    row = _rows(report)[(a.client.pk, a.project.pk)]
    assert row.expenses == {
        expense.client_currency: expense.billable_amount.quantize(Decimal("0.01"))
    }
    assert row.expense_count == 1
    assert row.oldest == date(2026, 9, 20)  # older than any entry
    client = next(c for c in report.clients if c.client_id == a.client.pk)
    assert client.summary.oldest == date(2026, 9, 20)
    grand = sum((amount for c in report.clients for amount in c.summary.total.values()), Decimal(0))
    assert sum(report.totals.values()) == grand


def test_page_csv_and_api_for_billers_only(world, client):
    a = world.agency
    a.client.name = "=HYPERLINK(1)"
    a.client.save()
    owner = login(a.owner)
    page = owner.get("/reports/unbilled/")
    assert page.status_code == 200
    assert "Unbilled work" in page.content.decode()
    assert 'name="period_start"' in page.content.decode()
    csv = owner.get("/reports/unbilled/export.csv?bom=0").content.decode()
    assert csv.splitlines()[0].startswith("Client,Project,Currency")
    assert "'=HYPERLINK(1)" in csv  # neutralised for spreadsheets
    page_report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    lines = sum(max(1, len(r.total)) for c in page_report.clients for r in c.rows)
    assert len(csv.splitlines()) == 1 + lines
    body = _get(client, a.owner, "/api/v1/reports/unbilled").json()
    assert body["totals"] == {
        c: str(v.quantize(Decimal("0.01"))) for c, v in page_report.totals.items()
    }
    assert [c["client_id"] for c in body["clients"]] == [c.client_id for c in page_report.clients]
    api_csv = _get(client, a.owner, "/api/v1/reports/unbilled?format=csv&bom=0").content.decode()
    assert api_csv.splitlines()[1:] == csv.splitlines()[1:]
    for person in (a.member, a.manager):
        assert login(person).get("/reports/unbilled/").status_code == 403
        assert login(person).get("/reports/unbilled/export.csv").status_code == 403
        assert _get(client, person, "/api/v1/reports/unbilled").status_code == 403


def test_the_pages_rows_carry_each_rows_figures_and_draft_escaped(world, settings, tmp_path):
    """The rows are written in Python (report_tags.unbilled_rows): each carries its row's
    label, hours, amounts, expenses, oldest day and age as the report has them, names
    escaped, and its Draft form posts that project from its oldest day."""
    import re

    from django.utils.dateformat import format as date_format

    from punchclock.core.money import Money

    settings.MEDIA_ROOT = tmp_path
    a = world.agency
    a.project.name = '<i>API & "v2"</i>'
    a.project.save()
    expense = _approved_train_ticket(a)
    page = login(a.owner).get("/reports/unbilled/")
    html = page.content.decode()
    assert "<i>API" not in html
    report = page.context["report"]
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    assert len(bodies) == len(report.clients) >= 1
    forms = []
    for body, client in zip(bodies, report.clients, strict=True):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        assert len(rows) == len(client.rows)
        for cells, row in zip(rows, client.rows, strict=True):
            tds = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
            assert escape(row.label) in tds[0]
            assert tds[1:3] == [
                f"{Decimal(n) / 3600:,.2f}" for n in (row.billable_seconds, row.billed_seconds)
            ]
            for shown, values in ((tds[3], row.amounts), (tds[4], row.expenses)):
                money = [escape(Money(v, c).format("en")) for c, v in values.items()]
                assert [m for m in money if m in shown] == money
                assert ("–" in shown) == (not values)
            if row.expenses:
                assert f"({row.expense_count})" in tds[4]
            assert tds[5] == date_format(row.oldest, "j M Y")
            assert tds[6] == f"{row.age(report.today)} d"
            fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', tds[7]))
            assert fields["client"] == str(client.client_id)
            assert fields["project"] == str(row.project_id)
            assert fields["period_start"] == row.oldest.isoformat()
            assert fields["period_end"] == report.today.isoformat()
            assert fields["csrfmiddlewaretoken"]
            forms.append((row, fields))
    row, fields = next((r, f) for r, f in forms if r.project_id == a.project.pk)
    assert a.project.name in row.label
    assert row.expense_count == 1
    fields.pop("csrfmiddlewaretoken")
    assert login(a.owner).post("/invoices/unbilled/", fields).status_code == 302
    draft = Invoice.objects.get(client=a.client)
    projects = set(draft.lines.values_list("billed_entries__entry__project_id", flat=True))
    assert projects - {None} == {a.project.pk}
    assert draft.lines.filter(billed_expenses__expense=expense).exists()
    assert draft.period_start == row.oldest == date(2026, 9, 20)


def test_one_click_makes_the_draft_of_that_project_from_the_oldest_day(world):
    a = world.agency
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    row = _rows(report)[(a.client.pk, a.project.pk)]
    on_it = _draft_of_the_row(a, row)
    assert on_it == {e.pk for e in world.entries if e.project_id == a.project.pk and e.billable}


@pytest.mark.django_db(transaction=True)
def test_punch_report_unbilled_prints_rows_and_totals(world, punch_as):
    a = world.agency
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    punch = punch_as(a.owner)
    table = punch("report", "unbilled")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["Client", "·", "project"]
    rows = [r for c in report.clients for r in c.rows]
    assert len(lines) == 1 + len(rows) + 1
    totals = ", ".join(f"{v.quantize(Decimal('0.01'))} {c}" for c, v in report.totals.items())
    assert lines[-1] == f"Total: {totals}"
    as_json = punch("report", "unbilled", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["clients"][0]["client_id"] == report.clients[0].client_id
    refused = punch_as(a.member)("report", "unbilled")
    assert refused.exit_code != 0
    assert "invoice" in refused.output.lower()


def test_retainer_covered_time_waits_apart_without_a_draft_button(world, client):
    """Time a retainer covers is billed by the retainer's close: Unbilled work and the
    dashboard card leave it out (a draft would not take it) and list it per retainer."""
    from punchclock.automation import retainers
    from punchclock.core.timeutil import now, start_of_day
    from punchclock.reports.dashboard import unbilled_by_client

    a = world.agency
    retainer = retainers.save_retainer(
        a.owner,
        client=a.client,
        project=a.project,
        name="API support",
        included=Decimal(10),
        fee=Decimal(900),
        starts_on=date(2026, 11, 1),
    )
    november = start_of_day(date(2026, 11, 1), a.organization.timezone)
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    row = _rows(report)[(a.client.pk, a.project.pk)]
    before = time_report(
        a.owner,
        TimeFilter(billable=True, invoiced=False, projects=(a.project.pk,), end=november),
        by=("project",),
        zone=ZONE,
    )
    assert row.billable_seconds == before.total.billable_seconds > 0
    assert row.billed_seconds == before.total.billed_seconds
    assert row.amounts == {c: v for c, v in before.total.amounts.items() if v}
    assert row.oldest < date(2026, 11, 1)
    covered_entries = [
        e
        for e in world.entries
        if e.project_id == a.project.pk and e.billable and e.start >= november
    ]
    assert covered_entries
    [covered] = report.covered
    assert (covered.retainer_id, covered.name, covered.client_id) == (
        retainer.pk,
        "API support",
        a.client.pk,
    )
    assert covered.billable_seconds == sum(e.duration_seconds for e in covered_entries)
    assert covered.oldest == min(local_date(e.start, ZONE) for e in covered_entries)
    # The other project of the client is not covered: it is unbilled work as before.
    other = _rows(report)[(a.client.pk, a.other_project.pk)]
    assert other.billable_seconds == sum(
        e.duration_seconds
        for e in world.entries
        if e.project_id == a.other_project.pk and e.billable
    )
    # The dashboard card agrees with the page, client by client.
    card = {c.client_id: c.total for c in unbilled_by_client(a.owner)}
    for item in report.clients:
        assert card[item.client_id] == item.summary.total
    # The project's Draft button takes exactly the time the row shows.
    on_it = _draft_of_the_row(a, row)
    assert on_it == {
        e.pk
        for e in world.entries
        if e.project_id == a.project.pk and e.billable and e.start < november
    }
    assert sum(e.duration_seconds for e in world.entries if e.pk in on_it) == row.billable_seconds
    # The page lists it apart, with a link to the retainer; the API says the same.
    page = login(a.owner).get("/reports/unbilled/")
    html = page.content.decode()
    assert "Covered by retainers" in html
    assert f"/retainers/{retainer.pk}/" in html
    data = _get(client, a.owner, "/api/v1/reports/unbilled").json()
    assert data["covered"] == [
        {
            "retainer_id": retainer.pk,
            "retainer": "API support",
            "client_id": a.client.pk,
            "client": a.client.name,
            "billable_hours": str(
                (Decimal(covered.billable_seconds) / 3600).quantize(Decimal("0.01"))
            ),
            "billed_hours": str(covered.billed_hours),
            "oldest": covered.oldest.isoformat(),
            "age_days": (local_date(now(), ZONE) - covered.oldest).days,
        }
    ]


@pytest.mark.parametrize("one_project", [False, True])
def test_the_reports_coverage_filter_leaves_out_what_invoicing_leaves_out(world, one_project):
    """reports.query's NOT-covered SQL against automation.coverage.covered_by, the ORM
    filter invoicing uses: the same entries, for a client-wide retainer that ends and for
    one project's."""
    from punchclock.automation import retainers
    from punchclock.automation.coverage import covered_by, covered_windows
    from punchclock.tracking.models import TimeEntry

    a = world.agency
    retainer = retainers.save_retainer(
        a.owner,
        client=a.client,
        project=a.project if one_project else None,
        name="Cover",
        included=Decimal(10),
        fee=Decimal(900),
        starts_on=date(2026, 10, 1),
        ends_on=date(2026, 11, 30) if one_project else date(2026, 10, 31),
    )
    covered = set(TimeEntry.objects.filter(covered_by(retainer)).values_list("pk", flat=True))
    assert covered
    where = TimeFilter(not_covered=covered_windows(a.organization.pk))
    report = time_report(a.owner, where, by=("project",), zone=ZONE)
    left = [e for e in world.entries if e.pk not in covered and e.end is not None]
    assert report.total.seconds == sum(e.duration_seconds for e in left)
    everything = time_report(a.owner, TimeFilter(), by=("project",), zone=ZONE)
    assert everything.total.seconds > report.total.seconds


def test_the_oldest_day_from_kept_months_is_the_entries_oldest(world, monkeypatch):
    """With November kept (today in January 2027), the oldest unbilled day per project
    comes from the kept month that holds it and that month's entries, from the scanned
    part before it, or from the entries after it; always the entries' own oldest day."""
    from datetime import UTC, datetime

    from punchclock.reports import monthly, query
    from punchclock.reports.models import MonthTotal

    monkeypatch.setattr(monthly, "now", lambda: datetime(2027, 1, 10, tzinfo=UTC))
    a = world.agency
    billed = _issue_october_of_the_api_project(world)
    # A project whose open work starts in November only, inside the kept month.
    late = [
        e
        for e in world.entries
        if e.project_id == a.project.pk and e.billable and e.end and e.pk not in billed
    ]
    assert late
    assert min(local_date(e.start, ZONE) for e in late) >= date(2026, 11, 1)
    kept = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    assert MonthTotal.objects.filter(month=date(2026, 11, 1), open_billable_seconds__gt=0).exists()
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    scanned = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    oldest = {key: row.oldest for key, row in _rows(kept).items()}
    assert oldest == {key: row.oldest for key, row in _rows(scanned).items()}
    for (_client, project_id), day in oldest.items():
        waiting = [
            e
            for e in world.entries
            if e.project_id == project_id and e.billable and e.pk not in billed
        ]
        if waiting:
            assert day == min(local_date(e.start, ZONE) for e in waiting)
    assert oldest[(a.client.pk, a.project.pk)] >= date(2026, 11, 1)


@pytest.mark.django_db(transaction=True)
def test_punch_report_unbilled_lists_retainer_time_apart(world, punch_as):
    from punchclock.automation import retainers

    a = world.agency
    retainers.save_retainer(
        a.owner,
        client=a.client,
        project=a.project,
        name="API support",
        included=Decimal(10),
        fee=Decimal(900),
        starts_on=date(2026, 11, 1),
    )
    report = unbilled_report(a.owner, today=TODAY, zone=ZONE)
    [covered] = report.covered
    table = punch_as(a.owner)("report", "unbilled")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    total = next(i for i, line in enumerate(lines) if line.startswith("Total: "))
    assert lines[total + 1].startswith("Covered by retainers")
    assert lines[total + 2] == (
        f"  API support · {a.client.name}: {covered.billed_hours} h since {covered.oldest}"
    )
