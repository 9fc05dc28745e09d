# ruff: noqa: S608 - the SQL is built from fixed fragments; every value is a parameter.
"""Long time reports read closed months from kept totals (decision 0017).

A report whose range covers whole months that have ended, grouped by client, project,
task, person or month, without tag, invoiced or approval filters, and seen in the
organization's own zone, reads those months from `reports_monthtotal`: one row per month
and pricing key instead of every entry. The part of the range outside whole closed months
(the running month, a range starting mid-month) is scanned as before, and the rows of both
are added up by the report exactly as rows of one scan are.

Before reading, the months the report needs are brought up to date: the marks the triggers
left (reports.triggers) are turned into stale months, and stale or missing months are
built again with the same query the report runs on entries. Building and marking take one
lock per organization, so a month is never marked fresh over a change that came in while it
was being built.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction

from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.reports.models import MonthState, MonthTotal
from punchclock.reports.timecut import as_date

DIMENSIONS = frozenset({"client", "project", "task", "person", "month"})
MONTHS_PER_TRANSACTION = 6  # bounds how long one build holds SQLite's write lock
LOCK_CLASS = 7301  # PostgreSQL advisory lock namespace of month builds


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def usable(where: Any, plan: Any) -> bool:
    """Whether kept months can answer (part of) this report."""
    return (
        set(plan.by) <= DIMENSIONS
        and not where.tags
        and where.invoiced is None
        and where.approved is None
        and plan.viewer_zone == plan.org_zone
    )


def closed_months(span: tuple[datetime, datetime], zone: str) -> list[date]:
    """The whole local months inside [start, end) that ended before this month began."""
    start, end = span
    month = local_date(start, zone).replace(day=1)
    if start_of_day(month, zone) < start:
        month = next_month(month)
    this_month = local_date(now(), zone).replace(day=1)
    months = []
    while next_month(month) <= this_month and start_of_day(next_month(month), zone) <= end:
        months.append(month)
        month = next_month(month)
    return months


def fingerprint(zone: str, boundaries: list[datetime], month: date) -> str:
    """What a month's totals depend on besides the entries: the zone and the rate changes
    up to the month's end (a rate from next year does not make last March stale)."""
    end = start_of_day(next_month(month), zone)
    text = zone + "|" + ",".join(b.isoformat() for b in boundaries if b < end)
    return hashlib.sha256(text.encode()).hexdigest()


def build_plan(organization_id: int, zone: str) -> Any:
    """How months are built, whatever the report that asks: priced keys with the
    organization's own rate periods, billed seconds with every rounding rule. (A caller's
    plan may leave those out — an hours-only budget, a chart — and a month built from it
    would be wrong for the next priced report.)"""
    from punchclock.reports.query import Plan, rounds_days
    from punchclock.reports.timereport import rate_boundaries

    return Plan(
        by=("month",),
        pricing=True,
        rate_boundaries=rate_boundaries(organization_id, zone),
        viewer_zone=zone,
        org_zone=zone,
        day_rounding=rounds_days(organization_id),
        billed=True,
    )


def refresh(organization_id: int, plan: Any, months: list[date], scan: Any) -> None:
    """Rebuild every month of `months` that a mark made stale or that was never built;
    `plan` is build_plan()'s."""
    zone, boundaries = plan.org_zone, plan.rate_boundaries
    wanted = {month: fingerprint(zone, boundaries, month) for month in months}
    # Each pass builds a few months; under constant writes to old months a pass may find
    # more to do, so the number of passes is bounded and the last one reads what it has.
    for _ in range(len(months) // MONTHS_PER_TRANSACTION + 3):
        with transaction.atomic():
            _lock(organization_id)
            _absorb_marks(organization_id, zone)
            fresh = {
                (month, print_)
                for month, print_ in MonthState.objects.filter(
                    organization_id=organization_id, month__in=list(wanted)
                ).values_list("month", "fingerprint")
            }
            todo = sorted(m for m, print_ in wanted.items() if (m, print_) not in fresh)
            for month in todo[:MONTHS_PER_TRANSACTION]:
                _build(organization_id, plan, month, wanted[month], scan)
        if len(todo) <= MONTHS_PER_TRANSACTION:
            return


def _lock(organization_id: int) -> None:
    # SQLite: the transaction already holds the write lock (IMMEDIATE, or the DELETE below).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, organization_id])


def _absorb_marks(organization_id: int, zone: str) -> None:
    """Turn the triggers' marks (UTC days) into stale months, and take the marks away."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM reports_dirtyday WHERE organization_id = %s RETURNING day",
            [organization_id],
        )
        days = {as_date(row[0]) for row in cursor.fetchall()}
    stale = set()
    for day in days:
        # An entry starting on this UTC day starts on one of two local dates.
        first = datetime.combine(day, time.min, tzinfo=UTC)
        stale.add(local_date(first, zone).replace(day=1))
        stale.add(local_date(first + timedelta(days=1, microseconds=-1), zone).replace(day=1))
    if stale:
        MonthState.objects.filter(organization_id=organization_id, month__in=stale).delete()


def _build(organization_id: int, plan: Any, month: date, print_: str, scan: Any) -> None:
    """One month's totals from its entries, by the report's own query (plan: build_plan)."""
    from punchclock.reports.query import Scope, TimeFilter

    zone = plan.org_zone
    where = TimeFilter(start=start_of_day(month, zone), end=start_of_day(next_month(month), zone))
    rows = scan(Scope(organization_id, everyone=True), where, plan)
    MonthTotal.objects.filter(organization_id=organization_id, month=month).delete()
    MonthTotal.objects.bulk_create(
        (
            MonthTotal(
                organization_id=organization_id,
                month=month,
                membership_id=person,
                project_id=project,
                task_id=task,
                period=period,
                seconds=seconds,
                billable_seconds=billable,
                billed_seconds=billed,
            )
            for _, person, project, task, period, seconds, billable, billed in rows
        ),
        batch_size=2000,
    )
    MonthState.objects.update_or_create(
        organization_id=organization_id, month=month, defaults={"fingerprint": print_}
    )


def read(scope: Any, where: Any, plan: Any, months: list[date]) -> list[tuple[Any, ...]]:
    """The rows a scan of those months would give, from their totals."""
    from punchclock.reports.query import Sql

    columns = {
        "client": ["p.client_id"],
        "project": ["c.project_id"],
        "task": ["c.project_id", "c.task_id"],
        "person": ["c.membership_id"],
        "month": ["c.month"],
    }
    keys = [column for name in plan.by for column in columns[name]]
    if plan.pricing:
        keys += ["c.membership_id", "c.project_id", "c.task_id", "c.period"]
    sums = {
        None: ("c.seconds", "c.billable_seconds", "c.billed_seconds"),
        True: ("c.billable_seconds", "c.billable_seconds", "c.billed_seconds"),
        False: ("c.seconds - c.billable_seconds", "0", "0"),
    }[where.billable]
    filters = Sql()
    filters.add("c.organization_id = %s", scope.organization_id)
    filters.add("c.month >= %s", months[0])
    filters.add("c.month <= %s", months[-1])
    if where.billable is True:
        filters.add("c.billable_seconds > 0")  # every finished entry lasts a second at least
    elif where.billable is False:
        filters.add("c.seconds > c.billable_seconds")
    if not scope.everyone:
        if scope.managed:
            marks = ", ".join(["%s"] * len(scope.managed))
            filters.extend(
                f"(c.membership_id = %s OR c.project_id IN ({marks}))",
                [scope.own, *scope.managed],
            )
        else:
            filters.add("c.membership_id = %s", scope.own)
    for column, chosen in (
        ("p.client_id", where.clients),
        ("c.project_id", where.projects),
        ("c.task_id", where.tasks),
        ("c.membership_id", where.people),
    ):
        if chosen:
            filters.extend(f"{column} IN ({', '.join(['%s'] * len(chosen))})", list(chosen))
    billed = f"SUM({sums[2]})" if plan.billed else "0"
    query = (
        f"SELECT {', '.join(keys)}, SUM({sums[0]}), SUM({sums[1]}), {billed} "
        "FROM reports_monthtotal c JOIN projects_project p ON p.id = c.project_id "
        f"WHERE {' AND '.join(filters.parts)} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
    )
    from punchclock.reports import query as report_query

    rows = report_query._fetch(query, filters.params)
    if connection.vendor == "postgresql":  # sums of bigints come back as Decimal there
        return [(*row[:-3], int(row[-3]), int(row[-2]), int(row[-1])) for row in rows]
    return rows
