# ruff: noqa: S608 - the SQL is built from fixed fragments; every value is a parameter.
"""Long time reports read closed months, or weeks, from kept totals (decisions 0017, 0019).

A report whose range covers whole months that have ended, grouped by client, project,
task, person or month, without tag, invoiced or approval filters, and seen in the
organization's own zone, reads those months from `reports_monthtotal`: one row per month
and pricing key instead of every entry. A report grouped by week reads whole closed weeks
the same way, from the rows of grain "week" (weeks do not nest in months). The part of
the range outside whole closed periods (the running month, a range starting mid-month) is
scanned as before, and the rows of both are added up by the report exactly as rows of one
scan are.

Before reading, the months the report needs are brought up to date: the marks the triggers
left (reports.triggers) are turned into stale months, and stale or missing months are
built again with the same query the report runs on entries. Building and marking take one
lock per organization, so a month is never marked fresh over a change that came in while it
was being built.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from django.db import connection, transaction

from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.reports.models import SUMS, DirtyDay, MonthState, MonthTotal
from punchclock.reports.query import recalled, remember
from punchclock.reports.timecut import as_date

KEYS = frozenset({"client", "project", "task", "person"})
DIMENSIONS = KEYS | {"month"}
LOCK_CLASS = 7301  # PostgreSQL advisory lock namespace of month builds


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Grain:
    """A kind of kept period: calendar months, or ISO weeks (Monday to Sunday)."""

    name: str
    per_transaction: int  # bounds how long one build holds SQLite's write lock
    # How many stale periods a report builds in its own request (decision 0026); with more
    # to build it scans while the worker builds them.
    in_request: int

    def first(self, day: date) -> date:
        """The first day of the period that holds `day`."""
        if self.name == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def next(self, first: date) -> date:
        return first + timedelta(days=7) if self.name == "week" else next_month(first)


MONTH = Grain("month", 6, 2)
WEEK = Grain("week", 26, 4)
# The sums of every kept month of the organization's history up to the last closed one, as
# one run (decision 0025): what reports without a start (unbilled work, budgets' use) read
# instead of each month's rows. Built from the kept months, never from the entries.
SPAN = Grain("span", 1, 1)
# A run shorter than this is read month by month: not worth a table of its own.
SPAN_MIN_MONTHS = 6
# Whether those reads take the span; tests turn it off to compare.
KEEP_SPANS = True


def usable(where: Any, plan: Any) -> Grain | None:
    """Which kept periods can answer (part of) this report, if any: weeks for a report by
    week, months for every other one that groups by nothing finer."""
    if (
        where.tags
        # Invoiced time is all time less the open part, but per-day rounding of the
        # invoiced part alone is not the difference of the two roundings: it scans.
        or where.invoiced is True
        or where.approved is not None
        or plan.viewer_zone != plan.org_zone
    ):
        return None
    if set(plan.by) <= DIMENSIONS:
        grain = MONTH
    elif set(plan.by) <= KEYS | {"week"}:
        grain = WEEK
    else:
        return None
    # Retainers cover whole months of the organization (they start on a month's first
    # day and end on a period's last): kept months can leave them out, kept weeks cannot.
    for covered in where.not_covered:
        for edge in (covered.start, covered.end):
            if edge is None:
                continue
            day = local_date(edge, plan.org_zone)
            if grain is WEEK or day.day != 1 or start_of_day(day, plan.org_zone) != edge:
                return None
    return grain


def closed_periods(span: tuple[datetime, datetime], zone: str, grain: Grain = MONTH) -> list[date]:
    """The whole local periods inside [start, end) that ended before the current one began."""
    start, end = span
    first = grain.first(local_date(start, zone))
    if start_of_day(first, zone) < start:
        first = grain.next(first)
    current = grain.first(local_date(now(), zone))
    found = []
    while grain.next(first) <= current and start_of_day(grain.next(first), zone) <= end:
        found.append(first)
        first = grain.next(first)
    return found


def fingerprint(zone: str, boundaries: list[datetime], month: date, grain: Grain = MONTH) -> str:
    """What a period's totals depend on besides the entries: the zone and the rate changes
    up to the period's end (a rate from next year does not make last March stale)."""
    end = start_of_day(grain.next(month), zone)
    text = zone + "|" + ",".join(b.isoformat() for b in boundaries if b < end)
    return hashlib.sha256(text.encode()).hexdigest()


def build_plan(organization_id: int, zone: str, known: Any = None) -> Any:
    """How months are built, whatever the report that asks: priced keys with the
    organization's own rate periods, billed seconds with every rounding rule. (A caller's
    plan may leave those out — an hours-only budget, a chart — and a month built from it
    would be wrong for the next priced report.) `known`: the asking report's plan, whose
    rate periods and day rounding are taken when it read them as a build does (a priced
    report's plan: time_report reads both for it; unpriced plans may leave them out, and
    their reads come from the report's query.read_once())."""
    from punchclock.reports.query import Plan, rounds_days
    from punchclock.reports.timereport import rate_boundaries

    priced = known is not None and known.pricing and known.org_zone == zone
    return Plan(
        by=("month",),
        pricing=True,
        rate_boundaries=known.rate_boundaries if priced else rate_boundaries(organization_id, zone),
        viewer_zone=zone,
        org_zone=zone,
        day_rounding=known.day_rounding if priced else rounds_days(organization_id),
        billed=True,
        open_sums=True,
    )


def refresh(
    organization_id: int,
    plan: Any,
    months: list[date],
    scan: Any,
    grain: Grain = MONTH,
    *,
    in_request: bool = False,
) -> int | None:
    """Rebuild every period of `months` (firsts of `grain`) that a mark made stale or that
    was never built; `plan` is build_plan()'s. Returns how many were built.

    `in_request` (a report's): when more of them than the grain's `in_request` need
    building among those the worker keeps, none is built, the worker is asked to build
    them now (request_build) and None says that the caller should scan instead
    (decision 0026). Older periods, which only reports build, do not count."""
    zone, boundaries = plan.org_zone, plan.rate_boundaries
    wanted = {month: fingerprint(zone, boundaries, month, grain) for month in months}
    if _all_fresh(organization_id, wanted, grain):
        return 0
    step = grain.per_transaction
    built = 0
    prices: Any = None  # timereport.KeptPricer, made for the first build
    refused = False
    # Each pass builds a few periods; under constant writes to old ones a pass may find
    # more to do, so the number of passes is bounded and the last one reads what it has.
    for _ in range(len(months) // step + 3):
        with transaction.atomic():
            _lock(organization_id)
            _absorb_marks(organization_id, zone)
            fresh = {
                (month, print_)
                for month, print_ in MonthState.objects.filter(
                    organization_id=organization_id, grain=grain.name, month__in=list(wanted)
                ).values_list("month", "fingerprint")
            }
            todo = sorted(m for m, print_ in wanted.items() if (m, print_) not in fresh)
            if in_request and not built and _leaves_to_worker(organization_id, todo, zone, grain):
                refused = True
                break
            for month in todo[:step]:
                if prices is None:
                    from punchclock.reports.timereport import KeptPricer

                    prices = KeptPricer(organization_id, plan.rate_boundaries)
                _build(organization_id, plan, month, wanted[month], scan, grain, prices)
                built += 1
        if len(todo) <= step:
            break
    if built:
        remember(_stamps_key(organization_id, grain, sorted(wanted)), None)
    if refused:
        # The marks taken above stay taken: their periods' states went with them.
        request_build(organization_id)
        return None
    return built


def request_build(organization_id: int) -> None:
    """Queue the worker's job that builds the organization's kept periods (keep_built),
    unless one already waits, so that it starts within seconds rather than at the next
    hourly tick."""
    from punchclock.automation.tasks import keep_reports, queue_once

    window = f"asked {now():%Y-%m-%dT%H:%M}"
    queue_once(keep_reports, window=window, organizations=[organization_id])


# How much history the worker keeps built (decision 0021): the periods long reports read.
KEEP_MONTHS_BACK = 36
KEEP_WEEKS_BACK = 53
# Whether a report leaves a large build to the worker (decision 0026); tests of what kept
# periods hold turn it off, so that their reports build every period they read.
LIMIT_BUILDS = True


def worker_keeps_from(organization_id: int, zone: str, grain: Grain) -> date | None:
    """The first of the periods that keep_built keeps built (None: none)."""
    from punchclock.reports.query import Scope, TimeFilter, entry_range

    span = entry_range(Scope(organization_id, everyone=True), TimeFilter())
    periods = _worker_periods(span, zone, grain) if span is not None else []
    return periods[0] if periods else None


def _worker_periods(span: tuple[datetime, datetime], zone: str, grain: Grain) -> list[date]:
    """The closed periods keep_built keeps for an organization whose entries span `span`:
    from the first entry's whole period, as reports without a start read (kept_span), the
    last three years of months and the last year of weeks."""
    from punchclock.reports.query import from_period_start

    back = KEEP_WEEKS_BACK if grain is WEEK else KEEP_MONTHS_BACK
    return closed_periods(from_period_start(span, zone, grain), zone, grain)[-back:]


def _leaves_to_worker(organization_id: int, todo: list[date], zone: str, grain: Grain) -> bool:
    """Whether a report should leave these periods to build to the worker: more of them
    than the grain's limit are periods the worker keeps."""
    if not LIMIT_BUILDS:
        return False
    oldest = worker_keeps_from(organization_id, zone, grain)
    if oldest is None:
        return False
    return sum(1 for period in todo if period >= oldest) > grain.in_request


def organizations_due() -> set[int]:
    """Organizations whose kept periods the worker should bring up to date: those with
    marks (entries written since the last build; marks of the running period cost a check
    only), and those with entries but no period built yet (after a migration that dropped
    them, or a first import)."""
    from django.db.models import Exists, OuterRef

    from punchclock.accounts.models import Organization
    from punchclock.tracking.models import TimeEntry

    marked = set(DirtyDay.objects.values_list("organization_id", flat=True).distinct())
    never = (
        Organization.objects.exclude(pk__in=MonthState.objects.values("organization_id").distinct())
        .filter(Exists(TimeEntry.objects.filter(organization_id=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    return marked | set(never)


def keep_built(organization_id: int) -> int:
    """Build what a long report would otherwise build in its request: the organization's
    stale or missing closed months of the last three years and weeks of the last year.
    Returns how many periods were built."""
    from punchclock.accounts.models import Organization
    from punchclock.reports.query import Scope, TimeFilter, _scan, entry_range, from_period_start

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    zone = organization.timezone
    span = entry_range(Scope(organization_id, everyone=True), TimeFilter())
    if span is None:
        with transaction.atomic():  # only marks left (every entry deleted): take them away
            _lock(organization_id)
            _absorb_marks(organization_id, zone)
        return 0
    plan = build_plan(organization_id, zone)
    built = 0
    for grain in (MONTH, WEEK):
        periods = _worker_periods(span, zone, grain)
        if periods:
            built += refresh(organization_id, plan, periods, _scan, grain) or 0  # None: in_request
    history = closed_periods(from_period_start(span, zone, MONTH), zone)
    if spans_history(TimeFilter(), history, MONTH, zone) and not span_fresh(
        organization_id, history
    ):
        built += build_span(organization_id, history)
    return built


def _all_fresh(organization_id: int, wanted: dict[date, str], grain: Grain) -> bool:
    """Whether every wanted period is built with its fingerprint and no mark touches it,
    read without taking the lock: the common case for a report, which then writes
    nothing (on SQLite a write transaction would queue it behind every writer). A UTC
    day's mark touches the local days before and after it; marks elsewhere (the running
    period's, mostly) stay for the next refresh that needs them, or the worker."""
    if not wanted:
        return True
    first, last = min(wanted), max(wanted)
    # One query: the periods' states, none at all while a mark touches them.
    marks = ", ".join(["%s"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.month, s.fingerprint, s.prices FROM reports_monthstate s "
            f"WHERE s.organization_id = %s AND s.grain = %s AND s.month IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM reports_dirtyday d WHERE d.organization_id = %s "
            "AND d.day >= %s AND d.day < %s)",
            [
                organization_id,
                grain.name,
                *wanted,
                organization_id,
                first - timedelta(days=1),
                grain.next(last) + timedelta(days=1),
            ],
        )
        rows = cursor.fetchall()
    if {(as_date(month), print_) for month, print_, _ in rows} != set(wanted.items()):
        return False
    # What unchecked() would read next for the same periods, kept for this page's reports.
    remember(_stamps_key(organization_id, grain, sorted(wanted)), {stamp for *_, stamp in rows})
    return True


def _stamps_key(organization_id: int, grain: Grain, months: list[date]) -> tuple[Any, ...]:
    return ("price stamps", organization_id, grain.name, months[0], months[-1])


def _lock(organization_id: int) -> None:
    # SQLite: the transaction already holds the write lock (IMMEDIATE, or the DELETE below).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, organization_id])


def _absorb_marks(organization_id: int, zone: str) -> None:
    """Turn the triggers' marks (UTC days) into stale months and weeks, and take the marks
    away. (A project's new rounding rule marks the first day of every period it has totals
    in, months and weeks alike: the trigger reads the `month` column of both grains.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM reports_dirtyday WHERE organization_id = %s RETURNING day",
            [organization_id],
        )
        days = {as_date(row[0]) for row in cursor.fetchall()}
    stale: dict[str, set[date]] = {MONTH.name: set(), WEEK.name: set()}
    for day in days:
        # An entry starting on this UTC day starts on one of two local dates.
        first = datetime.combine(day, time.min, tzinfo=UTC)
        for local in (
            local_date(first, zone),
            local_date(first + timedelta(days=1, microseconds=-1), zone),
        ):
            stale[MONTH.name].add(MONTH.first(local))
            stale[WEEK.name].add(WEEK.first(local))
    if days:
        states = MonthState.objects.filter(organization_id=organization_id)
        (
            states.filter(grain=MONTH.name, month__in=stale[MONTH.name])
            | states.filter(grain=WEEK.name, month__in=stale[WEEK.name])
        ).delete()


# The columns _build() writes, in the order of the scan's row (after its period column),
# then the price.
_TOTAL_COLUMNS = (
    "organization_id",
    "grain",
    "month",
    "membership_id",
    "project_id",
    "task_id",
    "period",
    *SUMS,
    "bill_rate",
    "bill_currency",
    "amount_minor",
    "open_amount_minor",
)


def _build(
    organization_id: int,
    plan: Any,
    month: date,
    print_: str,
    scan: Any,
    grain: Grain,
    prices: Any,
) -> None:
    """One period's totals from its entries, by the report's own query (plan: build_plan),
    priced by `prices` (a timereport.KeptPricer)."""
    from punchclock.reports.query import Scope, TimeFilter

    zone = plan.org_zone
    where = TimeFilter(start=start_of_day(month, zone), end=start_of_day(grain.next(month), zone))
    rows = scan(Scope(organization_id, everyone=True), where, replace(plan, by=(grain.name,)))
    # (person, project, task, period, billed, open billed) of each row
    lines = [(row[1], row[2], row[3], row[4], row[7], row[10]) for row in rows]
    priced = prices.price(lines)
    MonthTotal.objects.filter(
        organization_id=organization_id, grain=grain.name, month=month
    ).delete()
    _insert_totals(
        (organization_id, grain.name, month, *row[1:], rate, currency, amount, opened)
        for (rate, currency, amount, opened), row in zip(priced, rows, strict=True)
    )
    MonthState.objects.update_or_create(
        organization_id=organization_id,
        grain=grain.name,
        month=month,
        defaults={"fingerprint": print_, "prices": prices.version},
    )


def _insert_totals(rows: Iterable[tuple[Any, ...]]) -> None:
    """Write kept rows (values in _TOTAL_COLUMNS' order) as plain rows: a month holds
    ~2,400, and model instances through the ORM's insert compiler took longer than the
    scan that found them. PostgreSQL takes them by COPY, SQLite by one prepared insert."""
    columns = ", ".join(_TOTAL_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY reports_monthtotal ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(_TOTAL_COLUMNS))
        cursor.executemany(f"INSERT INTO reports_monthtotal ({columns}) VALUES ({marks})", [*rows])


def _filters(
    scope: Any,
    where: Any,
    plan: Any,
    months: list[date],
    grain: Grain,
    *,
    exactly: bool = False,
) -> tuple[Any, tuple[str, str, str]]:
    """The WHERE clause of a read of kept periods, and the three sums (seconds, billable,
    billed) the report's filters call for: the periods from the first of `months` to the
    last, or with `exactly` those alone."""
    from punchclock.reports.query import Sql, not_covered_sql

    # The open columns stand in for the whole ones when only work not invoiced counts.
    prefix = "c.open_" if where.invoiced is False else "c."
    seconds, billable, billed = (
        f"{prefix}{name}" for name in ("seconds", "billable_seconds", "billed_seconds")
    )
    sums = {
        None: (seconds, billable, billed),
        True: (billable, billable, billed),
        False: (f"{seconds} - {billable}", "0", "0"),
    }[where.billable]
    filters = Sql()
    filters.add("c.organization_id = %s", scope.organization_id)
    filters.add("c.grain = %s", grain.name)
    if exactly:
        filters.extend(f"c.month IN ({', '.join(['%s'] * len(months))})", list(months))
    else:
        filters.add("c.month >= %s", months[0])
        filters.add("c.month <= %s", months[-1])
    # A key with nothing left after the filters is no row of a scan, and no cell here.
    if where.billable is True:
        filters.add(f"{billable} > 0")  # every finished entry lasts a second at least
    elif where.billable is False:
        filters.add(f"{seconds} > {billable}")
    elif where.invoiced is False:
        filters.add(f"{seconds} > 0")
    for covered in where.not_covered:  # whole months, usable() saw to it
        first = local_date(covered.start, plan.org_zone)
        end = local_date(covered.end, plan.org_zone) if covered.end is not None else None
        filters.extend(*not_covered_sql(covered, "c.month", first, end, "c"))
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
    return filters, sums


COLUMNS = {
    "client": ["p.client_id"],
    "project": ["c.project_id"],
    "task": ["c.project_id", "c.task_id"],
    "person": ["c.membership_id"],
    "month": ["c.month"],
    "week": ["c.month"],  # the Monday, in a row of grain "week"
}
# The columns of each index of the kept table after organization and grain, in the
# index's order (reports.models): reads group in it.
INDEX_ORDER = {
    index.name: [f"c.{name}" for name in index.fields[2:]] for index in MonthTotal._meta.indexes
}
# PostgreSQL sums bigints into numeric (Decimal in Python): cast back in the query rather
# than converting a hundred thousand rows in Python.
_total = "CAST(SUM({}) AS BIGINT)".format


def _grouped(
    keys: list[str], sums: list[str], filters: Any, index: str | None = None, more: Any = None
) -> list[tuple[Any, ...]]:
    """Sums per distinct `keys` (each column once in the query, as often as asked in the
    rows); `index` names the covering index SQLite is to read the rows from. `more`: the
    filters of more kept rows to sum in (other periods), each set read through its own
    range of the index and the two grouped as one."""
    from punchclock.reports import query as report_query

    # A column twice in GROUP BY keeps SQLite from reading an index in group order, and
    # PostgreSQL (before 17) groups in the order written: each column once, in the
    # index's order where the index has it.
    unique = list(dict.fromkeys(keys))
    if index in INDEX_ORDER:
        order = INDEX_ORDER[index]
        unique.sort(key=lambda key: order.index(key) if key in order else len(order))
    table = "reports_monthtotal c"
    if index and connection.vendor == "sqlite":
        table += f" INDEXED BY {index}"
    # The project (for its client) only when a column or filter asks for it: a join per
    # kept row costs a third of the read.
    if any(re.search(r"\bp\.", text) for text in (*unique, *filters.parts)):
        table += " JOIN projects_project p ON p.id = c.project_id"
    source, params = f"{table} WHERE {' AND '.join(filters.parts)}", filters.params
    if more is not None:
        # One OR of the two sets is read through a bitmap and sorted to group (24 ms for
        # 8,562 rows at 1,000,000 entries); appended, each is an index range (14 ms).
        source = (
            f"(SELECT c.* FROM {source} UNION ALL "
            f"SELECT c.* FROM {table} WHERE {' AND '.join(more.parts)}) c"
        )
        params = [*params, *more.params]
    query = (
        f"SELECT {', '.join(unique)}, {', '.join(sums)} "
        f"FROM {source} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(unique)))}"
    )
    rows = report_query._fetch(query, params)
    if unique == keys:
        return rows
    pick, width = itemgetter(*(unique.index(key) for key in keys)), len(unique)
    return [pick(row) + row[width:] for row in rows]


def _periods(model: Any, organization_id: int, grain: Grain, months: list[date]) -> Any:
    """The kept rows (MonthTotal) or states (MonthState) of the periods from the first
    to the last of `months`."""
    return model.objects.filter(
        organization_id=organization_id,
        grain=grain.name,
        month__gte=months[0],
        month__lte=months[-1],
    )


def spans_history(where: Any, months: list[date], grain: Grain, zone: str) -> bool:
    """Whether a read of these kept periods is a read of the organization's whole closed
    history, which one kept span answers: months from the first entry's (a filter without
    a start) up to the last closed one, and no retainer windows (they cut months out)."""
    if grain is not MONTH or where.start is not None or where.not_covered:
        return False
    if len(months) < SPAN_MIN_MONTHS:
        return False
    return next_month(months[-1]) == MONTH.first(local_date(now(), zone))


def _span_digest(organization_id: int, months: list[date]) -> tuple[str | None, str | None]:
    """What a span of these months depends on: each month's build (a rebuilt month gets a
    new built_at; a stale one has no state), None while one is missing; and the digest the
    kept span of these months was built with, None when there is none. One read."""
    from django.db.models import Q

    states = list(
        MonthState.objects.filter(organization_id=organization_id)
        .filter(
            Q(grain=MONTH.name, month__gte=months[0], month__lte=months[-1])
            | Q(grain=SPAN.name, month=months[0])
        )
        .order_by("month")
        .values_list("grain", "month", "fingerprint", "built_at")
    )
    built = [state[1:] for state in states if state[0] == MONTH.name]
    span = next((state[2] for state in states if state[0] == SPAN.name), None)
    if [state[0] for state in built] != months:
        return None, span
    text = ";".join(f"{month}|{print_}|{at.isoformat()}" for month, print_, at in built)
    return hashlib.sha256(text.encode()).hexdigest(), span


def span_fresh(organization_id: int, months: list[date]) -> bool:
    """Whether the kept span holds exactly these months as they are built now."""
    digest, span = _span_digest(organization_id, months)
    return digest is not None and digest == span


def build_span(organization_id: int, months: list[date]) -> int:
    """Sum these kept months into the organization's one span, under the build lock (so no
    month is rebuilt in between). Returns 1 when built; 0 when a month was not built, or
    when the span already holds them (another report built it while this one waited)."""
    with transaction.atomic():
        _lock(organization_id)
        digest, span = _span_digest(organization_id, months)
        if digest is None:
            return 0
        if span == digest:
            return 0  # another report built it while this one waited for the lock
        spans = MonthState.objects.filter(organization_id=organization_id, grain=SPAN.name)
        MonthTotal.objects.filter(organization_id=organization_id, grain=SPAN.name).delete()
        spans.delete()
        key = "membership_id, project_id, task_id, period, bill_rate, bill_currency"
        sums = ", ".join(f"SUM({column})" for column in SUMS)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO reports_monthtotal (organization_id, grain, month, "
                f"{key}, {', '.join(SUMS)}, amount_minor, open_amount_minor, first_open) "
                f"SELECT organization_id, %s, %s, {key}, {sums}, 0, 0, "
                "MIN(CASE WHEN open_billable_seconds > 0 THEN month END) "
                "FROM reports_monthtotal WHERE organization_id = %s AND grain = %s "
                f"AND month >= %s AND month <= %s GROUP BY organization_id, {key}",
                [SPAN.name, months[0], organization_id, MONTH.name, months[0], months[-1]],
            )
        MonthState.objects.create(
            organization_id=organization_id, grain=SPAN.name, month=months[0], fingerprint=digest
        )
    return 1


def _spanned(
    organization_id: int, where: Any, months: list[date], grain: Grain, zone: str
) -> tuple[list[date], Grain]:
    """The periods and grain a read of `months` should take: the kept span when it answers
    them (built here when missing or stale, from the months the report just refreshed),
    else the months themselves."""
    if not KEEP_SPANS or not spans_history(where, months, grain, zone):
        return months, grain
    if not span_fresh(organization_id, months):
        build_span(organization_id, months)
        if not span_fresh(organization_id, months):
            return months, grain
    return [months[0]], SPAN


def read(
    scope: Any,
    where: Any,
    plan: Any,
    months: list[date],
    grain: Grain = MONTH,
) -> list[tuple[Any, ...]]:
    """The rows a scan of those periods would give, from their totals (from the kept span
    when they are the whole closed history)."""
    if not any(name in plan.by for name in ("month", "week")):
        months, grain = _spanned(scope.organization_id, where, months, grain, plan.org_zone)
    keys = [column for name in plan.by for column in COLUMNS[name]]
    if plan.pricing:
        keys += ["c.membership_id", "c.project_id", "c.task_id", "c.period"]
    filters, sums = _filters(scope, where, plan, months, grain)
    billed = _total(sums[2]) if plan.billed else "0"
    return _grouped(keys, [_total(sums[0]), _total(sums[1]), billed], filters, _index(where, None))


def first_periods(
    scope: Any, where: Any, plan: Any, months: list[date], grain: Grain = MONTH
) -> list[tuple[int, Any]]:
    """(project, first day of its earliest period) among those periods' rows that the
    filters keep: where each project's oldest counted time lies."""
    filters, _sums = _filters(scope, where, plan, months, grain)
    return _grouped(["c.project_id"], ["MIN(c.month)"], filters, _index(where, None))


def read_weeks_of_month(
    scope: Any, where: Any, plan: Any, weeks: list[date], month: date
) -> list[tuple[Any, ...]]:
    """read() of kept weeks that all lie in one month, for a priced report on months
    (its rows always hold the pricing keys): the month column, where a week row holds
    its Monday, is that month's first day."""
    if "month" not in plan.by:
        return read(scope, where, plan, weeks, WEEK)
    at = sum(len(COLUMNS[name]) for name in plan.by[: plan.by.index("month")])
    rest = tuple(name for name in plan.by if name != "month")
    rows = read(scope, where, replace(plan, by=rest), weeks, WEEK)
    return [(*row[:at], month, *row[at:]) for row in rows]


def fresh(organization_id: int, plan: Any, periods: list[date], grain: Grain) -> bool:
    """Whether those periods are all built with build_plan()'s `plan` and unmarked (read
    without the lock; nothing is built)."""
    wanted = {p: fingerprint(plan.org_zone, plan.rate_boundaries, p, grain) for p in periods}
    return _all_fresh(organization_id, wanted, grain)


def _index(where: Any, name: str | None) -> str | None:
    """The index SQLite is to read kept rows from: billable work not invoiced through the
    partial index of open time (once an agency bills monthly, only its last months hold
    such rows); other work not invoiced as the planner likes; the rest through `name`."""
    if where.invoiced is False:
        return "month_total_open" if where.billable is True else None
    return name


def read_lines(
    scope: Any,
    where: Any,
    plan: Any,
    months: list[date],
    grain: Grain,
    *,
    unpriced: bool = False,
    first: bool = False,
    weeks: Sequence[date] = (),
) -> list[tuple[Any, ...]]:
    """Rows of (person, project, task, bill rate, bill currency, billed, billable,
    seconds) from kept periods: the sums per line across the periods, read from the index
    kept in that order. (Rate periods with one rate are one line, as on an invoice.)
    `unpriced`: only the rows no bill rate priced. `first`: each row ends with the first
    day of the earliest period that holds some of the line (what first_periods() finds,
    from the same read), or None when only `weeks` hold it. `weeks`: kept weeks outside
    those periods (an edge's, in the running month) whose lines are summed in too."""
    keys = ["c.membership_id", "c.project_id", "c.task_id", "c.bill_rate", "c.bill_currency"]
    # A span's first month of open billable time answers `first` for unbilled work alone.
    if not first or (where.billable is True and where.invoiced is False):
        months, grain = _spanned(scope.organization_id, where, months, grain, plan.org_zone)
    filters, sums = _filters(scope, where, plan, months, grain)
    more = _filters(scope, where, plan, list(weeks), WEEK, exactly=True)[0] if weeks else None
    index = "month_total_by_key"
    if unpriced:
        # Few rows, found by period: the line index holds the periods after the lines.
        filters.add("c.bill_rate IS NULL")
        if more is not None:
            more.add("c.bill_rate IS NULL")
        index = "month_total_by_period"
    sql = [_total(sums[2]), _total(sums[1]), _total(sums[0])]
    if first:
        day = "c.first_open" if grain is SPAN else "c.month"
        if weeks:
            day = f"CASE WHEN c.grain = '{grain.name}' THEN {day} END"
        sql.append(f"MIN({day})")
    return _grouped(keys, sql, filters, _index(where, index), more)


def read_rates(organization_id: int, months: list[date], grain: Grain) -> list[tuple[Any, ...]]:
    """(person, project, task, rate period, bill rate, bill currency) of every pricing key
    of those kept periods, with the rate and currency it was priced with."""
    from punchclock.reports.query import Sql

    filters = Sql()
    filters.add("c.organization_id = %s", organization_id)
    filters.add("c.grain = %s", grain.name)
    filters.add("c.month >= %s", months[0])
    filters.add("c.month <= %s", months[-1])
    keys = ["c.membership_id", "c.project_id", "c.task_id", "c.bill_rate", "c.bill_currency"]
    rows = _grouped([*keys, "c.period"], ["COUNT(*)"], filters, "month_total_by_key")
    return [(*row[:3], row[5], row[3], row[4]) for row in rows]


def unchecked(organization_id: int, grain: Grain, months: list[date], version: str) -> bool:
    """Whether some of those periods' amounts were priced or checked with other prices
    (their stamps as the freshness check just read them, when it did in this page)."""
    stamps = recalled(_stamps_key(organization_id, grain, months))
    if stamps is not None:
        return stamps != {version}
    return _periods(MonthState, organization_id, grain, months).exclude(prices=version).exists()


def checked(organization_id: int, grain: Grain, months: list[date], version: str) -> None:
    """Those periods' amounts hold with these prices (pricing_version, taken before the
    rates that were compared were read)."""
    _periods(MonthState, organization_id, grain, months).update(prices=version)
    remember(_stamps_key(organization_id, grain, months), {version})


def client_as_project(plan: Any, months: list[date]) -> bool:
    """Whether read_amounts() gives the project in the client's column: over several
    periods, where a join per kept row to find the project's client cost a third of the
    read (12 months at 1,000,000 entries: 31.9 ms with the join, 19.4 ms without, for
    7,799 rows instead of 6,928; the caller knows each project's client). A single
    period's read is small, and its extra rows cost more than the join (11.1 against
    12.4 ms for last month by client and person)."""
    return "client" in plan.by and len(months) > 1


def read_amounts(
    scope: Any, where: Any, plan: Any, months: list[date], grain: Grain
) -> list[tuple[Any, ...]]:
    """Rows of (dimension keys..., person, rate period, bill currency, seconds, billable,
    billed, amount in minor units) from kept periods, for a report grouped by the
    periods themselves: its lines are the kept lines, so their amounts add up as they are.
    (Person and rate period stay apart for costs, which are rounded per person.)

    Over several periods a grouping by client reads the project in the client's place
    (client_as_project)."""
    through_project = client_as_project(plan, months)
    keys = [
        column
        for name in plan.by
        for column in (["c.project_id"] if name == "client" and through_project else COLUMNS[name])
    ]
    keys += ["c.membership_id", "c.period", "c.bill_currency"]
    filters, sums = _filters(scope, where, plan, months, grain)
    amount = "c.open_amount_minor" if where.invoiced is False else "c.amount_minor"
    if where.billable is False:
        amount = "0"
    sql = [*(_total(column) for column in sums), _total(amount)]
    return _grouped(keys, sql, filters, _index(where, "month_total_by_period"))


def forget(organization_id: int, grain: Grain, months: list[date], projects: set[int]) -> None:
    """Make the periods in which these projects have kept rows stale (their rates changed)."""
    with transaction.atomic():
        _lock(organization_id)
        stale = set(
            _periods(MonthTotal, organization_id, grain, months)
            .filter(project_id__in=projects)
            .values_list("month", flat=True)
            .distinct()
        )
        MonthState.objects.filter(
            organization_id=organization_id, grain=grain.name, month__in=stale
        ).delete()
    remember(_stamps_key(organization_id, grain, months), None)
