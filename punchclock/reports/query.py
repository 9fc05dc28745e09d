# ruff: noqa: S608 - the SQL is built from fixed fragments; every value is a parameter.
"""The time report's SQL: one grouped scan of the entries, written for SQLite and PostgreSQL.

The ORM cannot say "local day of a UTC instant without a per-row Python function" on
SQLite, nor the two-level sum that per-day rounding needs, so this module writes the SQL
itself; every value is a parameter and every query is bounded by the organization.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import connection

from punchclock.accounts.models import Membership
from punchclock.core.timeutil import local_date, start_of_day
from punchclock.projects.models import HOURLY_METHODS, RoundingScope
from punchclock.reports.timecut import Dialect, Offsets, as_instant, offsets

# SQLite's planner, once ANALYZE has run, prefers a skip-scan of entry_project_start for a
# period (it then reads the table row by row, 3x slower at a million entries); the covering
# index answers the report without touching the table. PostgreSQL picks it by itself.
SQLITE_INDEX: str | None = "entry_report_cover"
# A filter on projects reads one range per project of the project-led covering index: never
# more entries than the organization-led one, and for all history (budgets) only those
# projects' entries instead of the organization's every one. PostgreSQL, again, picks it.
SQLITE_PROJECT_INDEX = "entry_project_report_cover"
# Whether long reports read closed months from their kept totals (reports.monthly); the
# benchmark turns it off to time the scan, tests to compare both.
KEEP_MONTHS = True
# Billable work not on an issued invoice has its own partial covering index: the unbilled
# card reads the whole history, and this index holds only the part not billed yet.
SQLITE_UNBILLED_INDEX: str | None = "entry_unbilled_cover"

DIMENSIONS = ("client", "project", "task", "person", "tag", "day", "week", "month")
TIME_DIMENSIONS = ("day", "week", "month")


@dataclass(frozen=True)
class Covered:
    """Time a retainer covers, which only its closes bill (automation.coverage): billable
    or not, the entries of a client's hourly projects (or of one project) from `start`,
    until `end` when the retainer ends."""

    client: int
    start: datetime
    end: datetime | None = None
    project: int | None = None


@dataclass(frozen=True)
class TimeFilter:
    """Which finished entries a report counts; empty tuples and None mean "any"."""

    start: datetime | None = None
    end: datetime | None = None
    clients: tuple[int, ...] = ()
    projects: tuple[int, ...] = ()
    tasks: tuple[int, ...] = ()
    people: tuple[int, ...] = ()
    tags: tuple[int, ...] = ()
    billable: bool | None = None
    invoiced: bool | None = None
    approved: bool | None = None
    # Leave out time that retainers cover (the unbilled views: a draft cannot take it).
    not_covered: tuple[Covered, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Whose entries the viewer may read: everything, or their own plus managed projects."""

    organization_id: int
    everyone: bool
    own: int | None = None
    managed: tuple[int, ...] = ()


@dataclass
class Sql:
    """A WHERE clause (or any fragment) and its parameters, built up piece by piece."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: Any) -> None:
        self.parts.append(text)
        self.params.extend(params)

    def extend(self, text: str, params: list[Any]) -> None:
        self.parts.append(text)
        self.params.extend(params)


def entries_table(where: TimeFilter | None = None) -> str:
    if connection.vendor != "sqlite" or not SQLITE_INDEX:
        return "tracking_timeentry e"
    index = SQLITE_INDEX
    if where is not None and unbilled_only(where) and SQLITE_UNBILLED_INDEX:
        index = SQLITE_UNBILLED_INDEX
    elif where is not None and where.projects:
        index = SQLITE_PROJECT_INDEX
    return f"tracking_timeentry e INDEXED BY {index}"


def unbilled_only(where: TimeFilter) -> bool:
    """Whether the filter keeps only rows of entry_unbilled_cover (billable, not invoiced)."""
    return where.billable is True and where.invoiced is False


def _is(column: str, value: bool) -> str:
    """A boolean test spelled as the partial index's condition spells it, per vendor.

    A literal, not a parameter: SQLite uses a partial index only when the query's WHERE
    contains the index's terms as Django wrote them ("invoiced" = 0 on SQLite, NOT
    "invoiced" on PostgreSQL)."""
    if connection.vendor == "sqlite":
        return f"{column} = {int(value)}"
    return column if value else f"NOT {column}"


def dialect() -> Dialect:
    ops = connection.ops
    return Dialect(connection.vendor, ops.adapt_datetimefield_value)


def _in(column: str, ids: tuple[int, ...]) -> tuple[str, list[int]]:
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


# A report, and a page made of several (budgets, the dashboard's cards), reads the
# organization's report settings once: inside `read_once()`, shared() keeps what each
# lookup found (the kept periods' builds ask for them again).
_SHARED: ContextVar[dict[Any, Any] | None] = ContextVar("reports_shared", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within it, the lookups every report of a page repeats (the rate book and rate
    periods, the day-rounding rule, the first and last entry) are read once. Reports only
    read: nothing they look up here changes while a page is being made of them."""
    if _SHARED.get() is not None:  # a page's report inside another's: one memo
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared[T](key: tuple[Any, ...], read: Callable[[], T]) -> T:
    """read(), or what it gave earlier inside the same read_once()."""
    memo = _SHARED.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return cast(T, memo[key])


def remember(key: tuple[Any, ...], value: Any) -> None:
    """Keep (or, with None, forget) what a lookup found, for shared() and recalled()
    inside the same read_once(); nothing outside one."""
    memo = _SHARED.get()
    if memo is not None:
        if value is None:
            memo.pop(key, None)
        else:
            memo[key] = value


def recalled(key: tuple[Any, ...]) -> Any:
    """What remember() kept under `key` inside this read_once(), or None."""
    memo = _SHARED.get()
    return None if memo is None else memo.get(key)


def entry_range(scope: Scope, where: TimeFilter) -> tuple[datetime, datetime] | None:
    """The filter's bounds, or the span of the organization's entries when it has none."""
    if where.start is not None and where.end is not None:
        return where.start, where.end
    # Two probes at the ends of an (organization, start) index, in one statement: SQLite
    # answers MIN and MAX together by reading every entry of the organization (0.35 s at
    # a million), but each alone, or a LIMIT 1 in order, from the index's ends.
    probe = (
        "(SELECT start FROM tracking_timeentry WHERE organization_id = %s "
        "ORDER BY start {} LIMIT 1)"
    )

    def ends() -> tuple[Any, Any]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {probe.format('ASC')}, {probe.format('DESC')}",
                [scope.organization_id] * 2,
            )
            return cursor.fetchone()

    first, last = shared(("entry range", scope.organization_id), ends)
    if first is None or last is None:
        return None
    return where.start or as_instant(first), where.end or as_instant(last) + timedelta(seconds=1)


def kept_span(
    scope: Scope, where: TimeFilter, zone: str, grain: Any
) -> tuple[datetime, datetime] | None:
    """entry_range() as kept periods see it: without a start in the filter, from the first
    day of the period that holds the organization's first entry. No entry lies before that
    one, so that whole period is the range's own: its kept totals answer it, where the
    bare range would leave its last days to a scan (every unbilled and all-time report)."""
    span = entry_range(scope, where)
    if span is None or where.start is not None:
        return span
    return from_period_start(span, zone, grain)


def from_period_start(
    span: tuple[datetime, datetime], zone: str, grain: Any
) -> tuple[datetime, datetime]:
    """The span, begun at the start of the local period (month or week) it starts in."""
    first = start_of_day(grain.first(local_date(span[0], zone)), zone)
    return min(first, span[0]), span[1]


def where_clause(scope: Scope, where: TimeFilter, org_cut: Offsets, sql: Dialect) -> Sql:
    """The conditions every report query shares: tenancy, role, filters."""
    out = Sql()
    out.add("e.organization_id = %s", scope.organization_id)
    # duration_seconds is set exactly when the entry has ended (a check constraint), and
    # unlike "end" it is in the covering index.
    out.add("e.duration_seconds IS NOT NULL")
    if not scope.everyone:
        if scope.managed:
            managed, ids = _in("e.project_id", scope.managed)
            out.extend(f"(e.membership_id = %s OR {managed})", [scope.own, *ids])
        else:
            out.add("e.membership_id = %s", scope.own)
    if where.start is not None:
        out.add("e.start >= %s", sql.adapt(where.start))
    if where.end is not None:
        out.add("e.start < %s", sql.adapt(where.end))
    for column, chosen in (
        ("p.client_id", where.clients),
        ("e.project_id", where.projects),
        ("e.task_id", where.tasks),
        ("e.membership_id", where.people),
    ):
        if chosen:
            out.extend(*_in(column, chosen))
    if where.tags:
        tags, ids = _in("et.tag_id", where.tags)
        out.extend(
            f"EXISTS (SELECT 1 FROM tracking_timeentry_tags et WHERE et.timeentry_id = e.id "
            f"AND {tags})",
            ids,
        )
    if where.billable is not None:
        out.add(_is("e.billable", where.billable))
    if where.invoiced is not None:
        # On an issued invoice: the invoicing services keep the flag in step with the
        # billed rows of issued invoices (tests/invoicing/test_entry_invoiced_flag.py).
        out.add(_is("e.invoiced", where.invoiced))
    for covered in where.not_covered:
        end = sql.adapt(covered.end) if covered.end is not None else None
        out.extend(*not_covered_sql(covered, "e.start", sql.adapt(covered.start), end, "e"))
    if where.approved is not None:
        # Timesheets cover local days of the organization's zone (as locking does).
        day, params = sql.local("e.start", org_cut, "day")
        exists = (
            "EXISTS (SELECT 1 FROM tracking_timesheet ts WHERE ts.membership_id = e.membership_id "
            f"AND ts.status = 'approved' AND ts.period_start <= {day} AND ts.period_end >= {day})"
        )
        out.extend(exists if where.approved else f"NOT {exists}", params + params)
    return out


def not_covered_sql(
    covered: Covered, column: str, start: Any, end: Any, table: str
) -> tuple[str, list[Any]]:
    """NOT (a retainer covers this row): the client's hourly projects (or its one project)
    with `column` in [start, end); `table` is the alias holding project_id. Entries give
    instants, kept months their first days."""
    terms = Sql()
    terms.add("p.client_id = %s", covered.client)
    terms.add(f"p.billing_method IN ({', '.join(['%s'] * len(HOURLY_METHODS))})", *HOURLY_METHODS)
    terms.add(f"{column} >= %s", start)
    if end is not None:
        terms.add(f"{column} < %s", end)
    if covered.project is not None:
        terms.add(f"{table}.project_id = %s", covered.project)
    return f"NOT ({' AND '.join(terms.parts)})", terms.params


def billed_sql(seconds: str) -> str:
    """The project's rounding rule on a number of seconds, in integer SQL.

    Same result as invoicing.services.billed_seconds: up = ceiling, down = floor, nearest =
    half up (a step is a whole number of minutes, so half a step is whole seconds)."""
    step = "(p.rounding_minutes * 60)"
    return (
        f"CASE WHEN p.rounding_minutes = 0 THEN {seconds} "
        f"WHEN p.rounding_direction = 'up' THEN (({seconds} + {step} - 1) / {step}) * {step} "
        f"WHEN p.rounding_direction = 'down' THEN ({seconds} / {step}) * {step} "
        f"ELSE (({seconds} + {step} / 2) / {step}) * {step} END"
    )


@dataclass
class Plan:
    """What to group by; `pricing` adds the columns that decide a rate."""

    by: tuple[str, ...]
    pricing: bool
    rate_boundaries: list[datetime]
    viewer_zone: str
    org_zone: str
    day_rounding: bool  # some project rounds a person's day per task
    billed: bool = True  # False: hours only (a chart), billed seconds read as 0
    # Kept totals' builds: three more sums over the entries not on an issued invoice.
    open_sums: bool = False


@dataclass(frozen=True)
class ProjectFacts:
    """What reports need of one project: pricing (client, currency, billing method),
    labels (client and project code and name) and the day-rounding rule."""

    client_id: int
    currency: str
    method: str
    client_code: str
    client_name: str
    code: str
    name: str
    hourly: bool
    rounds_days: bool

    @property
    def full_code(self) -> str:
        """The "client/code" form, as Project.full_code gives it."""
        return f"{self.client_code}/{self.code}"


def org_projects(organization_id: int, needed: Iterable[int] = ()) -> dict[int, ProjectFacts]:
    """Every project of the organization, by id, read once per read_once() in one plain
    query: the rounding rule, the pricing digest, the pricer and the labels all take it
    from here (they read the projects three times over before). `needed`: ids it must
    hold; one made since the page's read (its entries found by a later query) is read
    then, and kept with the others."""
    known = shared(("projects", organization_id), lambda: _read_projects(organization_id))
    newer = set(needed) - known.keys()
    if newer:
        known.update(_read_projects(organization_id, newer))
    return known


def _read_projects(organization_id: int, ids: set[int] | None = None) -> dict[int, ProjectFacts]:
    only = f" AND p.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.client_id, c.currency, p.billing_method, c.code, c.name, "
            "p.code, p.name, p.rounding_minutes, p.rounding_scope "
            "FROM projects_project p JOIN clients_client c ON c.id = p.client_id "
            f"WHERE p.organization_id = %s{only} ORDER BY p.id",
            [organization_id, *sorted(ids or ())],
        )
        rows = cursor.fetchall()
    return {
        row[0]: ProjectFacts(
            client_id=row[1],
            currency=row[2],
            method=row[3],
            client_code=row[4],
            client_name=row[5],
            code=row[6],
            name=row[7],
            hourly=row[3] in HOURLY_METHODS,
            rounds_days=row[8] > 0 and row[9] == RoundingScope.DAY_TASK,
        )
        for row in rows
    }


@dataclass(frozen=True)
class PersonFacts:
    """What reports need of one membership: a name to show and the weekly capacity."""

    name: str
    weekly_capacity: Decimal
    active: bool


def org_people(organization_id: int) -> dict[int, PersonFacts]:
    """Every membership of the organization, by id, ordered by name, read once per
    read_once() (labels and utilisation read them both)."""
    from punchclock.accounts.models import User

    def read() -> dict[int, PersonFacts]:
        rows = (
            Membership.objects.filter(organization_id=organization_id)
            .order_by("user__name", "pk")
            .values_list("pk", "user__name", "user__email", "weekly_capacity_hours", "is_active")
        )
        return {
            pk: PersonFacts(User.display_name_of(name, email), capacity or Decimal(0), active)
            for pk, name, email, capacity, active in rows
        }

    return shared(("people", organization_id), read)


def rounds_days(organization_id: int) -> bool:
    """Whether some project of the organization rounds a person's day per task (the scan
    then needs its second, per-day query)."""
    return any(facts.rounds_days for facts in org_projects(organization_id).values())


def _dimension(name: str, viewer_cut: Offsets, sql: Dialect) -> tuple[list[str], list[Any]]:
    """Columns (with their parameters) that key one grouping."""
    match name:
        case "client":
            return ["p.client_id"], []
        case "project":
            return ["e.project_id"], []
        case "task":
            return ["e.project_id", "e.task_id"], []
        case "person":
            return ["e.membership_id"], []
        case "tag":
            return ["et.tag_id"], []
        case _:
            expression, params = sql.local("e.start", viewer_cut, name)
            return [expression], params


@dataclass(frozen=True)
class KeptPart:
    """The whole closed periods of a report's range that kept totals answer (brought up to
    date), and the range itself."""

    grain: Any  # monthly.Grain
    months: list[date]  # the periods' first days
    span: tuple[datetime, datetime]


def kept_part(scope: Scope, where: TimeFilter, plan: Plan) -> KeptPart | None:
    """Which periods of this report come from kept totals, after refreshing them; None when
    the report scans everything."""
    from punchclock.reports import monthly

    grain = monthly.usable(where, plan) if KEEP_MONTHS else None
    if grain is None:
        return None
    span = kept_span(scope, where, plan.org_zone, grain)
    if span is None:
        return None
    months = monthly.closed_periods(span, plan.org_zone, grain)
    build = monthly.build_plan(scope.organization_id, plan.org_zone, known=plan)
    if not months or (plan.pricing and plan.rate_boundaries != build.rate_boundaries):
        return None
    if monthly.refresh(scope.organization_id, build, months, _scan, grain, in_request=True) is None:
        return None  # too many to build here: the worker builds them, this report scans
    return KeptPart(grain, months, span)


def whole_months(scope: Scope, where: TimeFilter, plan: Plan) -> KeptPart | None:
    """The kept months (brought up to date) when the report's range is exactly whole
    closed months that kept months can answer; else None."""
    from punchclock.reports import monthly

    by_month = dataclasses.replace(plan, by=("month",))
    if not KEEP_MONTHS or monthly.usable(where, by_month) is not monthly.MONTH:
        return None
    span = kept_span(scope, where, plan.org_zone, monthly.MONTH)
    if span is None:
        return None
    months = monthly.closed_periods(span, plan.org_zone)
    part = KeptPart(monthly.MONTH, months, span) if months else None
    if part is None or has_edges(part, plan):
        return None
    build = monthly.build_plan(scope.organization_id, plan.org_zone, known=plan)
    if plan.pricing and plan.rate_boundaries != build.rate_boundaries:
        return None
    if monthly.refresh(scope.organization_id, build, months, _scan, in_request=True) is None:
        return None
    return part


def _edges(part: KeptPart, plan: Plan) -> list[tuple[datetime, datetime]]:
    """The parts of the range before and after the kept periods, where there are any."""
    first = start_of_day(part.months[0], plan.org_zone)
    after = start_of_day(part.grain.next(part.months[-1]), plan.org_zone)
    spans = [(part.span[0], first), (after, part.span[1])]
    return [(start, end) for start, end in spans if start < end]


def has_edges(part: KeptPart, plan: Plan) -> bool:
    """Whether the range reaches outside its kept periods."""
    return bool(_edges(part, plan))


@dataclass(frozen=True)
class Edge:
    """A part of a report's range outside its kept periods, and the whole closed weeks in
    it that are kept and fresh (read from their totals; the rest of the edge is scanned)."""

    start: datetime
    end: datetime
    weeks: tuple[date, ...] = ()


def edges_of(scope: Scope, where: TimeFilter, plan: Plan, part: KeptPart) -> list[Edge]:
    return [
        Edge(start, end, _edge_weeks(scope, where, plan, part, start, end))
        for start, end in _edges(part, plan)
    ]


def edge_rows(
    scope: Scope,
    where: TimeFilter,
    plan: Plan,
    part: KeptPart,
    edges: list[Edge] | None = None,
    *,
    weeks: bool = True,
) -> list[tuple[Any, ...]]:
    """aggregate()'s rows of the range outside the kept periods: scanned, except the
    closed weeks inside a month's edge (the running month's, mostly) that are already
    kept and fresh. `weeks=False`: the caller reads those weeks itself (as lines,
    timereport), so only the days around them are scanned here."""
    from punchclock.reports import monthly

    rows: list[tuple[Any, ...]] = []
    for edge in edges_of(scope, where, plan, part) if edges is None else edges:
        if not edge.weeks:
            rows += _scan(scope, dataclasses.replace(where, start=edge.start, end=edge.end), plan)
            continue
        if weeks:
            month = monthly.MONTH.first(local_date(edge.start, plan.org_zone))
            rows += monthly.read_weeks_of_month(scope, where, plan, list(edge.weeks), month)
        first = start_of_day(edge.weeks[0], plan.org_zone)
        after = start_of_day(monthly.WEEK.next(edge.weeks[-1]), plan.org_zone)
        for low, high in ((edge.start, first), (after, edge.end)):
            if low < high:
                rows += _scan(scope, dataclasses.replace(where, start=low, end=high), plan)
    return rows


def _edge_weeks(
    scope: Scope, where: TimeFilter, plan: Plan, part: KeptPart, start: datetime, end: datetime
) -> tuple[date, ...]:
    """One edge of a priced report on kept months: its whole closed weeks when every one is
    kept and unmarked (never built here: a report should not pay for weeks the worker
    keeps); none when the edge is to be scanned whole."""
    from punchclock.reports import monthly

    week = monthly.WEEK
    # Priced reports only: their scan is the costly one (rate periods, and a second pass
    # for per-day rounding); an hours-only scan of a few weeks is as cheap as the kept
    # weeks and their checks (measured: 0022).
    if not (part.grain is monthly.MONTH and KEEP_MONTHS and plan.pricing):
        return ()
    weeks = monthly.closed_periods((start, end), plan.org_zone, week)
    # An edge is part of one month: its whole weeks too, so a report by month puts them
    # all in that month's cell.
    month = monthly.MONTH.first(local_date(start, plan.org_zone))
    if not weeks or monthly.MONTH.first(weeks[-1] + timedelta(days=6)) != month:
        return ()
    if monthly.usable(where, dataclasses.replace(plan, by=("week",))) is None:
        return ()
    build = monthly.build_plan(scope.organization_id, plan.org_zone, known=plan)
    if plan.rate_boundaries != build.rate_boundaries:
        return ()
    if not monthly.fresh(scope.organization_id, build, weeks, week):
        return ()
    return tuple(weeks)


_UNKNOWN: Any = object()


def aggregate(
    scope: Scope, where: TimeFilter, plan: Plan, *, part: Any = _UNKNOWN
) -> list[tuple[Any, ...]]:
    """Rows of (dimension keys..., [person, project, task, rate period], seconds, billable,
    billed), per group; the pricing columns only when the plan prices. A key may come in
    more than one row (kept months and the scanned rest): callers add rows up.

    Whole months (or, by week, weeks) that have ended are read from their kept totals when
    the report allows (reports.monthly); the rest of the range is scanned. `part`: what
    kept_part() already gave for this plan, when a caller asked it first."""
    from punchclock.reports import monthly

    if part is _UNKNOWN:
        part = kept_part(scope, where, plan)
    if part is None:
        return _scan(scope, where, plan)
    rows = monthly.read(scope, where, plan, part.months, part.grain)
    return rows + edge_rows(scope, where, plan, part)


def _scan(scope: Scope, where: TimeFilter, plan: Plan) -> list[tuple[Any, ...]]:
    """aggregate() over the entries themselves."""
    span = entry_range(scope, where)
    if span is None:
        return []
    sql = dialect()
    viewer_cut = offsets(plan.viewer_zone, *span)
    org_cut = offsets(plan.org_zone, *span)
    keys: list[str] = []
    key_params: list[Any] = []
    for name in plan.by:
        columns, params = _dimension(name, viewer_cut, sql)
        keys += columns
        key_params += params
    if plan.pricing:
        period = "0"
        period_params: list[Any] = []
        if plan.rate_boundaries:
            whens = []
            for index in range(len(plan.rate_boundaries), 0, -1):
                whens.append(f"WHEN e.start >= %s THEN {index}")
                period_params.append(sql.adapt(plan.rate_boundaries[index - 1]))
            period = f"CASE {' '.join(whens)} ELSE 0 END"
        keys += ["e.membership_id", "e.project_id", "e.task_id", period]
        key_params += period_params
    filters = where_clause(scope, where, org_cut, sql)
    joins = "JOIN projects_project p ON p.id = e.project_id"
    if "tag" in plan.by:
        joins += " LEFT JOIN tracking_timeentry_tags et ON et.timeentry_id = e.id"
    where_sql = " AND ".join(filters.parts)
    billable = "CASE WHEN e.billable THEN e.duration_seconds ELSE 0 END"
    billed = f"CASE WHEN e.billable THEN {billed_sql('e.duration_seconds')} ELSE 0 END"
    if not plan.billed:
        billed = "0"
    opened = ""
    if plan.open_sums:
        still = "NOT e.invoiced"
        opened = (
            f", SUM(CASE WHEN {still} THEN e.duration_seconds ELSE 0 END), "
            f"SUM(CASE WHEN e.billable AND {still} THEN e.duration_seconds ELSE 0 END), "
            f"SUM(CASE WHEN e.billable AND {still} THEN {billed_sql('e.duration_seconds')} "
            "ELSE 0 END)"
        )
    # Column positions, not names, in GROUP BY: the CASE expressions carry parameters and
    # PostgreSQL needs grouped expressions to match the selected ones parameter for parameter.
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    single = (
        f"SELECT {', '.join(keys)}, SUM(e.duration_seconds), SUM({billable}), "
        f"SUM({billed}){opened} FROM {entries_table(where)} {joins} WHERE {where_sql}"
    )
    if not plan.day_rounding or not plan.billed:
        return _fetch(f"{single} GROUP BY {positions}", key_params + filters.params)
    # A person's day on a task is rounded as one sum on projects that say so. Their entries
    # are summed per local day first, rounded, then added up; every other project's entries
    # take the one-level query. Two scans of the same index range cost less than grouping
    # every entry by day.
    day_task = f"(p.rounding_scope = '{RoundingScope.DAY_TASK}' AND p.rounding_minutes > 0)"
    rows = _fetch(f"{single} AND NOT {day_task} GROUP BY {positions}", key_params + filters.params)
    day, day_params = sql.local("e.start", org_cut, "day")
    open_inner = ""
    if plan.open_sums:
        open_inner = (
            ", SUM(CASE WHEN NOT e.invoiced THEN e.duration_seconds ELSE 0 END) AS os, "
            "SUM(CASE WHEN e.billable AND NOT e.invoiced THEN e.duration_seconds ELSE 0 END) AS ob"
        )
    inner_keys = [*keys, day, "p.rounding_minutes", "p.rounding_direction"]
    n = len(keys)
    inner = (
        f"SELECT {', '.join(f'{k} AS c{i}' for i, k in enumerate(inner_keys))}, "
        f"SUM(e.duration_seconds) AS s, SUM({billable}) AS b{open_inner} "
        f"FROM {entries_table(where)} {joins} WHERE {where_sql} AND {day_task} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(inner_keys)))}, "
        "e.project_id, e.task_id, e.membership_id"
    )
    rounded = billed_sql("g.b").replace("p.rounding_minutes", f"g.c{n + 1}")
    rounded = rounded.replace("p.rounding_direction", f"g.c{n + 2}")
    outer_keys = [f"g.c{i}" for i in range(n)]
    opened = ""
    if plan.open_sums:
        # Per-day rounding of the open part alone, as a scan filtered on it would round.
        open_rounded = rounded.replace("g.b", "g.ob")
        opened = (
            ", CAST(SUM(g.os) AS BIGINT), CAST(SUM(g.ob) AS BIGINT), "
            f"CAST(SUM({open_rounded}) AS BIGINT)"
        )
    query = (
        # PostgreSQL sums bigints into numeric; the casts keep every figure an int.
        f"SELECT {', '.join(outer_keys)}, CAST(SUM(g.s) AS BIGINT), CAST(SUM(g.b) AS BIGINT), "
        f"CAST(SUM({rounded}) AS BIGINT){opened} "
        f"FROM ({inner}) g GROUP BY {', '.join(outer_keys)}"
    )
    return rows + _fetch(query, key_params + day_params + filters.params)


def _fetch(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def entry_ids(
    scope: Scope,
    where: TimeFilter,
    *,
    org_zone: str,
    tag: int | bool | None = False,
    no_task: bool = False,
    limit: int,
    offset: int,
) -> tuple[list[int], int]:
    """One page of the ids of the entries a filter counts (newest first), and their number.

    `tag` False means any; None means entries without a tag; an id means that tag."""
    span = entry_range(scope, where)
    if span is None:
        return [], 0
    sql = dialect()
    filters = where_clause(scope, where, offsets(org_zone, *span), sql)
    if tag is None:
        filters.add(
            "NOT EXISTS (SELECT 1 FROM tracking_timeentry_tags et WHERE et.timeentry_id = e.id)"
        )
    elif tag is not False:
        filters.add(
            "EXISTS (SELECT 1 FROM tracking_timeentry_tags et WHERE et.timeentry_id = e.id "
            "AND et.tag_id = %s)",
            tag,
        )
    if no_task:
        filters.add("e.task_id IS NULL")
    base = (
        f"FROM {entries_table(where)} JOIN projects_project p ON p.id = e.project_id "
        f"WHERE {' AND '.join(filters.parts)}"
    )
    count = _fetch(f"SELECT COUNT(*) {base}", filters.params)[0][0]
    rows = _fetch(
        f"SELECT e.id {base} ORDER BY e.start DESC, e.id DESC LIMIT %s OFFSET %s",
        [*filters.params, limit, offset],
    )
    return [row[0] for row in rows], int(count)


def day_bounds(unit: str, first: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local day, week or month that begins on `first`."""
    if unit == "day":
        last = first + timedelta(days=1)
    elif unit == "week":
        last = first + timedelta(days=7)
    else:
        last = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start_of_day(first, zone), start_of_day(last, zone)


def scope_for(membership: Membership) -> Scope:
    from punchclock.accounts.models import Role
    from punchclock.accounts.permissions import can
    from punchclock.projects.models import ProjectMember

    if can(membership, "time.view_all"):
        return Scope(membership.organization_id, everyone=True)
    managed: tuple[int, ...] = ()
    if membership.role == Role.MANAGER:
        managed = tuple(
            ProjectMember.objects.filter(membership=membership, is_manager=True)
            .order_by("project_id")
            .values_list("project_id", flat=True)
        )
    return Scope(membership.organization_id, everyone=False, own=membership.pk, managed=managed)
