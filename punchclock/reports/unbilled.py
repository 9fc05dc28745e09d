# ruff: noqa: S608 - the SQL is built from fixed fragments; every value is a parameter.
"""Unbilled work: billable time not on an issued invoice, and approved billable expenses
not on an invoice, per client and project, with the age of the oldest item.

Time is the time report's own figures (billed hours after rounding, amounts priced per
invoice line) with the filter billable and not invoiced, so the page, the dashboard card
and a draft made from it agree. Age is the oldest unbilled entry's (or expense's) local
day. Each row links to a draft for that client (and project) from that day to today.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.automation.coverage import covered_window, covered_windows
from punchclock.core.timeutil import local_date, start_of_day
from punchclock.payments.balances import from_scaled, scaled_sum
from punchclock.reports.query import (
    TimeFilter,
    dialect,
    entries_table,
    entry_range,
    kept_span,
    org_projects,
    read_once,
    scope_for,
    where_clause,
)
from punchclock.reports.timecut import as_date, as_instant, offsets
from punchclock.reports.timereport import (
    KeptFirst,
    hours,
    project_label,
    time_report,
)

NO_PROJECT = "(no project)"


@dataclass
class UnbilledRow:
    """One client's project (or its expenses without a project)."""

    project_id: int | None
    label: str
    billable_seconds: int = 0
    billed_seconds: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    expenses: dict[str, Decimal] = field(default_factory=dict)
    expense_count: int = 0
    oldest: date | None = None

    @property
    def billed_hours(self) -> Decimal:
        return hours(self.billed_seconds)

    @property
    def total(self) -> dict[str, Decimal]:
        out = dict(self.amounts)
        for currency, amount in self.expenses.items():
            out[currency] = out.get(currency, Decimal(0)) + amount
        return dict(sorted(out.items()))

    def age(self, today: date) -> int | None:
        return (today - self.oldest).days if self.oldest else None

    def see(self, day: date | None) -> None:
        if day is not None and (self.oldest is None or day < self.oldest):
            self.oldest = day


@dataclass
class UnbilledClient:
    client_id: int
    name: str
    rows: list[UnbilledRow] = field(default_factory=list)
    summary: UnbilledRow = field(default_factory=lambda: UnbilledRow(None, "All projects"))


@dataclass
class CoveredTime:
    """Billable time a retainer covers that is not on an issued invoice yet: its period's
    close bills it (as the fee, and any overage), so no draft offers it."""

    retainer_id: int
    name: str
    client_id: int
    client: str
    billable_seconds: int
    billed_seconds: int
    oldest: date | None = None

    @property
    def billed_hours(self) -> Decimal:
        return hours(self.billed_seconds)

    def age(self, today: date) -> int | None:
        return (today - self.oldest).days if self.oldest else None


@dataclass
class UnbilledReport:
    today: date
    clients: list[UnbilledClient]
    totals: dict[str, Decimal]
    unpriced_seconds: int = 0  # billable time on hourly projects that finds no rate
    covered: list[CoveredTime] = field(default_factory=list)


@read_once()
def unbilled_report(viewer: Membership, *, today: date, zone: str | None = None) -> UnbilledReport:
    """All unbilled work of the organization, oldest first. For people who bill."""
    if not can(viewer, "invoices.manage"):
        raise PermissionDenied("Unbilled work is for the people who make invoices.")
    zone = zone or viewer.user.timezone
    # Time a retainer covers is billed by the retainer's closes, never by a draft: it is
    # listed apart (covered_time) instead of waiting here with a Draft button.
    where = TimeFilter(
        billable=True, invoiced=False, not_covered=covered_windows(viewer.organization_id)
    )
    report = time_report(viewer, where, by=("client", "project"), zone=zone, cost=False)
    clients: dict[int, UnbilledClient] = {}
    rows: dict[tuple[int, int | None], UnbilledRow] = {}
    for group in report.groups:
        client = clients.setdefault(group.key[0], UnbilledClient(group.key[0], group.label))
        for child in group.children:
            row = UnbilledRow(
                child.key[0],
                child.label,
                billable_seconds=child.figures.billable_seconds,
                billed_seconds=child.figures.billed_seconds,
                amounts={c: a for c, a in child.figures.amounts.items() if a},
            )
            rows[(client.client_id, row.project_id)] = row
            client.rows.append(row)
    for (client_id, project_id), day in _oldest_entries(
        viewer, where, zone, report.kept_first, wanted=set(rows)
    ).items():
        if (client_id, project_id) in rows:
            rows[(client_id, project_id)].see(day)
    _add_expenses(viewer, clients, rows)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for client in clients.values():
        summary = client.summary
        for row in client.rows:
            summary.billable_seconds += row.billable_seconds
            summary.billed_seconds += row.billed_seconds
            summary.expense_count += row.expense_count
            summary.see(row.oldest)
            for target, source in (
                (summary.amounts, row.amounts),
                (summary.expenses, row.expenses),
            ):
                for currency, amount in source.items():
                    target[currency] = target.get(currency, Decimal(0)) + amount
        for currency, amount in summary.total.items():
            totals[currency] += amount
        client.rows.sort(key=lambda r: (r.oldest or today, r.label.lower()))
    ordered = sorted(
        (c for c in clients.values() if c.rows),
        key=lambda c: (c.summary.oldest or today, c.name.lower()),
    )
    return UnbilledReport(
        today=today,
        clients=ordered,
        totals=dict(sorted(totals.items())),
        unpriced_seconds=report.unpriced_seconds,
        covered=covered_time(viewer, zone),
    )


def covered_time(viewer: Membership, zone: str) -> list[CoveredTime]:
    """Per retainer, the billable time it covers that no issued invoice holds yet."""
    from punchclock.automation.models import Retainer
    from punchclock.projects.models import HOURLY_METHODS, Project

    found = []
    retainers = Retainer.objects.filter(organization_id=viewer.organization_id).select_related(
        "client", "organization"
    )
    for retainer in retainers.order_by("pk"):
        window = covered_window(retainer)
        projects = Project.objects.filter(
            client_id=retainer.client_id, billing_method__in=HOURLY_METHODS
        )
        if retainer.project_id is not None:
            projects = projects.filter(pk=retainer.project_id)
        ids = tuple(projects.order_by("pk").values_list("pk", flat=True))
        if not ids:
            continue
        mine = TimeFilter(
            projects=ids, billable=True, invoiced=False, start=window.start, end=window.end
        )
        report = time_report(viewer, mine, by=("client",), zone=zone, money=False)
        if not report.total.billable_seconds:
            continue
        oldest = _oldest_entries(viewer, mine, zone).values()
        found.append(
            CoveredTime(
                retainer.pk,
                retainer.name,
                retainer.client_id,
                retainer.client.name,
                report.total.billable_seconds,
                report.total.billed_seconds,
                min(oldest, default=None),
            )
        )
    return found


def _oldest_entries(
    viewer: Membership,
    where: TimeFilter,
    zone: str,
    kept: KeptFirst | None = None,
    *,
    wanted: set[tuple[int, int | None]] | None = None,
) -> dict[tuple[int, int], date]:
    """The local day of the oldest unbilled entry per client and project (of those
    `wanted`, when the caller knows which hold unbilled time).

    With nothing ever billed the unbilled entries are the whole history, and a MIN over
    them reads every one (0.6 s at a million). Kept months (fresh: the report just read
    them) say which month holds each project's oldest open time; the entries are then read
    for that month only, and for the parts of the range outside whole kept months. `kept`:
    those months as the time report found them reading its lines, when it did."""
    from punchclock.reports import monthly, query

    scope = scope_for(viewer)
    org_zone = viewer.organization.timezone
    span = kept_span(scope, where, org_zone, monthly.MONTH)
    if span is None:
        return {}
    plan = query.Plan(
        by=("client", "project", "month"),
        pricing=False,
        rate_boundaries=[],
        viewer_zone=org_zone,
        org_zone=org_zone,
        day_rounding=False,
        billed=False,
    )
    grain = monthly.usable(where, plan) if query.KEEP_MONTHS else None
    months = monthly.closed_periods(span, org_zone) if grain is monthly.MONTH else []
    if not months:
        found = _first_starts(scope, where, org_zone)
    else:
        first = start_of_day(months[0], org_zone)
        after = start_of_day(monthly.next_month(months[-1]), org_zone)
        found = _first_starts(scope, replace(where, start=span[0], end=first), org_zone)
        client_of = {pk: f.client_id for pk, f in org_projects(viewer.organization_id).items()}
        if kept is not None and kept.grain == monthly.MONTH.name and kept.months == months:
            first_months = list(kept.projects.items())
        else:
            first_months = monthly.first_periods(scope, where, plan, months)
        oldest_month = {
            (client_of[project], project): as_date(month) for project, month in first_months
        }
        by_month: dict[date, list[int]] = defaultdict(list)
        for key, month in oldest_month.items():
            if key not in found:
                by_month[month].append(key[1])
        for month, projects in by_month.items():
            part = _first_starts(
                scope,
                replace(
                    where,
                    start=start_of_day(month, org_zone),
                    end=start_of_day(monthly.next_month(month), org_zone),
                    projects=tuple(sorted(projects)),
                ),
                org_zone,
            )
            for key, instant in part.items():
                found.setdefault(key, instant)
        # A month marked open that no longer is (a write since the report read it): that
        # project's oldest is looked up over the whole range.
        lost = {key[1] for key in oldest_month if key not in found}
        if lost:
            for key, instant in _first_starts(
                scope, replace(where, projects=tuple(sorted(lost))), org_zone
            ).items():
                found.setdefault(key, instant)
        # After the kept months only the projects none of them holds can have their oldest
        # (once an agency bills monthly: none, where this read took a third of the page).
        later = replace(where, start=after, end=span[1])
        if wanted is not None:
            missing = {k[1] for k in wanted - found.keys() if k[1] is not None}
            later = replace(later, projects=tuple(sorted(missing)))
        if wanted is None or later.projects:
            for key, instant in _first_starts(scope, later, org_zone).items():
                found.setdefault(key, instant)
    return {key: local_date(instant, zone) for key, instant in found.items()}


def _first_starts(scope: Any, where: TimeFilter, org_zone: str) -> dict[tuple[int, int], datetime]:
    """MIN(start) of the entries a filter counts, per client and project, in one query."""
    span = entry_range(scope, where)
    if span is None or span[0] >= span[1]:
        return {}
    sql = dialect()
    filters = where_clause(scope, where, offsets(org_zone, *span), sql)
    query = (
        f"SELECT p.client_id, e.project_id, MIN(e.start) FROM {entries_table(where)} "
        f"JOIN projects_project p ON p.id = e.project_id WHERE {' AND '.join(filters.parts)} "
        "GROUP BY p.client_id, e.project_id"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, filters.params)
        found = cursor.fetchall()
    return {(client, project): as_instant(first) for client, project, first in found}


def _add_expenses(
    viewer: Membership,
    clients: dict[int, UnbilledClient],
    rows: dict[tuple[int, int | None], UnbilledRow],
) -> None:
    """Approved billable expenses on no invoice, per client, project and client currency."""
    from punchclock.clients.models import Client
    from punchclock.expenses.models import Expense, ExpenseStatus

    found = list(
        Expense.objects.filter(
            organization_id=viewer.organization_id,
            billable=True,
            status=ExpenseStatus.APPROVED,
            billing__isnull=True,
        )
        .values("client_id", "project_id", "client_currency")
        .annotate(total=scaled_sum("billable_amount"), oldest=Min("spent_on"), count=Count("id"))
        .order_by()
    )
    if not found:
        return
    org = viewer.organization_id
    names = dict(Client.objects.filter(organization_id=org).values_list("pk", "name"))
    projects = {pk: project_label(f.full_code, f.name) for pk, f in org_projects(org).items()}
    for item in found:
        client_id, project_id = item["client_id"], item["project_id"]
        client = clients.setdefault(client_id, UnbilledClient(client_id, names.get(client_id, "?")))
        row = rows.get((client_id, project_id))
        if row is None:
            label = projects.get(project_id, "?") if project_id else NO_PROJECT
            row = rows[(client_id, project_id)] = UnbilledRow(project_id, label)
            client.rows.append(row)
        amount = from_scaled(item["total"])
        currency = item["client_currency"]
        row.expenses[currency] = row.expenses.get(currency, Decimal(0)) + amount
        row.expense_count += item["count"]
        row.see(item["oldest"])
