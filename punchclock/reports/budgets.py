"""Project budgets: what is used, how fast it burns, when it runs out.

Used hours are all finished time on the project (billable or not: the budget is effort).
Used money is the billable amount of that time at the rates in force on each day, after
the project's rounding, priced by the time report's engine, in the client's currency.
Pace is what the last 28 days used, per day; the forecast extends it from today.

Only what a budget is counted in is read: seconds for an hours budget (no rates, no billing
rounding), the time report's money for a money budget. Every query names its projects, so
it reads them through the project-led covering index (reports.query.entries_table): at a
million entries, a few projects' history instead of the organization's whole one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied

from punchclock.accounts.models import Membership, Role
from punchclock.accounts.permissions import can
from punchclock.core.money import round_money
from punchclock.core.timeutil import start_of_day
from punchclock.projects.models import BillingMethod, BudgetKind, Project, ProjectMember
from punchclock.reports.query import Plan, TimeFilter, aggregate, read_once, scope_for
from punchclock.reports.timecut import as_date
from punchclock.reports.timereport import HOUR, hours, time_report

PACE_DAYS = 28
HUNDRED = Decimal(100)


@dataclass
class BudgetRow:
    project: Project
    kind: str
    budget: Decimal  # hours or money, by kind
    currency: str
    used_seconds: int = 0
    used_amount: Decimal = Decimal(0)  # money budgets only: hours budgets are not priced
    recent_seconds: int = 0
    recent_amount: Decimal = Decimal(0)  # money budgets only
    burn: list[Decimal] = field(default_factory=list)  # cumulative use per chart month

    @property
    def used_hours(self) -> Decimal:
        return hours(self.used_seconds)

    @property
    def used(self) -> Decimal:
        return self.used_hours if self.kind == BudgetKind.HOURS else self.used_amount

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.used

    @property
    def percent(self) -> Decimal:
        return (self.used * HUNDRED / self.budget).quantize(Decimal(1), ROUND_HALF_UP)

    @property
    def state(self) -> str:
        """ok, alert (the project's threshold is crossed) or over (the budget is spent)."""
        if self.used >= self.budget:
            return "over"
        if self.used * HUNDRED >= self.budget * self.project.budget_alert_percent:
            return "alert"
        return "ok"

    @property
    def pace_per_day(self) -> Decimal:
        recent = hours(self.recent_seconds) if self.kind == BudgetKind.HOURS else self.recent_amount
        return recent / PACE_DAYS

    def runs_out(self, today: date) -> date | None:
        """The day the budget is spent at the current pace; None without recent work."""
        if self.remaining <= 0:
            return None
        pace = self.pace_per_day
        if pace <= 0:
            return None
        days = int((self.remaining / pace).to_integral_value(rounding="ROUND_CEILING"))
        return today + timedelta(days=min(days, 365 * 50))

    @property
    def effective_rate(self) -> Decimal | None:
        """A fixed fee divided by the hours it took so far (what an hour actually earned)."""
        project = self.project
        if project.billing_method != BillingMethod.FIXED_FEE or project.fixed_fee is None:
            return None
        if not self.used_seconds:
            return None
        return round_money(project.fixed_fee * HOUR / self.used_seconds, self.currency)


@dataclass
class BudgetReport:
    today: date
    rows: list[BudgetRow]
    months: list[date]


def budget_projects(viewer: Membership) -> list[Project]:
    """Budgeted projects the viewer may see: all (owners, admins) or managed (managers)."""
    projects = (
        Project.objects.filter(organization_id=viewer.organization_id)
        .exclude(budget_kind=BudgetKind.NONE)
        .select_related("client")
    )
    if not can(viewer, "projects.manage"):
        if viewer.role != Role.MANAGER:
            raise PermissionDenied("Budgets are for owners, admins and project managers.")
        managed = ProjectMember.objects.filter(membership=viewer, is_manager=True)
        projects = projects.filter(pk__in=managed.values("project_id"))
    return [
        p
        for p in projects.order_by("client__name", "name")
        if (p.budget_kind == BudgetKind.HOURS and p.budget_hours)
        or (p.budget_kind == BudgetKind.MONEY and p.budget_amount)
    ]


def _month_starts(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _rows(viewer: Membership) -> list[BudgetRow]:
    return [
        BudgetRow(
            project=p,
            kind=p.budget_kind,
            budget=(p.budget_hours if p.budget_kind == BudgetKind.HOURS else p.budget_amount)
            or Decimal(0),
            currency=p.client.currency,
        )
        for p in budget_projects(viewer)
    ]


def _by_kind(rows: list[BudgetRow]) -> list[tuple[bool, dict[int, BudgetRow]]]:
    """(priced, rows by project id) for the money budgets and for the hours budgets."""
    groups = []
    for priced in (True, False):
        chosen = {r.project.pk: r for r in rows if (r.kind == BudgetKind.MONEY) == priced}
        if chosen:
            groups.append((priced, chosen))
    return groups


@dataclass
class _Use:
    """One project's use under a filter: seconds, and money for a money budget; per month
    the unit the budget counts in (seconds of hours budgets, money of money budgets)."""

    seconds: int = 0
    amount: Decimal = Decimal(0)
    month_seconds: dict[date, int] = field(default_factory=dict)
    month_amounts: dict[date, Decimal] = field(default_factory=dict)


def _use(
    viewer: Membership,
    where: TimeFilter,
    zone: str,
    by_id: dict[int, BudgetRow],
    *,
    priced: bool,
    by_month: bool = False,
) -> dict[int, _Use]:
    """Use per project (and month): the time report's figures for money budgets; for hours
    budgets the same query's seconds alone, without rates or the per-day rounding pass."""
    by = ("project", "month") if by_month else ("project",)
    found: dict[int, _Use] = {pk: _Use() for pk in by_id}
    if priced:
        # Use is money and hours: no cost is shown, so none is priced (and the lines come
        # straight from the kept ones, decision 0021).
        for group in time_report(viewer, where, by=by, zone=zone, cost=False).groups:
            use, currency = found[group.key[0]], by_id[group.key[0]].currency
            use.seconds = group.figures.seconds
            use.amount = group.figures.amounts.get(currency, Decimal(0))
            for child in group.children:
                use.month_amounts[child.key[0]] = child.figures.amounts.get(currency, Decimal(0))
        return found
    plan = Plan(
        by=by,
        pricing=False,
        rate_boundaries=[],
        viewer_zone=zone,
        org_zone=viewer.organization.timezone,
        day_rounding=False,  # billed time is not read: seconds are the same either way
    )
    for row in aggregate(scope_for(viewer), where, plan):
        use, seconds = found[row[0]], int(row[len(by)] or 0)
        use.seconds += seconds
        if by_month:
            month = as_date(row[1])
            use.month_seconds[month] = use.month_seconds.get(month, 0) + seconds
    return found


def _used(row: BudgetRow, use: _Use) -> None:
    row.used_seconds, row.used_amount = use.seconds, use.amount


def _sorted(rows: list[BudgetRow]) -> list[BudgetRow]:
    return sorted(rows, key=lambda r: (-(r.used / r.budget), r.project.name.lower()))


@read_once()
def budget_use(viewer: Membership, *, today: date, zone: str | None = None) -> list[BudgetRow]:
    """Every visible budgeted project's use to date, most used first: the dashboard's card,
    which shows percent and state only (no pace, no burn)."""
    zone = zone or viewer.user.timezone
    rows = _rows(viewer)
    end = start_of_day(today + timedelta(days=1), zone)
    for priced, by_id in _by_kind(rows):
        where = TimeFilter(end=end, projects=tuple(by_id))
        for pk, use in _use(viewer, where, zone, by_id, priced=priced).items():
            _used(by_id[pk], use)
    return _sorted(rows)


@read_once()
def budget_report(
    viewer: Membership, *, today: date, zone: str | None = None, months: int = 12
) -> BudgetReport:
    """Every visible budgeted project, its use to date and its burn over the last months."""
    zone = zone or viewer.user.timezone
    rows = _rows(viewer)
    chart_months = _month_starts((today.replace(day=1) - timedelta(days=31 * (months - 1))), today)
    if not rows:
        return BudgetReport(today, [], chart_months)
    end = start_of_day(today + timedelta(days=1), zone)
    recent_start = start_of_day(today - timedelta(days=PACE_DAYS - 1), zone)
    chart_start = start_of_day(chart_months[0], zone)
    for priced, by_id in _by_kind(rows):
        ids = tuple(by_id)
        # Three reads, not one pass by month over all history: cutting every entry of the
        # history into local months costs more than reading the chart's year a second time
        # (measured at a million entries, both databases), and the use to date rounds its
        # lines per project, as a report by project does, never per month.
        history = TimeFilter(end=end, projects=ids)
        for pk, use in _use(viewer, history, zone, by_id, priced=priced).items():
            _used(by_id[pk], use)
        recent = TimeFilter(start=recent_start, end=end, projects=ids)
        for pk, use in _use(viewer, recent, zone, by_id, priced=priced).items():
            by_id[pk].recent_seconds, by_id[pk].recent_amount = use.seconds, use.amount
        chart = TimeFilter(start=chart_start, end=end, projects=ids)
        for pk, use in _use(viewer, chart, zone, by_id, priced=priced, by_month=True).items():
            by_id[pk].burn = _burn(by_id[pk], use, chart_months, priced=priced)
    return BudgetReport(today, _sorted(rows), chart_months)


def _burn(row: BudgetRow, use: _Use, months: list[date], *, priced: bool) -> list[Decimal]:
    """Use before the chart's first month, then month by month, summed up."""
    if priced:
        values = [use.month_amounts.get(month, Decimal(0)) for month in months]
        running = row.used_amount
    else:
        values = [Decimal(use.month_seconds.get(month, 0)) / HOUR for month in months]
        running = Decimal(row.used_seconds) / HOUR
    running -= sum(values, Decimal(0))
    burn = []
    for value in values:
        running += value
        burn.append(running)
    return burn
