"""The home page's figures per role, each read by the report that owns it.

Owners and admins: unbilled billable time and expenses per client and currency, money owed
(payments.receivables, built on balances.owing), revenue this month against last, and this
week's hours by person. Managers: their projects' budgets and the timesheets waiting for
them. Everyone: their own week and running timer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.payments.balances import from_scaled, scaled_sum
from punchclock.reports.query import TimeFilter, read_once
from punchclock.reports.timereport import Figures, hours, time_report


@dataclass
class UnbilledClient:
    client_id: int
    name: str
    time: dict[str, Decimal] = field(default_factory=dict)
    expenses: dict[str, Decimal] = field(default_factory=dict)
    billable_seconds: int = 0

    @property
    def total(self) -> dict[str, Decimal]:
        out = dict(self.time)
        for currency, amount in self.expenses.items():
            out[currency] = out.get(currency, Decimal(0)) + amount
        return dict(sorted(out.items()))


def unbilled_by_client(viewer: Membership) -> list[UnbilledClient]:
    """Billable time not on an issued invoice (priced as the time report prices it) and
    approved billable expenses not on any invoice, per client and currency."""
    from punchclock.automation.coverage import covered_windows
    from punchclock.clients.models import Client
    from punchclock.expenses.models import Expense, ExpenseStatus

    # As the Unbilled work page: time a retainer covers is billed by its closes, not here.
    where = TimeFilter(
        billable=True, invoiced=False, not_covered=covered_windows(viewer.organization_id)
    )
    report = time_report(viewer, where, by=("client",), zone=viewer.user.timezone, cost=False)
    rows: dict[int, UnbilledClient] = {}
    for group in report.groups:
        amounts = {c: a for c, a in group.figures.amounts.items() if a}
        if not amounts:
            continue
        rows[group.key[0]] = UnbilledClient(
            group.key[0], group.label, amounts, billable_seconds=group.figures.billable_seconds
        )
    expenses = (
        Expense.objects.filter(
            organization_id=viewer.organization_id,
            billable=True,
            status=ExpenseStatus.APPROVED,
            billing__isnull=True,
        )
        .values("client_id", "client_currency")
        .annotate(total=scaled_sum("billable_amount"))
        .order_by()
    )
    spent = [row for row in expenses if from_scaled(row["total"])]
    # Clients with expenses but no time in the report: named here (the others by it).
    alone = {row["client_id"] for row in spent} - rows.keys()
    names = dict(
        Client.objects.filter(organization_id=viewer.organization_id, pk__in=alone).values_list(
            "pk", "name"
        )
        if alone
        else []
    )
    for row in spent:
        amount = from_scaled(row["total"])
        item = rows.setdefault(
            row["client_id"], UnbilledClient(row["client_id"], names.get(row["client_id"], "?"))
        )
        item.expenses[row["client_currency"]] = amount
    return sorted(rows.values(), key=lambda r: r.name.lower())


def _month_bounds(today: date) -> tuple[date, date, date, date]:
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return first, today, last_month_end.replace(day=1), last_month_end


@dataclass
class WeekOf:
    monday: date
    days: list[date]
    total: Figures
    per_day: dict[date, int]


def my_week(viewer: Membership, today: date, zone: str) -> WeekOf:
    """The viewer's own hours this week (Monday to Sunday), per local day.

    One query: the home page shows hours and billable hours, not billed (rounded) hours
    or money, so the time report's rate and rounding look-ups are not needed here."""
    from punchclock.reports.query import Plan, aggregate, scope_for
    from punchclock.reports.timecut import as_date

    monday = today - timedelta(days=today.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    where = TimeFilter(
        start=start_of_day(monday, zone),
        end=start_of_day(monday + timedelta(days=7), zone),
        people=(viewer.pk,),
    )
    plan = Plan(
        by=("day",),
        pricing=False,
        rate_boundaries=[],
        viewer_zone=zone,
        org_zone=viewer.organization.timezone,
        day_rounding=False,
    )
    total = Figures()
    per_day: dict[date, int] = {}
    for day, seconds, billable, _billed in aggregate(scope_for(viewer), where, plan):
        per_day[as_date(day)] = int(seconds or 0)
        total.seconds += int(seconds or 0)
        total.billable_seconds += int(billable or 0)
    return WeekOf(monday, days, total, per_day)


def team_week(viewer: Membership, today: date, zone: str) -> tuple[list[date], list[Any]]:
    """This week's hours per person and day (people the viewer may see)."""
    monday = today - timedelta(days=today.weekday())
    where = TimeFilter(
        start=start_of_day(monday, zone), end=start_of_day(monday + timedelta(days=7), zone)
    )
    report = time_report(viewer, where, by=("person", "day"), zone=zone, money=False)
    return [monday + timedelta(days=i) for i in range(7)], report.groups


def pending_timesheets(viewer: Membership) -> int:
    from punchclock.tracking.models import TimesheetStatus
    from punchclock.tracking.services import decidable_timesheets

    return decidable_timesheets(viewer).filter(status=TimesheetStatus.SUBMITTED).count()


@dataclass
class Dashboard:
    today: date
    zone: str
    week: WeekOf
    running: Any = None
    unbilled: list[UnbilledClient] | None = None
    unbilled_totals: dict[str, Decimal] | None = None
    revenue: dict[str, tuple[Decimal, Decimal]] | None = None  # currency -> (this, last)
    revenue_months: tuple[date, date] | None = None
    team_days: list[date] = field(default_factory=list)
    team: list[Any] = field(default_factory=list)
    budgets: list[Any] | None = None
    pending_timesheets: int | None = None
    chart: Any = None
    has_cards: bool = False

    @property
    def week_hours(self) -> Decimal:
        return hours(self.week.total.seconds)


@read_once()
def dashboard(viewer: Membership, *, zone: str | None = None, cards: bool = True) -> Dashboard:
    """The viewer's figures; `cards=False` keeps to the cheap ones (their week and timer).

    The home page renders without the cards and loads them from /reports/dashboard/ once
    it is shown: unbilled money and budgets read the whole history, which takes seconds
    at millions of entries, and the timer must not wait for that."""
    from punchclock.tracking.services import running_entry

    zone = zone or viewer.user.timezone
    today = local_date(now(), zone)
    board = Dashboard(today=today, zone=zone, week=my_week(viewer, today, zone))
    board.running = running_entry(viewer)
    board.has_cards = sees_cards(viewer)
    if not cards:
        return board
    if can(viewer, "invoices.manage"):
        board.unbilled = unbilled_by_client(viewer)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in board.unbilled:
            for currency, amount in row.total.items():
                totals[currency] += amount
        board.unbilled_totals = dict(sorted(totals.items()))
        board.revenue, board.revenue_months = revenue_this_and_last(viewer, today)
    if can(viewer, "time.view_all") or viewer.role == "manager":
        board.team_days, board.team = team_week(viewer, today, zone)
    if can(viewer, "projects.manage") or viewer.role == "manager":
        from punchclock.reports.budgets import budget_use

        # Only the projects that need attention first; the budgets page lists them all. The
        # card shows use against budget, so neither pace nor burn is read for it.
        board.budgets = budget_use(viewer, today=today, zone=zone)[:8]
        board.pending_timesheets = pending_timesheets(viewer)
    return board


def sees_cards(viewer: Membership) -> bool:
    """Whether the role has more than its own week: money, the team, budgets."""
    return (
        can(viewer, "invoices.manage") or can(viewer, "time.view_all") or viewer.role == "manager"
    )


def revenue_this_and_last(
    viewer: Membership, today: date
) -> tuple[dict[str, tuple[Decimal, Decimal]], tuple[date, date]]:
    """Net invoiced (issued invoices less credit notes) this month so far and last month."""
    from punchclock.invoicing.models import Invoice, InvoiceStatus

    first, _, last_first, _ = _month_bounds(today)
    rows = (
        Invoice.objects.filter(
            organization_id=viewer.organization_id,
            status=InvoiceStatus.ISSUED,
            issue_date__gte=last_first,
            issue_date__lte=today,
        )
        .annotate(this=ExpressionWrapper(Q(issue_date__gte=first), output_field=BooleanField()))
        .values("currency", "this")
        .annotate(total=scaled_sum("net_total"))
        .order_by()
    )
    found: dict[str, list[Decimal]] = {}
    for row in rows:
        pair = found.setdefault(row["currency"], [Decimal(0), Decimal(0)])
        pair[0 if row["this"] else 1] += from_scaled(row["total"])
    return {c: (v[0], v[1]) for c, v in sorted(found.items())}, (first, last_first)


def week_chart(board: Dashboard) -> Any:
    """This week's hours per day, stacked by person (team viewers) or the viewer's own."""
    from punchclock.reports import charts

    categories = [day.strftime("%a %d") for day in board.week.days]
    if board.team:
        index = {day: i for i, day in enumerate(board.team_days)}
        series = []
        for group in board.team:
            values = [0] * 7
            for child in group.children:
                if child.key[0] in index:
                    values[index[child.key[0]]] = child.figures.seconds
            series.append(charts.Series(group.label, values))
        series = charts.top_series(series)
        title = "This week's hours per day, by person"
    else:
        values = [board.week.per_day.get(day, 0) for day in board.week.days]
        series = [charts.Series("Hours", values)]
        title = "Your hours this week"
    return charts.fitted_bars(categories, charts.in_hours(series), title=title, height=200)
