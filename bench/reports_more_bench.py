"""Dashboard, budgets, utilisation, revenue and tax at 1,000,000 entries, against hand SQL.

A sibling of bench/reports_bench.py: it builds the same organization and history with that
file's generator (same seed), then adds budgets to 40 projects and issues --invoices
invoices (a tenth of them credited) through the invoicing services. Run from the
repository root:

    python bench/reports_more_bench.py                          # SQLite, 1,000,000 entries
    python bench/reports_more_bench.py --entries 20000 --runs 2 # a smoke test
    python bench/reports_more_bench.py --database-url postgres://punchclock@127.0.0.1:5432/pc_reports2_bench
    python bench/reports_more_bench.py --keep /tmp/more   # seed once, reuse on the next runs

For each report, warm, the median of --runs runs of `ours` (the function the page, API and
CLI call, as the owner), `sql` (hand-written SQL returning the same raw figures, on the
same connection), `page` (the page through Django's test client) and `peak_kib`
(tracemalloc's peak during one `ours` call).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports_bench import (
    REPO,
    ZONE,
    hand_sql,
    log,
    month_bounds,
    prepare_environment,
    reuse_world,
    run_sql,
    seed,
    timed,
)


def add_budgets(organization_id: int) -> list[int]:
    from punchclock.projects.models import BudgetKind, Project

    projects = list(Project.objects.filter(organization_id=organization_id).order_by("pk")[::5])
    for index, project in enumerate(projects):
        if index % 2:
            project.budget_kind, project.budget_amount = BudgetKind.MONEY, Decimal(250_000)
        else:
            project.budget_kind, project.budget_hours = BudgetKind.HOURS, Decimal(2500)
        project.budget_alert_percent = 80
    Project.objects.bulk_update(
        projects, ["budget_kind", "budget_hours", "budget_amount", "budget_alert_percent"]
    )
    return [p.pk for p in projects]


def issue_invoices(owner: Any, count: int, today: date) -> int:
    """Issued invoices of free lines at two VAT rates over the last two years, some credited."""
    from punchclock.clients.models import Client
    from punchclock.expenses.models import ExchangeRate
    from punchclock.invoicing import services

    organization = owner.organization
    organization.vat_id = "DE811907980"
    organization.address_line1, organization.postal_code = "Hauptstr. 1", "10115"
    organization.city, organization.country = "Berlin", "DE"
    organization.save()
    Client.objects.filter(organization=organization).update(
        address_line1="Main Street 5", postal_code="80331", city="München", country="DE"
    )
    first = today - timedelta(days=730)
    for currency, rate in (("USD", "1.08"), ("GBP", "0.86")):
        ExchangeRate.objects.bulk_create(
            ExchangeRate(
                organization=organization,
                currency=currency,
                rate=Decimal(rate),
                on=first + timedelta(days=d),
                source="manual",
            )
            for d in range(0, 731, 7)
        )
    clients = list(Client.objects.filter(organization=organization).order_by("pk"))
    issued = 0
    for i in range(count):
        day = first + timedelta(days=int(730 * i / count))
        client = clients[i % len(clients)]
        draft = services.start_draft(client, by=owner)
        for n, (quantity, price, tax) in enumerate((("12.5", "97.50", "19"), ("3", "41.17", "7"))):
            services.add_line(
                draft,
                by=owner,
                description=f"Work {n}",
                quantity=Decimal(quantity),
                unit_price=Decimal(price) + i % 7,
                tax_category="S",
                tax_rate=Decimal(tax),
            )
        invoice = services.issue_invoice(draft, by=owner, issue_date=day)
        issued += 1
        if i % 10 == 9:
            services.credit_invoice(invoice, by=owner, issue_date=day)
            issued += 1
    return issued


def kept_or_seeded_world(entries: int, invoices: int, keep: str | None) -> dict[str, Any]:
    """seed() plus budgets and invoices, or (with --keep) what a previous run left in `keep`.

    The DONE marker is written only once the budgets and invoices are in, so an interrupted
    run seeds again instead of reusing half a world."""
    if keep and Path(keep, "DONE").exists():
        from punchclock.invoicing.models import Invoice
        from punchclock.projects.models import BudgetKind, Project

        world = reuse_world(keep)
        org = world["owner"].organization_id
        world["budgeted"] = list(
            Project.objects.filter(organization_id=org)
            .exclude(budget_kind=BudgetKind.NONE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        world["documents"] = Invoice.objects.filter(organization_id=org).count()
        return world
    world = seed(entries)
    world["budgeted"] = add_budgets(world["owner"].organization_id)
    log(f"issuing {invoices} invoices")
    world["documents"] = issue_invoices(world["owner"], invoices, world["today"])
    log(f"{world['documents']} documents issued")
    if keep:
        Path(keep, "DONE").write_text(world["today"].isoformat())
    return world


def budget_hand_sql(
    vendor: str,
    org: int,
    today: date,
    boundaries: list[datetime],
    *,
    card: bool = False,
    one_pass: bool = False,
) -> list[tuple[str, list[Any]]]:
    """The best hand SQL for the budgets' figures: hours budgets unpriced, money budgets
    priced, each read through the project-led covering index (one range per project).

    The page: all history by project (use to date), the last 12 months by project and month
    (burn) and the last 28 days by project (pace); `one_pass` reads all history by project
    and month instead of the first two, slower on both databases (the month cut of every
    entry costs more than a second read of the year). The dashboard's card (`card`): all
    history by project."""
    from django.db import connection

    from punchclock.core.timeutil import start_of_day
    from punchclock.projects.models import BudgetKind, Project
    from punchclock.reports.budgets import PACE_DAYS

    with connection.cursor() as cursor:  # all history, from the organization's first entry
        cursor.execute(
            "SELECT MIN(start) FROM tracking_timeentry WHERE organization_id = %s", [org]
        )
        first = cursor.fetchone()[0]
    first = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
    first = first.replace(tzinfo=UTC) if first.tzinfo is None else first
    end = start_of_day(today + timedelta(days=1), ZONE)
    spans = [(("project",), first)]
    if one_pass:
        spans = [(("project", "month"), first)]
    elif not card:
        spans.append((("project", "month"), start_of_day(month_bounds(today, 11), ZONE)))
    if not card:
        spans.append((("project",), start_of_day(today - timedelta(days=PACE_DAYS - 1), ZONE)))
    budgeted = Project.objects.filter(organization_id=org).exclude(budget_kind=BudgetKind.NONE)
    out = []
    for priced in (True, False):
        ids = list(
            budgeted.filter(budget_kind=BudgetKind.MONEY if priced else BudgetKind.HOURS)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            continue
        for by, start in spans:
            sql, params = hand_sql(vendor, by, start, end, org, priced, boundaries)
            sql = sql.replace(
                "INDEXED BY entry_report_cover", "INDEXED BY entry_project_report_cover"
            ).replace(" GROUP BY", f" AND e.project_id IN ({', '.join(map(str, ids))}) GROUP BY", 1)
            out.append((sql, params))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--output")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded database in DIR (SQLite) and reuse it on the next run with "
        "the same DIR (and --database-url), instead of seeding again",
    )
    parser.add_argument(
        "--budget-sql",
        choices=("project-index", "organization-index"),
        default="project-index",
        help="hand SQL for budgets: the project-led covering index, unpriced hours budgets "
        "(default), or the earlier three priced scans of the organization-led index",
    )
    args = parser.parse_args()
    prepare_environment(args.database_url, args.keep)
    from django.db import connection
    from django.test import Client as TestClient

    from punchclock.core.timeutil import start_of_day
    from punchclock.reports.budgets import PACE_DAYS, budget_report
    from punchclock.reports.dashboard import dashboard
    from punchclock.reports.profitability import profitability
    from punchclock.reports.query import TimeFilter
    from punchclock.reports.revenue import revenue_report, tax_report
    from punchclock.reports.timereport import rate_boundaries
    from punchclock.reports.utilisation import utilisation_report

    world = kept_or_seeded_world(args.entries, args.invoices, args.keep)
    owner, today = world["owner"], world["today"]
    org = owner.organization_id
    budgeted, documents = world["budgeted"], world["documents"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    vendor = connection.vendor
    boundaries = rate_boundaries(org, ZONE)
    end = start_of_day(today + timedelta(days=1), ZONE)
    ids = ", ".join(str(pk) for pk in budgeted)

    def only(sql: str, condition: str) -> str:
        return sql.replace(" GROUP BY", f" AND {condition} GROUP BY", 1)

    # Hand-written SQL for the same raw figures each report reads.
    early = datetime(2000, 1, 1, tzinfo=UTC)
    budget_sql = [
        hand_sql(vendor, ("project",), early, end, org, True, boundaries),
        hand_sql(
            vendor,
            ("project",),
            start_of_day(today - timedelta(days=PACE_DAYS - 1), ZONE),
            end,
            org,
            True,
            boundaries,
        ),
        hand_sql(
            vendor,
            ("project", "month"),
            start_of_day(month_bounds(today, 11), ZONE),
            end,
            org,
            True,
            boundaries,
        ),
    ]
    budget_sql = [(only(sql, f"e.project_id IN ({ids})"), params) for sql, params in budget_sql]
    if args.budget_sql == "project-index":
        budget_sql = budget_hand_sql(vendor, org, today, boundaries)
    last_first, this_first = month_bounds(today, 1), month_bounds(today, 0)
    util_sql = [
        hand_sql(
            vendor,
            ("person", "project"),
            start_of_day(last_first, ZONE),
            start_of_day(this_first, ZONE),
            org,
            False,
            boundaries,
        )
    ]
    monday = today - timedelta(days=today.weekday())
    week = (start_of_day(monday, ZONE), start_of_day(monday + timedelta(days=7), ZONE))
    unbilled, unbilled_params = hand_sql(vendor, ("client",), early, end, org, True, boundaries)
    not_billed = (
        "e.billable AND NOT EXISTS (SELECT 1 FROM invoicing_billedentry be "
        "JOIN invoicing_invoiceline il ON il.id = be.line_id "
        "JOIN invoicing_invoice i ON i.id = il.invoice_id "
        "WHERE be.entry_id = e.id AND i.status = 'issued')"
    )
    mine, mine_params = hand_sql(vendor, ("day",), *week, org, False, boundaries)
    dash_sql = [
        (only(unbilled, not_billed), unbilled_params),
        hand_sql(vendor, ("person", "day"), *week, org, False, boundaries),
        (only(mine, f"e.membership_id = {owner.pk}"), mine_params),
    ]
    if args.budget_sql == "project-index":  # the card's budgets, which the list above lacked
        dash_sql += budget_hand_sql(vendor, org, today, boundaries, card=True)
    year_first = today.replace(month=1, day=1)
    revenue_sql = [
        (
            "SELECT issue_date, currency, net_total, tax_total, gross_total "
            "FROM invoicing_invoice WHERE organization_id = %s AND status = 'issued' "
            "AND issue_date >= %s AND issue_date <= %s",
            [org, year_first, today],
        ),
        (
            "SELECT received_on, currency, amount FROM payments_payment "
            "WHERE organization_id = %s AND received_on >= %s AND received_on <= %s",
            [org, year_first, today],
        ),
    ]
    tax_sql = [
        (
            "SELECT l.invoice_id, l.quantity, l.unit_price, l.discount_percent, "
            "l.surcharge_percent, l.tax_category, l.tax_rate "
            "FROM invoicing_invoiceline l JOIN invoicing_invoice i ON i.id = l.invoice_id "
            "WHERE i.organization_id = %s AND i.status = 'issued' "
            "AND i.issue_date >= %s AND i.issue_date <= %s",
            [org, year_first, today],
        )
    ]
    year_start = start_of_day(year_first, ZONE)
    profit_all, profit_params = hand_sql(
        vendor, ("project",), year_start, end, org, True, boundaries
    )
    profit_sql = [(profit_all, profit_params), (only(profit_all, not_billed), profit_params)]
    util_where = TimeFilter(
        start=start_of_day(last_first, ZONE), end=start_of_day(this_first, ZONE)
    )
    cases = [
        (
            "home page (owner: week, timer)",
            lambda: dashboard(owner, zone=ZONE, cards=False),
            dash_sql[2:3],
            "/",
        ),
        (
            "dashboard cards (owner)",
            lambda: dashboard(owner, zone=ZONE),
            dash_sql,
            "/reports/dashboard/",
        ),
        (
            "budgets (40 projects)",
            lambda: budget_report(owner, today=today, zone=ZONE),
            budget_sql,
            "/reports/budgets/",
        ),
        (
            "utilisation last month",
            lambda: utilisation_report(
                owner,
                util_where,
                first=last_first,
                last=this_first - timedelta(days=1),
                today=today,
                zone=ZONE,
            ),
            util_sql,
            "/reports/utilisation/?period=last-month",
        ),
        (
            "revenue this year",
            lambda: revenue_report(owner, first=year_first, last=today),
            revenue_sql,
            "/reports/revenue/?period=year",
        ),
        (
            "tax this year",
            lambda: tax_report(owner, first=year_first, last=today),
            tax_sql,
            "/reports/tax/?period=year",
        ),
        (
            "profitability this year by project",
            lambda: profitability(
                owner,
                TimeFilter(start=year_start, end=end),
                by="project",
                first=year_first,
                last=today,
                zone=ZONE,
            ),
            profit_sql,
            "/reports/profitability/?period=year",
        ),
    ]
    browser = TestClient()
    browser.force_login(owner.user)
    results = []
    for name, call, queries, url in cases:
        ours, _ = timed(call, args.runs)
        hand, _ = timed(
            lambda queries=queries: sum(run_sql(sql, params) for sql, params in queries), args.runs
        )
        status = browser.get(url, secure=True).status_code
        page, _ = timed(lambda url=url: browser.get(url, secure=True), args.runs)
        tracemalloc.start()
        call()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row = {
            "report": name,
            "ours_ms": round(ours, 1),
            "sql_ms": round(hand, 1),
            "ratio": round(ours / hand, 2) if hand else None,
            "page_ms": round(page, 1),
            "page_status": status,
            "peak_kib": round(peak / 1024),
        }
        log(json.dumps(row))
        results.append(row)
    out = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": vendor,
        "entries": args.entries,
        "documents": documents,
        "runs": args.runs,
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, shared with other work",
        "python": platform.python_version(),
        "results": results,
    }
    path = Path(
        args.output or REPO / "bench" / "results" / f"reports-more-{date.today()}-{vendor}.json"
    )
    path.write_text(json.dumps(out, indent=2) + "\n")
    log(f"written {path}")
    if args.database_url:
        connection.close()


if __name__ == "__main__":
    main()
