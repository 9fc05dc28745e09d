"""Project budgets: what is used, how fast it burns, when it runs out.

Used hours are all finished time on the project (billable or not: the budget is effort).
Used money is the billable amount of that time at the rates in force on each day, after
the project's rounding, priced by the time report's engine, in the client's currency.
Pace is what the last 28 days used, per day; the forecast extends it from today.
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
from punchclock.reports.query import TimeFilter
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
    used_amount: Decimal = Decimal(0)
    recent_seconds: int = 0
    recent_amount: Decimal = Decimal(0)
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


def budget_report(
    viewer: Membership, *, today: date, zone: str | None = None, months: int = 12
) -> BudgetReport:
    """Every visible budgeted project, its use to date and its burn over the last months."""
    zone = zone or viewer.user.timezone
    projects = budget_projects(viewer)
    rows = [
        BudgetRow(
            project=p,
            kind=p.budget_kind,
            budget=(p.budget_hours if p.budget_kind == BudgetKind.HOURS else p.budget_amount)
            or Decimal(0),
            currency=p.client.currency,
        )
        for p in projects
    ]
    chart_months = _month_starts((today.replace(day=1) - timedelta(days=31 * (months - 1))), today)
    if not rows:
        return BudgetReport(today, [], chart_months)
    ids = tuple(p.pk for p in projects)
    by_id = {row.project.pk: row for row in rows}
    end = start_of_day(today + timedelta(days=1), zone)
    everything = time_report(viewer, TimeFilter(end=end, projects=ids), by=("project",), zone=zone)
    for group in everything.groups:
        row = by_id[group.key[0]]
        row.used_seconds = group.figures.seconds
        row.used_amount = group.figures.amounts.get(row.currency, Decimal(0))
    recent_start = start_of_day(today - timedelta(days=PACE_DAYS - 1), zone)
    recent = time_report(
        viewer, TimeFilter(start=recent_start, end=end, projects=ids), by=("project",), zone=zone
    )
    for group in recent.groups:
        row = by_id[group.key[0]]
        row.recent_seconds = group.figures.seconds
        row.recent_amount = group.figures.amounts.get(row.currency, Decimal(0))
    # Burn: use before the chart's first month, then month by month, summed up.
    chart_start = start_of_day(chart_months[0], zone)
    monthly = time_report(
        viewer,
        TimeFilter(start=chart_start, end=end, projects=ids),
        by=("project", "month"),
        zone=zone,
    )
    index = {month: i for i, month in enumerate(chart_months)}
    per_month: dict[int, list[Decimal]] = {pk: [Decimal(0)] * len(chart_months) for pk in by_id}
    for group in monthly.groups:
        row = by_id[group.key[0]]
        for child in group.children:
            slot = index.get(child.key[0])
            if slot is None:
                continue
            value = (
                Decimal(child.figures.seconds) / HOUR
                if row.kind == BudgetKind.HOURS
                else child.figures.amounts.get(row.currency, Decimal(0))
            )
            per_month[row.project.pk][slot] += value
    for pk, values in per_month.items():
        row = by_id[pk]
        in_chart = sum(values, Decimal(0))
        running = (
            Decimal(row.used_seconds) / HOUR if row.kind == BudgetKind.HOURS else row.used_amount
        ) - in_chart
        burn = []
        for value in values:
            running += value
            burn.append(running)
        row.burn = burn
    rows.sort(key=lambda r: (-(r.used / r.budget), r.project.name.lower()))
    return BudgetReport(today, rows, chart_months)
