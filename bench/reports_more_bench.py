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

Billed history (--billed-until-months-ago N, default 1): an agency bills monthly, so the
history before the first day of the month N months back is on issued invoices, as
bill_history() inserts it in bulk: per client and calendar month (Europe/Berlin) one
issued invoice in its own series "history" (H00001 …, issued on the 3rd of the next
month, 19 % VAT, chained after the service-issued documents with real hashes), one hour
line per project with billable work that month (billed hours = each entry rounded by its
project's rule; priced at the organization's default rate of the month, 90 then 97.50,
whatever the rate book says per project or person), a BilledEntry row for every finished
billable entry of the month, their sums per line, person, project and UTC day and month
as issuing keeps them (BilledWork), and TimeEntry.invoiced set on those entries. About 1,400
invoices, 7,000 lines and 800,000 billed rows at a million entries. No PDFs, events or
payments are stored for them. --no-billing measures the worst case: nothing billed.

With --keep DIR the seeded database (SQLite file in DIR, or the --database-url database)
is kept and reused by the next run with the same DIR and the same billing options.
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
    paired_ratio,
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


def bill_history(owner: Any, today: date, months_ago: int) -> dict[str, int]:
    """Issued monthly invoices per client for the billable work before the cutoff (bulk)."""
    from django.db import connection, transaction

    from punchclock.clients.models import Client
    from punchclock.core.timeutil import start_of_day
    from punchclock.invoicing.models import (
        Invoice,
        InvoiceChain,
        InvoiceKind,
        InvoiceLine,
        InvoiceStatus,
        NumberSeries,
        SeriesCounter,
        TaxCategory,
        Unit,
    )
    from punchclock.invoicing.services import document_hash, invoice_totals
    from punchclock.invoicing.totals import line_net
    from punchclock.invoicing.work import keep_billed_work
    from punchclock.projects.models import Project
    from punchclock.reports.query import billed_sql

    organization = owner.organization
    first_day = today - timedelta(days=3 * 365)
    raise_day = first_day + timedelta(days=540)  # the organization's default rate goes up
    cutoff = month_bounds(today, months_ago)
    months: list[tuple[date, date]] = []
    month = first_day.replace(day=1)
    while month < cutoff:
        following = (month + timedelta(days=32)).replace(day=1)
        months.append((month, following))
        month = following
    clients = list(Client.objects.filter(organization=organization).order_by("pk"))
    projects: dict[int, list[Any]] = {}
    for project in Project.objects.filter(organization=organization).order_by("pk"):
        projects.setdefault(project.client_id, []).append(project)
    vendor = connection.vendor

    def stamp(at: datetime) -> Any:
        return at if vendor == "postgresql" else connection.ops.adapt_datetimefield_value(at)

    with transaction.atomic():
        series = NumberSeries.objects.create(
            organization=organization, name="history", pattern="H{seq:05}", yearly_reset=False
        )
        # Drafts first: the triggers refuse lines on issued invoices, as for the services.
        plan = [(first, following, client) for first, following in months for client in clients]
        drafts = Invoice.objects.bulk_create(
            Invoice(
                organization=organization,
                client=client,
                kind=InvoiceKind.INVOICE,
                currency=client.currency,
                language="en",
                period_start=first,
                period_end=following - timedelta(days=1),
                created_by=owner.user,
            )
            for first, following, client in plan
        )
        period = {d.pk: (a, b) for d, (a, b, _) in zip(drafts, plan, strict=True)}
        lines = InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=draft,
                position=position,
                description=f"{project.name}, {period[draft.pk][0]:%B %Y}",
                quantity=Decimal(0),
                unit=Unit.HOUR,
                unit_price=Decimal("97.50") if period[draft.pk][0] >= raise_day else Decimal(90),
                tax_category=TaxCategory.STANDARD,
                tax_rate=Decimal(19),
            )
            for draft in drafts
            for position, project in enumerate(projects[draft.client_id], 1)
        )
        windows = [
            (
                line.pk,
                projects[line.invoice.client_id][line.position - 1].pk,
                stamp(start_of_day(period[line.invoice_id][0], ZONE)),
                stamp(start_of_day(period[line.invoice_id][1], ZONE)),
            )
            for line in lines
        ]
        moment = "timestamptz" if vendor == "postgresql" else "text"
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_line")
            cursor.execute(
                f"CREATE TEMPORARY TABLE bench_line (line_id bigint PRIMARY KEY, "
                f"project_id bigint, start_at {moment}, end_at {moment})"
            )
            cursor.executemany("INSERT INTO bench_line VALUES (%s, %s, %s, %s)", windows)
            cursor.execute(
                "INSERT INTO invoicing_billedentry (entry_id, line_id, billed_seconds) "
                f"SELECT e.id, m.line_id, {billed_sql('e.duration_seconds')} "
                "FROM bench_line m JOIN tracking_timeentry e ON e.project_id = m.project_id "
                "AND e.start >= m.start_at AND e.start < m.end_at "
                "JOIN projects_project p ON p.id = e.project_id "
                "WHERE e.organization_id = %s AND e.billable = %s "
                "AND e.duration_seconds IS NOT NULL",
                [organization.pk, True],
            )
            billed_rows = cursor.rowcount
            cursor.execute(
                "UPDATE tracking_timeentry SET invoiced = %s WHERE id IN (SELECT be.entry_id "
                "FROM invoicing_billedentry be JOIN bench_line m ON m.line_id = be.line_id)",
                [True],
            )
            cursor.execute(
                "SELECT be.line_id, SUM(be.billed_seconds), SUM(e.duration_seconds) "
                "FROM invoicing_billedentry be JOIN bench_line m ON m.line_id = be.line_id "
                "JOIN tracking_timeentry e ON e.id = be.entry_id GROUP BY be.line_id"
            )
            sums = {line_id: (billed, raw) for line_id, billed, raw in cursor.fetchall()}
            cursor.execute("DROP TABLE bench_line")
        # Lines without work go, then invoices without lines; the rest get their figures.
        hour = Decimal(3600)
        kept: dict[int, list[InvoiceLine]] = {}
        for line in lines:
            if line.pk not in sums:
                continue
            billed, raw = sums[line.pk]
            line.quantity = (Decimal(billed) / hour).quantize(Decimal("0.0001"))
            line.raw_hours = (Decimal(raw) / hour).quantize(Decimal("0.0001"))
            line.net_amount = line_net(
                line.quantity, line.unit_price, Decimal(0), line.invoice.currency
            )
            kept.setdefault(line.invoice_id, []).append(line)
        InvoiceLine.objects.filter(invoice__in=drafts).exclude(pk__in=list(sums)).delete()
        for own in kept.values():
            for position, line in enumerate(own, 1):
                line.position = position
        # Positions move in two steps: (invoice, position) is unique at every statement.
        kept_lines = [line for own in kept.values() for line in own]
        for line in kept_lines:
            line.position += 1000
        InvoiceLine.objects.bulk_update(kept_lines, ["position"], batch_size=500)
        for line in kept_lines:
            line.position -= 1000
        InvoiceLine.objects.bulk_update(
            kept_lines, ["position", "quantity", "raw_hours", "net_amount"], batch_size=500
        )
        Invoice.objects.filter(pk__in=[d.pk for d in drafts if d.pk not in kept]).delete()
        chain, _ = InvoiceChain.objects.get_or_create(organization=organization)
        issued = sorted((d for d in drafts if d.pk in kept), key=lambda d: (period[d.pk][0], d.pk))
        for seq, invoice in enumerate(issued, 1):
            own = kept[invoice.pk]
            totals = invoice_totals(invoice, own)
            invoice.net_total = totals.net_total
            invoice.tax_total = totals.tax_total
            invoice.gross_total = totals.gross_total
            invoice.series = series
            invoice.number = series.format(year=0, seq=seq)
            issue_date = period[invoice.pk][1] + timedelta(days=2)  # the 3rd of the next month
            invoice.issue_date = issue_date
            invoice.due_date = issue_date + timedelta(days=invoice.client.payment_terms_days)
            invoice.issued_at = datetime.combine(issue_date, datetime.min.time(), UTC)
            invoice.issued_at += timedelta(hours=9)
            invoice.status = InvoiceStatus.ISSUED
            invoice.chain_position = chain.length + 1
            invoice.previous_hash = chain.last_hash
            invoice.sha256 = document_hash(invoice, own)
            chain.length, chain.last_hash = invoice.chain_position, invoice.sha256
        fields = [
            "net_total",
            "tax_total",
            "gross_total",
            "series",
            "number",
            "issue_date",
            "due_date",
            "issued_at",
            "status",
            "chain_position",
            "previous_hash",
            "sha256",
        ]
        Invoice.objects.bulk_update(issued, fields, batch_size=200)
        chain.save(update_fields=["length", "last_hash"])
        SeriesCounter.objects.create(series=series, year=0, last=len(issued))
        # What issuing writes besides the flag: the lines' billed time per UTC day and month.
        issued_ids = [invoice.pk for invoice in issued]
        for chunk in range(0, len(issued_ids), 200):
            keep_billed_work(issued_ids[chunk : chunk + 200])
        if issued:
            series.last_issue_date = issued[-1].issue_date
            series.save(update_fields=["last_issue_date"])
    return {"invoices": len(issued), "lines": len(kept_lines), "billed_entries": billed_rows}


def billed_work_hand_sql(org: int, start: datetime, end: datetime) -> list[tuple[str, list[Any]]]:
    """The invoiced-time figures of profitability by project, straight from the kept sums.

    Whole UTC months from the month rows, the other whole UTC days from the day rows, the
    partial UTC days at the ends from the billed entries; then the values of those lines
    (net, discount, surcharge, credit). The Python split per line stays the report's."""
    from django.db import connection

    day, moment = connection.ops.adapt_datefield_value, connection.ops.adapt_datetimefield_value

    def midnight(on: date) -> datetime:
        return datetime.combine(on, datetime.min.time(), UTC)

    first_day = start.astimezone(UTC).date()
    if midnight(first_day) < start:
        first_day += timedelta(days=1)
    end_day = end.astimezone(UTC).date()
    first_month = first_day if first_day.day == 1 else month_bounds(first_day, -1)
    end_month = end_day.replace(day=1)
    ranges = (
        "w.organization_id = %s AND ((w.unit = 'month' AND w.day >= %s AND w.day < %s) "
        "OR (w.unit = 'day' AND ((w.day >= %s AND w.day < %s) OR (w.day >= %s AND w.day < %s))))"
    )
    range_params = [
        org,
        day(first_month),
        day(end_month),
        day(first_day),
        day(first_month),
        day(end_month),
        day(end_day),
    ]
    return [
        (
            "SELECT w.line_id, w.project_id, SUM(w.seconds), MAX(w.line_seconds) "
            f"FROM invoicing_billedwork w WHERE {ranges} GROUP BY w.line_id, w.project_id",
            range_params,
        ),
        (
            "SELECT be.line_id, e.project_id, SUM(e.duration_seconds) FROM tracking_timeentry e "
            "JOIN invoicing_billedentry be ON be.entry_id = e.id "
            "JOIN invoicing_invoiceline il ON il.id = be.line_id "
            "JOIN invoicing_invoice i ON i.id = il.invoice_id AND i.status = 'issued' "
            "WHERE e.organization_id = %s AND ((e.start >= %s AND e.start < %s) "
            "OR (e.start >= %s AND e.start < %s)) GROUP BY be.line_id, e.project_id",
            [
                org,
                moment(start),
                moment(midnight(first_day)),
                moment(midnight(end_day)),
                moment(end),
            ],
        ),
        (
            "SELECT l.id, l.net_amount, i.currency, i.discount_percent, i.surcharge_percent, "
            "c.net_amount, ci.discount_percent FROM invoicing_invoiceline l "
            "JOIN invoicing_invoice i ON i.id = l.invoice_id "
            "LEFT JOIN invoicing_invoiceline c ON c.credits_line_id = l.id "
            "LEFT JOIN invoicing_invoice ci ON ci.id = c.invoice_id AND ci.status = 'issued' "
            f"WHERE l.id IN (SELECT w.line_id FROM invoicing_billedwork w WHERE {ranges})",
            range_params,
        ),
    ]


def entry_level(call: Any) -> Any:
    """Call a report with profitability's kept line work turned off."""
    from punchclock.reports import profitability

    profitability.KEEP_LINE_WORK = False
    try:
        return call()
    finally:
        profitability.KEEP_LINE_WORK = True


def unbilled_hand_sql(vendor: str, sql: str) -> str:
    """The hand SQL of the unbilled figures on the flag, through the partial index."""
    if vendor == "sqlite":
        sql = sql.replace("INDEXED BY entry_report_cover", "INDEXED BY entry_unbilled_cover")
        condition = "e.billable = 1 AND e.invoiced = 0"
    else:
        condition = "e.billable AND NOT e.invoiced"
    return sql.replace(" GROUP BY", f" AND {condition} GROUP BY", 1)


def prepared_world(args: argparse.Namespace) -> dict[str, Any]:
    """Seed (or, with --keep, reuse) the history, budgets, invoices and billed history."""
    setup = {
        "entries": args.entries,
        "invoices": args.invoices,
        "billed_until_months_ago": None if args.no_billing else args.billed_until_months_ago,
    }
    kept = Path(args.keep, "MORE") if args.keep else None
    if kept is not None and Path(args.keep, "DONE").exists():
        if not kept.exists() or json.loads(kept.read_text())["setup"] != setup:
            sys.exit(f"{args.keep} holds another set-up than {setup}; use another --keep DIR.")
        world = reuse_world(args.keep)
        world.update(json.loads(kept.read_text())["made"])
        return world
    world = seed(args.entries)
    owner, today = world["owner"], world["today"]
    world["budgeted"] = add_budgets(owner.organization_id)
    log(f"issuing {args.invoices} invoices")
    world["documents"] = issue_invoices(owner, args.invoices, today)
    log(f"{world['documents']} documents issued")
    world["billed"] = {}
    if not args.no_billing:
        log(f"billing the history up to {month_bounds(today, args.billed_until_months_ago)}")
        world["billed"] = bill_history(owner, today, args.billed_until_months_ago)
        log(f"billed: {world['billed']}")
    from django.db import connection

    with connection.cursor() as cursor:
        # The history went into entry_unbilled_cover when it was inserted and out when it
        # was billed: rebuilt, the index is as an upgraded database has it (tracking 0005
        # builds it after the flags are set) or as a live one keeps it, its emptied pages
        # reused by newer work. PostgreSQL costs a bloated one by its pages and scans the
        # table instead (150 ms rather than 50 here).
        index = "INDEX entry_unbilled_cover" if connection.vendor == "postgresql" else ""
        cursor.execute(f"REINDEX {index or 'entry_unbilled_cover'}")
        if connection.vendor == "postgresql":
            # Index-only scans need the visibility map the mass UPDATE of the flag cleared,
            # as autovacuum would refresh it on a live database.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if args.keep and kept is not None:
        made = {k: world[k] for k in ("budgeted", "documents", "billed")}
        kept.write_text(json.dumps({"setup": setup, "made": made}) + "\n")
        Path(args.keep, "DONE").write_text(today.isoformat())
    return world


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
        "--billed-until-months-ago",
        type=int,
        default=1,
        metavar="N",
        help="bill the history before the first day of the month N months back (default 1: "
        "everything before last month is on issued invoices)",
    )
    parser.add_argument(
        "--no-billing", action="store_true", help="bill nothing: the worst case for 'unbilled'"
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded database in DIR and reuse it on the next run with the same DIR, "
        "--database-url and billing options",
    )
    parser.add_argument(
        "--budget-sql",
        choices=("project-index", "organization-index"),
        default="project-index",
        help="hand SQL for budgets: the project-led covering index, unpriced hours budgets "
        "(default), or the earlier three priced scans of the organization-led index",
    )
    args = parser.parse_args()
    if args.billed_until_months_ago < 0:
        parser.error("--billed-until-months-ago is 0 or more")
    prepare_environment(args.database_url, args.keep)
    from django.db import connection
    from django.test import Client as TestClient

    from punchclock.core.timeutil import start_of_day
    from punchclock.reports.budgets import PACE_DAYS, budget_report
    from punchclock.reports.dashboard import dashboard, unbilled_by_client
    from punchclock.reports.profitability import profitability
    from punchclock.reports.query import TimeFilter
    from punchclock.reports.revenue import revenue_report, tax_report
    from punchclock.reports.timereport import rate_boundaries
    from punchclock.reports.unbilled import unbilled_report
    from punchclock.reports.utilisation import utilisation_report

    world = prepared_world(args)
    owner, today = world["owner"], world["today"]
    org = owner.organization_id
    budgeted, documents = world["budgeted"], world["documents"]
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
    mine, mine_params = hand_sql(vendor, ("day",), *week, org, False, boundaries)
    dash_sql = [
        (unbilled_hand_sql(vendor, unbilled), unbilled_params),
        hand_sql(vendor, ("person", "day"), *week, org, False, boundaries),
        (only(mine, f"e.membership_id = {owner.pk}"), mine_params),
    ]
    if args.budget_sql == "project-index":  # the card's budgets, which the list above lacked
        dash_sql += budget_hand_sql(vendor, org, today, boundaries, card=True)
    # The Unbilled work page: per client and project, and each one's oldest open day.
    unbilled_pairs, pairs_params = hand_sql(
        vendor, ("client", "project"), early, end, org, True, boundaries
    )
    oldest = unbilled_pairs.replace(" FROM ", ", MIN(e.start) FROM ", 1)
    unbilled_page_sql = [(unbilled_hand_sql(vendor, oldest), pairs_params)]
    year_first = today.replace(month=1, day=1)
    # The revenue and tax figures over the documents as kept in minor units (decision
    # 0023), as one would write them by hand against those tables: one grouped read each,
    # plus the payments (all in the organization's currency here, so no rates are read).
    kept_range = "WHERE organization_id = %s AND issue_date >= %s AND issue_date <= %s"
    revenue_sql = [
        (
            "SELECT month, currency, COUNT(*), SUM(net_minor), SUM(tax_minor), "
            "SUM(gross_minor), COUNT(home_net_minor), SUM(home_net_minor), "
            f"SUM(home_gross_minor) FROM reports_keptdocument {kept_range} "
            "GROUP BY month, currency",
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
            "SELECT currency, name, category, rate, COUNT(*), SUM(basis_minor), "
            "SUM(tax_minor), COUNT(home_tax_minor), SUM(home_basis_minor), "
            f"SUM(home_tax_minor) FROM reports_kepttax {kept_range} "
            "GROUP BY currency, name, category, rate",
            [org, year_first, today],
        ),
        (
            "SELECT currency, COUNT(*), SUM(net_minor), SUM(tax_minor) "
            f"FROM reports_keptdocument {kept_range} GROUP BY currency",
            [org, year_first, today],
        ),
    ]
    year_start = start_of_day(year_first, ZONE)
    profit_all, profit_params = hand_sql(
        vendor, ("project",), year_start, end, org, True, boundaries
    )
    profit_sql = [
        (profit_all, profit_params),
        (unbilled_hand_sql(vendor, profit_all), profit_params),
        *billed_work_hand_sql(org, year_start, end),
    ]
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
            "unbilled card (owner)",
            lambda: unbilled_by_client(owner),
            dash_sql[:1],
            None,
        ),
        (
            "unbilled work by client and project",
            lambda: unbilled_report(owner, today=today, zone=ZONE),
            unbilled_page_sql,
            "/reports/unbilled/",
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
    # The same report with issued lines' time read entry by entry, as before their kept sums.
    kept_profit = cases[-1][1]
    cases.append(
        (
            "profitability this year by project (billed entries one by one)",
            lambda: entry_level(kept_profit),
            profit_sql,
            None,
        )
    )
    browser = TestClient()
    browser.force_login(owner.user)
    # As the server's WSGI module does once loaded (punchclock.core.settle): without it a
    # full garbage collection of every loaded object lands in every other long page.
    from punchclock.core.settle import settle

    settle()
    # The kept periods as the worker's hourly job keeps them (keep_reports), then, on
    # PostgreSQL, what autovacuum would do after that bulk write (it is off here).
    from punchclock.core.dbstats import refresh_planner_statistics
    from punchclock.reports import monthly
    from punchclock.reports.documents import keep_documents

    if monthly.keep_built(org):
        refresh_planner_statistics()  # as the job does after building (decision 0028)
    keep_documents(owner.organization)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("reports_monthtotal", "reports_keptdocument", "reports_kepttax"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    results = []
    for name, call, queries, url in cases:

        def hand_call(queries: Any = queries) -> int:
            return sum(run_sql(sql, params) for sql, params in queries)

        ours, _ = timed(call, args.runs)
        hand, _ = timed(hand_call, args.runs)
        paired = paired_ratio(call, hand_call, args.runs)
        status, page = None, None
        if url is not None:  # a card has no page of its own
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
            "paired_ratio": round(paired, 2),
            "page_ms": None if page is None else round(page, 1),
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
        "billed_until": None
        if args.no_billing
        else month_bounds(today, args.billed_until_months_ago).isoformat(),
        "billed_history": world["billed"],
        "runs": args.runs,
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, shared with other work",
        "python": platform.python_version(),
        "results": results,
    }
    path = Path(
        args.output
        or REPO
        / "bench"
        / "results"
        / f"reports-more-{date.today()}-{'unbilled' if args.no_billing else 'billed'}-{vendor}.json"
    )
    path.write_text(json.dumps(out, indent=2) + "\n")
    log(f"written {path}")
    if args.database_url:
        connection.close()


if __name__ == "__main__":
    main()
