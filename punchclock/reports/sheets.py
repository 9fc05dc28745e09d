"""The budget, revenue, tax, utilisation, profitability and unbilled reports as tables.

Each is built once as an export.Table and written as CSV or XLSX by the caller.
"""

from __future__ import annotations

from decimal import Decimal

from punchclock.core.money import quantum
from punchclock.reports.budgets import BudgetReport
from punchclock.reports.export import Table
from punchclock.reports.profitability import ProfitReport
from punchclock.reports.revenue import RevenueReport, TaxReport
from punchclock.reports.timereport import hours
from punchclock.reports.unbilled import UnbilledReport
from punchclock.reports.utilisation import UtilisationReport


def _m(amount: Decimal | None, currency: str) -> Decimal | str:
    return "" if amount is None else amount.quantize(quantum(currency))


def budgets_table(report: BudgetReport) -> Table:
    header = [
        "Client",
        "Project",
        "Kind",
        "Currency",
        "Budget",
        "Used",
        "Remaining",
        "Percent used",
        "Alert at percent",
        "State",
        "Hours used",
        "Pace per day",
        "Runs out on",
        "Effective hourly rate",
    ]
    rows = []
    for row in report.rows:
        money = row.kind == "money"
        runs_out = row.runs_out(report.today)
        rate = row.effective_rate
        rows.append(
            [
                row.project.client.name,
                f"{row.project.full_code} · {row.project.name}",
                row.kind,
                row.currency if money else "",
                _m(row.budget, row.currency) if money else row.budget,
                _m(row.used, row.currency) if money else row.used,
                _m(row.remaining, row.currency) if money else row.remaining,
                row.percent,
                row.project.budget_alert_percent,
                row.state,
                row.used_hours,
                row.pace_per_day.quantize(Decimal("0.01")),
                runs_out.isoformat() if runs_out else "",
                "" if rate is None else rate,
            ]
        )
    return Table("Budgets", header, rows)


def revenue_table(report: RevenueReport) -> Table:
    header = ["Month", "Currency", "Documents", "Net invoiced", "Tax", "Gross invoiced", "Received"]
    rows: list[list[object]] = []
    for row in report.rows:
        c = row.currency
        rows.append(
            [
                row.month.strftime("%Y-%m"),
                c,
                row.documents,
                _m(row.net, c),
                _m(row.tax, c),
                _m(row.gross, c),
                _m(row.received, c),
            ]
        )
    for c, total in report.totals.items():
        rows.append(
            [
                "Total",
                c,
                total.documents,
                _m(total.net, c),
                _m(total.tax, c),
                _m(total.gross, c),
                _m(total.received, c),
            ]
        )
    home = report.home
    for month in report.months:
        rows.append(
            [
                month.month.strftime("%Y-%m"),
                f"{home} (converted)",
                "",
                _m(month.net, home),
                "",
                _m(month.gross, home),
                _m(month.received, home),
            ]
        )
    return Table("Revenue", header, rows)


def tax_table(report: TaxReport) -> Table:
    home = report.home
    header = [
        "Tax",
        "Category",
        "Category code",
        "Rate percent",
        "Currency",
        "Documents",
        "Taxable basis",
        "Tax",
        f"Taxable basis {home}",
        f"Tax {home}",
    ]
    rows = [
        [
            row.name,
            row.category_label,
            row.category,
            row.rate,
            row.currency,
            row.documents,
            _m(row.basis, row.currency),
            _m(row.tax, row.currency),
            _m(row.home_basis, home),
            _m(row.home_tax, home),
        ]
        for row in report.rows
    ]
    return Table("Tax summary", header, rows)


def utilisation_table(report: UtilisationReport) -> Table:
    header = [
        "Person",
        "Project",
        "Hours",
        "Billable hours",
        "Capacity hours",
        "Utilisation percent",
    ]
    rows: list[list[object]] = []
    for person in report.people:
        rows.append(
            [
                person.name,
                "",
                person.hours,
                person.billable_hours,
                person.capacity_hours,
                "" if person.utilisation is None else person.utilisation,
            ]
        )
        for share in person.projects:
            rows.append(
                [
                    person.name,
                    share.label,
                    hours(share.seconds),
                    hours(share.billable_seconds),
                    "",
                    "",
                ]
            )
    return Table("Utilisation", header, rows)


def profitability_table(report: ProfitReport) -> Table:
    home = report.home
    currencies = sorted({c for r in [*report.rows, report.total] for c in (*r.revenue, *r.costs)})
    header = [report.by.capitalize(), "Hours"]
    for c in currencies:
        header += [f"Invoiced {c}", f"Not invoiced {c}", f"Cost {c}", f"Expenses {c}"]
    header += [f"Revenue {home}", f"Cost {home}", f"Margin {home}", "Margin percent"]
    rows = []
    for r in [*report.rows, report.total]:
        line: list[object] = [r.label, hours(r.seconds)]
        for c in currencies:
            line += [
                _m(getattr(r, a).get(c, Decimal(0)), c)
                for a in ("invoiced", "uninvoiced", "cost", "expenses")
            ]
        line += [
            _m(r.revenue_home, home),
            _m(r.cost_home, home),
            _m(r.margin, home),
            "" if r.margin_percent is None else r.margin_percent,
        ]
        rows.append(line)
    return Table("Profitability", header, rows)


def unbilled_table(report: UnbilledReport) -> Table:
    """One line per client and project (and currency, when a client has two)."""
    header = [
        "Client",
        "Project",
        "Currency",
        "Billable hours",
        "Billed hours",
        "Time amount",
        "Expenses",
        "Expense items",
        "Total",
        "Oldest",
        "Age in days",
    ]
    rows: list[list[object]] = []
    for client in report.clients:
        for row in client.rows:
            oldest, age = row.oldest, row.age(report.today)
            for currency in sorted(row.total) or [""]:
                time_amount = row.amounts.get(currency)
                expenses = row.expenses.get(currency)
                rows.append(
                    [
                        client.name,
                        row.label,
                        currency,
                        hours(row.billable_seconds),
                        row.billed_hours,
                        _m(time_amount, currency) if currency else "",
                        _m(expenses, currency) if currency else "",
                        row.expense_count,
                        _m(row.total.get(currency), currency) if currency else "",
                        oldest.isoformat() if oldest else "",
                        "" if age is None else age,
                    ]
                )
    return Table("Unbilled work", header, rows)
