"""The time report: hours, billed hours, billable amount and cost per one or two groupings.

The database sums seconds per group and per "pricing key" (person, project, task, rate
period); Python then prices each key once with the organization's rate book. Rates only
change at a few known instants, so the number of keys grows with people × projects ×
rate changes, never with entries.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.core.money import round_money
from punchclock.core.timeutil import start_of_day
from punchclock.projects.models import Project, Rate, RoundingScope, Task
from punchclock.projects.ratebook import RateBook
from punchclock.reports.query import (
    DIMENSIONS,
    TIME_DIMENSIONS,
    Plan,
    Scope,
    TimeFilter,
    aggregate,
    scope_for,
)
from punchclock.reports.timecut import as_date
from punchclock.tracking.models import Tag

HOUR = Decimal(3600)
CENT_HOURS = Decimal("0.01")
Key = tuple[Any, ...]
TOTAL: Key = ("total",)


class ReportError(ValueError):
    """A report request that cannot be answered (unknown grouping and the like)."""


def hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / HOUR).quantize(CENT_HOURS)


@dataclass
class Figures:
    seconds: int = 0
    billable_seconds: int = 0
    billed_seconds: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)

    def add_seconds(self, seconds: int, billable: int, billed: int) -> None:
        self.seconds += seconds
        self.billable_seconds += billable
        self.billed_seconds += billed


@dataclass
class Group:
    dimension: str
    key: Key
    label: str
    figures: Figures = field(default_factory=Figures)
    children: list[Group] = field(default_factory=list)

    @property
    def token(self) -> str:
        """The group's key as it travels in a URL (`drill=`)."""
        return f"{self.dimension}:{encode_key(self.key)}"


@dataclass
class TimeReport:
    by: tuple[str, ...]
    where: TimeFilter
    zone: str
    groups: list[Group]
    total: Figures
    shows_amounts: bool
    shows_cost: bool


def encode_key(key: Key) -> str:
    return "-".join("none" if part is None else str(part) for part in key)


def decode_key(dimension: str, text: str) -> Key:
    """A group key from its URL form; ReportError when it is not one."""
    parts = text.split("-") if dimension not in TIME_DIMENSIONS else [text]
    try:
        if dimension in TIME_DIMENSIONS:
            return (date.fromisoformat(text),)
        values = tuple(None if p == "none" else int(p) for p in parts)
    except ValueError:
        raise ReportError(f"“{text[:40]}” is not a {dimension} of this report.") from None
    expected = 2 if dimension == "task" else 1
    if len(values) != expected or (dimension != "tag" and dimension != "task" and None in values):
        raise ReportError(f"“{text[:40]}” is not a {dimension} of this report.")
    return values


def parse_by(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    names = text.split(",") if isinstance(text, str) else list(text)
    by = tuple(n.strip().lower() for n in names if n.strip())
    if not 1 <= len(by) <= 2:
        raise ReportError("Group by one or two of: " + ", ".join(DIMENSIONS) + ".")
    for name in by:
        if name not in DIMENSIONS:
            raise ReportError(f"“{name[:30]}” is not a grouping; use {', '.join(DIMENSIONS)}.")
    if len(by) == 2 and by[0] == by[1]:
        raise ReportError("Group by two different things.")
    return by


def rate_boundaries(organization_id: int, zone: str) -> list[datetime]:
    """Instants at which any rate of the organization changes (local midnight, as UTC)."""
    # order_by() first: Rate's default ordering would make DISTINCT keep duplicate days.
    days = (
        Rate.objects.filter(organization_id=organization_id)
        .order_by()
        .values_list("effective_from", flat=True)
        .distinct()
    )
    return sorted({start_of_day(day, zone) for day in days})


def _period_instant(boundaries: list[datetime], period: int) -> datetime:
    """An instant inside rate period `period` (0 is before every rate change)."""
    if period:
        return boundaries[period - 1]
    first = boundaries[0] if boundaries else datetime(2000, 1, 1, tzinfo=UTC)
    return first - timedelta(days=1)


class _Pricer:
    """Bill and cost rates per pricing key, resolved once each, and the exact line sums."""

    def __init__(self, viewer: Membership, scope: Scope, boundaries: list[datetime]) -> None:
        self.book = RateBook.load(viewer.organization)
        self.boundaries = boundaries
        self.all_projects = scope.everyone
        self.managed = set(scope.managed)
        self.shows_cost = can(viewer, "cost_rates.view")
        self.people: dict[int, Membership] = {}
        self.projects: dict[int, Project] = {}
        self.tasks: dict[int, Task] = {}
        self._bill: dict[Key, Any] = {}
        self._cost: dict[Key, Any] = {}

    def load(self, rows: list[tuple[Any, ...]], offset: int) -> None:
        people = {r[offset] for r in rows}
        projects = {r[offset + 1] for r in rows}
        tasks = {r[offset + 2] for r in rows if r[offset + 2]}
        people -= self.people.keys()
        projects -= self.projects.keys()
        tasks -= self.tasks.keys()
        if people:
            self.people.update(Membership.objects.select_related("user").in_bulk(people))
        if projects:
            self.projects.update(Project.objects.select_related("client").in_bulk(projects))
        if tasks:
            self.tasks.update(Task.objects.in_bulk(tasks))

    def bill(self, person: int, project: int, task: int | None, period: int) -> Any:
        key = (person, project, task, period)
        if key not in self._bill:
            price = None
            if self.all_projects or project in self.managed:
                at = _period_instant(self.boundaries, period)
                price, _ = self.book.bill(
                    self.people[person],
                    self.projects[project],
                    self.tasks.get(task) if task else None,
                    at,
                )
            self._bill[key] = price
        return self._bill[key]

    def cost(self, person: int, period: int) -> Any:
        key = (person, period)
        if key not in self._cost:
            self._cost[key] = (
                self.book.cost(self.people[person], _period_instant(self.boundaries, period))
                if self.shows_cost
                else None
            )
        return self._cost[key]


def _round_lines(lines: dict[Key, int], target: dict[Key, Figures], attribute: str) -> None:
    """Each line (cell, person, project, task, rate) rounded once, as an invoice line is."""
    for (cell, *_, amount, currency), seconds in lines.items():
        value = round_money(amount * seconds / HOUR, currency)
        bucket = getattr(target[cell], attribute)
        bucket[currency] = bucket.get(currency, Decimal(0)) + value


def time_report(
    viewer: Membership,
    where: TimeFilter,
    *,
    by: tuple[str, ...],
    zone: str | None = None,
    money: bool = True,
) -> TimeReport:
    """The report the viewer may see: their role limits the entries and the money shown."""
    organization = viewer.organization
    zone = zone or viewer.user.timezone
    scope = scope_for(viewer)
    shows_amounts = money and (scope.everyone or bool(scope.managed))
    boundaries = rate_boundaries(organization.pk, organization.timezone)
    plan = Plan(
        by=by,
        pricing=shows_amounts,
        rate_boundaries=boundaries,
        viewer_zone=zone,
        org_zone=organization.timezone,
        day_rounding=Project.objects.filter(
            organization=organization,
            rounding_scope=RoundingScope.DAY_TASK,
            rounding_minutes__gt=0,
        ).exists(),
    )
    cells: dict[Key, Figures] = defaultdict(Figures)
    bill_lines: dict[Key, int] = defaultdict(int)
    cost_lines: dict[Key, int] = defaultdict(int)
    pricer = _Pricer(viewer, scope, boundaries) if shows_amounts else None
    if "tag" not in by:
        passes = [(by, {"total", "first", "pair"})]
    else:
        # An entry with two tags sits in two tag groups but counts once in every other
        # cell, so those cells come from a second scan without the tag join.
        rest = tuple(name for name in by if name != "tag")
        tagged = {"pair"} if by[0] != "tag" else {"first", "pair"}
        passes = [
            (by, tagged),
            (rest or ("person",), {"total"} | ({"first"} if rest and by[0] != "tag" else set())),
        ]
    for dims, levels in passes:
        rows = aggregate(scope, where, dataclasses.replace(plan, by=dims))
        widths = [2 if name == "task" else 1 for name in dims]
        offset = sum(widths)
        if pricer is not None:
            pricer.load(rows, offset)
        for row in rows:
            first = _normal(dims[0], row[: widths[0]])
            keys: list[Key] = []
            if "total" in levels:
                keys.append(TOTAL)
            if "first" in levels:
                keys.append((first,))
            if "pair" in levels and len(dims) == 2:
                keys.append((first, _normal(dims[1], row[widths[0] : offset])))
            seconds, billable, billed = (int(v or 0) for v in row[-3:])
            for cell in keys:
                cells[cell].add_seconds(seconds, billable, billed)
            if pricer is None:
                continue
            person, project, task, period = row[offset : offset + 4]
            price = pricer.bill(person, project, task, period) if billed else None
            cost = pricer.cost(person, int(period))
            for cell in keys:
                if price is not None:
                    bill_lines[(cell, person, project, task, price.amount, price.currency)] += (
                        billed
                    )
                if cost is not None:
                    cost_lines[(cell, person, cost.amount, cost.currency)] += seconds
    _round_lines(bill_lines, cells, "amounts")
    _round_lines(cost_lines, cells, "cost")
    labels = group_labels(viewer, by, cells, pricer)
    groups = _tree(by, cells, labels)
    return TimeReport(
        by=by,
        where=where,
        zone=zone,
        groups=groups,
        total=cells.get(TOTAL, Figures()),
        shows_amounts=shows_amounts,
        shows_cost=shows_amounts and pricer is not None and pricer.shows_cost,
    )


def _normal(dimension: str, values: tuple[Any, ...]) -> Key:
    if dimension in TIME_DIMENSIONS:
        return (as_date(values[0]),)
    return tuple(values)


def _tree(
    by: tuple[str, ...], cells: dict[Key, Figures], labels: dict[tuple[str, Key], str]
) -> list[Group]:
    top: dict[Key, Group] = {}
    for cell, figures in cells.items():
        if len(cell) == 1 and cell != TOTAL:
            key = cell[0]
            top[key] = Group(by[0], key, labels[(by[0], key)], figures)
    for cell, figures in cells.items():
        if len(cell) == 2:
            parent, key = cell
            top[parent].children.append(Group(by[1], key, labels[(by[1], key)], figures))
    groups = _ordered(by[0], list(top.values()))
    for group in groups:
        group.children = _ordered(by[1], group.children) if len(by) == 2 else []
    return groups


def _ordered(dimension: str, groups: list[Group]) -> list[Group]:
    if dimension in TIME_DIMENSIONS:
        return sorted(groups, key=lambda g: g.key)
    return sorted(groups, key=lambda g: (-g.figures.seconds, g.label.lower()))


def group_labels(
    viewer: Membership, by: tuple[str, ...], cells: dict[Key, Figures], pricer: _Pricer | None
) -> dict[tuple[str, Key], str]:
    """Display names for every key of every grouping, loaded in one query per kind."""
    keys: dict[str, set[Key]] = defaultdict(set)
    for cell in cells:
        if cell == TOTAL:
            continue
        for dimension, key in zip(by, cell, strict=False):
            keys[dimension].add(key)
    org = viewer.organization_id
    labels: dict[tuple[str, Key], str] = {}
    for dimension, found in keys.items():
        ids = {k[0] for k in found}
        match dimension:
            case "client":
                from punchclock.clients.models import Client

                names = dict(
                    Client.objects.filter(organization_id=org, pk__in=ids).values_list("pk", "name")
                )
                labels.update({(dimension, k): names.get(k[0], "?") for k in found})
            case "project" | "task":
                task_ids = {k[1] for k in found if len(k) > 1 and k[1]}
                if pricer is not None:  # already loaded for pricing, every one of them
                    by_id, tasks = pricer.projects, pricer.tasks
                else:
                    projects = Project.objects.select_related("client").filter(organization_id=org)
                    by_id = projects.in_bulk(ids)
                    tasks = Task.objects.in_bulk(task_ids) if task_ids else {}
                for k in found:
                    project = by_id.get(k[0])
                    code = project.full_code if project else "?"
                    if dimension == "project":
                        labels[(dimension, k)] = f"{code} · {project.name if project else ''}"
                    else:
                        task = tasks.get(k[1]) if k[1] else None
                        labels[(dimension, k)] = f"{code} · {task.name if task else '(no task)'}"
            case "person":
                if pricer is not None:
                    named = {pk: m.user.display_name for pk, m in pricer.people.items()}
                else:
                    people = Membership.objects.select_related("user").filter(organization_id=org)
                    named = {m.pk: m.user.display_name for m in people.filter(pk__in=ids)}
                labels.update({(dimension, k): named.get(k[0], "?") for k in found})
            case "tag":
                tags = dict(
                    Tag.objects.filter(organization_id=org, pk__in=ids).values_list("pk", "name")
                )
                labels.update(
                    {(dimension, k): tags.get(k[0], "?") if k[0] else "(no tag)" for k in found}
                )
            case _:
                labels.update({(dimension, k): _time_label(dimension, k[0]) for k in found})
    return labels


def _time_label(dimension: str, day: date) -> str:
    if dimension == "day":
        return day.strftime("%a %Y-%m-%d")
    if dimension == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d} ({day.strftime('%d %b')})"
    return day.strftime("%B %Y")
