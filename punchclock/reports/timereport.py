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
from punchclock.core.money import minor_units
from punchclock.core.timeutil import local_date, start_of_day
from punchclock.projects.models import (
    HOURLY_METHODS,
    Project,
    Rate,
    RateKind,
    RateScope,
    Task,
)
from punchclock.projects.ratebook import RateBook
from punchclock.reports.query import (
    DIMENSIONS,
    TIME_DIMENSIONS,
    Plan,
    Scope,
    TimeFilter,
    aggregate,
    rounds_days,
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
    # Billable seconds on hourly projects the viewer may price that found no bill rate: shown
    # as no money, so the page says so instead of letting "–" pass for a price of zero.
    unpriced_seconds: int = 0


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


SCALE = 10_000  # rates have at most four decimals: priced as integers of 1/10,000


class _Pricer:
    """Bill and cost rates per pricing key, each resolved once, as scaled integers."""

    def __init__(self, viewer: Membership, scope: Scope, boundaries: list[datetime]) -> None:
        organization = viewer.organization
        self.book = RateBook.load(organization)
        zone = organization.timezone
        self.days = [
            local_date(_period_instant(boundaries, i), zone) for i in range(len(boundaries) + 1)
        ]
        self.all_projects = scope.everyone
        self.managed = set(scope.managed)
        self.shows_cost = can(viewer, "cost_rates.view")
        self.projects: dict[int, tuple[int, str, bool]] = {}
        self._bill: dict[Key, tuple[int, str] | None] = {}
        self._chains: dict[Key, list[str]] = {}
        self._cost: dict[Key, tuple[int, str] | None] = {}

    def load(self, project_ids: set[int]) -> None:
        missing = project_ids - self.projects.keys()
        if not missing:
            return
        rows = Project.objects.filter(pk__in=missing).values_list(
            "pk", "client_id", "client__currency", "billing_method"
        )
        for pk, client_id, currency, method in rows:
            self.projects[pk] = (client_id, currency, method in HOURLY_METHODS)

    def bill(
        self, person: int, project: int, task: int | None, period: int
    ) -> tuple[int, str] | None:
        key = (person, project, task, period)
        if key in self._bill:
            return self._bill[key]
        price = None
        client_id, currency, hourly = self.projects[project]
        if hourly and (self.all_projects or project in self.managed):
            chain = self._chains.get(key[:3])
            if chain is None:
                chain = self._chains[key[:3]] = self.book.bill_chain(
                    membership_id=person,
                    project_id=project,
                    client_id=client_id,
                    currency=currency,
                    task_id=task,
                )
            rate = self.book.first_at(RateKind.BILL, chain, self.days[period])
            if rate is not None:
                price = (int(rate.amount * SCALE), rate.currency)
        self._bill[key] = price
        return price

    def cost(self, person: int, period: int) -> tuple[int, str] | None:
        key = (person, period)
        if key in self._cost:
            return self._cost[key]
        price = None
        if self.shows_cost:
            rate = self.book.at(
                RateKind.COST,
                Rate.key_for(RateScope.MEMBER, membership_id=person),
                self.days[period],
            )
            if rate is not None:
                price = (int(rate.amount * SCALE), rate.currency)
        self._cost[key] = price
        return price


class _Lines:
    """Seconds per priced line (cell, person, project, task, rate), each line rounded once.

    A line is what an invoice line would be. A pricing key (person, project, task, rate
    period) maps to a small integer line id once, and a cell to a small integer cell id, so
    the per-row work is integer-keyed dict additions, not tuples of six parts."""

    def __init__(self) -> None:
        self.ids: dict[Key, int] = {}
        self.prices: list[tuple[int, str]] = []
        # line id * CELL_SPACE + cell id -> seconds
        self.seconds: dict[int, int] = defaultdict(int)

    def line(self, parts: Key, price: tuple[int, str]) -> int:
        key = (*parts, *price)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.prices)
            self.prices.append(price)
        return found

    def round_into(self, cells: list[Figures], attribute: str) -> None:
        """seconds × rate / 3600 in the currency's minor unit, half up, per line, in exact
        integers (the same as core.money.round_money on the Decimal product), summed per
        cell and currency."""
        sums: dict[tuple[int, str], int] = defaultdict(int)
        denominator = 3600 * SCALE
        prices = self.prices
        units = {currency: 10 ** minor_units(currency) for _, currency in prices}
        for composite, seconds in self.seconds.items():
            line, cell = divmod(composite, CELL_SPACE)
            scaled, currency = prices[line]
            numerator = seconds * scaled * units[currency]
            sums[(cell, currency)] += (2 * numerator + denominator) // (2 * denominator)
        for (cell, currency), minor in sums.items():
            getattr(cells[cell], attribute)[currency] = Decimal(minor).scaleb(
                -minor_units(currency)
            )


CELL_SPACE = 1 << 32  # cell ids stay below it: a report has far fewer groups


class _Cells:
    """The report's cells (total, first-level and pair groups) under small integer ids."""

    def __init__(self) -> None:
        self.ids: dict[Key, int] = {}
        self.keys: list[Key] = []
        self.figures: list[list[int]] = []

    def id(self, key: Key) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.keys)
            self.keys.append(key)
            self.figures.append([0, 0, 0])
        return found


def time_report(
    viewer: Membership,
    where: TimeFilter,
    *,
    by: tuple[str, ...],
    zone: str | None = None,
    money: bool = True,
    hours_only: bool = False,
) -> TimeReport:
    """The report the viewer may see: their role limits the entries and the money shown.

    `hours_only` (charts) sums seconds alone: no money, no rounding, billed hours are 0."""
    organization = viewer.organization
    zone = zone or viewer.user.timezone
    scope = scope_for(viewer)
    shows_amounts = money and not hours_only and (scope.everyone or bool(scope.managed))
    boundaries = rate_boundaries(organization.pk, organization.timezone)
    plan = Plan(
        by=by,
        pricing=shows_amounts,
        rate_boundaries=boundaries,
        viewer_zone=zone,
        org_zone=organization.timezone,
        billed=not hours_only,
        day_rounding=not hours_only and rounds_days(organization.pk),
    )
    table = _Cells()
    bill_lines, cost_lines = _Lines(), _Lines()
    pricer = _Pricer(viewer, scope, boundaries) if shows_amounts else None
    if "tag" not in by:
        passes = [(by, {"total", "first", "pair"})]
    else:
        # An entry with two tags sits in two tag groups but counts once in every other
        # cell, so those cells come from a second scan without the tag join.
        rest = tuple(name for name in by if name != "tag")
        tagged = {"pair"} if by[0] != "tag" else {"first", "pair"}
        others = {"total"} | ({"first"} if rest and by[0] != "tag" else set())
        passes = [(by, tagged), (rest or ("person",), others)]
    missing: dict[Key, int] = defaultdict(int)
    for dims, levels in passes:
        rows = aggregate(scope, where, dataclasses.replace(plan, by=dims))
        _accumulate(rows, dims, levels, table, bill_lines, cost_lines, pricer, missing)
    figures = [Figures(f[0], f[1], f[2]) for f in table.figures]
    bill_lines.round_into(figures, "amounts")
    cost_lines.round_into(figures, "cost")
    cells = dict(zip(table.keys, figures, strict=True))
    labels = group_labels(viewer, by, cells)
    groups = _tree(by, cells, labels)
    return TimeReport(
        by=by,
        where=where,
        zone=zone,
        groups=groups,
        total=cells.get(TOTAL, Figures()),
        shows_amounts=shows_amounts,
        shows_cost=pricer is not None and pricer.shows_cost,
        unpriced_seconds=_unpriced_seconds(missing, scope) if pricer is not None else 0,
    )


def _unpriced_seconds(missing: dict[Key, int], scope: Scope) -> int:
    """Billable seconds of the pricing keys that found no bill rate (gathered by
    _accumulate from the total's rows), on hourly projects the viewer may see money of
    (fixed-fee and non-billable projects have no hourly price by design)."""
    if not missing:
        return 0
    hourly = set(
        Project.objects.filter(
            pk__in={key[1] for key in missing}, billing_method__in=HOURLY_METHODS
        ).values_list("pk", flat=True)
    )
    return sum(
        s
        for key, s in missing.items()
        if key[1] in hourly and (scope.everyone or key[1] in scope.managed)
    )


def _accumulate(
    rows: list[tuple[Any, ...]],
    dims: tuple[str, ...],
    levels: set[str],
    table: _Cells,
    bill_lines: _Lines,
    cost_lines: _Lines,
    pricer: _Pricer | None,
    missing: dict[Key, int],
) -> None:
    """Add the database's group rows to the report's cells and to the priced lines; the
    total's billable seconds whose key finds no bill rate go to `missing`.

    This loop runs once per (group, pricing key) row, up to a few hundred thousand times
    for a year's report, so each row goes to its finest cell only, under integer ids, and
    the coarser cells (first level, total) are added up from the finest ones afterwards:
    every cell of a row is a function of its finest cell."""
    widths = [2 if name == "task" else 1 for name in dims]
    split, offset = widths[0], sum(widths)
    first_time = dims[0] in TIME_DIMENSIONS
    second_time = len(dims) == 2 and dims[1] in TIME_DIMENSIONS
    want_total, want_first = "total" in levels, "first" in levels
    want_pair = "pair" in levels and len(dims) == 2

    def targets(raw: tuple[Any, ...]) -> tuple[int, ...]:
        """The row's cells, finest first."""
        first: Key = (as_date(raw[0]),) if first_time else raw[:split]
        found = []
        if want_pair:
            second: Key = (as_date(raw[split]),) if second_time else raw[split:offset]
            found.append(table.id((first, second)))
        if want_first:
            found.append(table.id((first,)))
        if want_total:
            found.append(table.id(TOTAL))
        return tuple(found)

    if pricer is not None:
        pricer.load({row[offset + 1] for row in rows})
    finest_of: dict[tuple[Any, ...], int] = {}
    parents: dict[int, tuple[int, ...]] = {}
    sums: dict[int, list[int]] = {}
    bill_seconds: dict[int, int] = defaultdict(int)
    cost_seconds: dict[int, int] = defaultdict(int)
    # Per pricing key: (bill line id × CELL_SPACE or None, the same for cost).
    line_of: dict[Key, tuple[int | None, int | None]] = {}
    for row in rows:
        raw = row[:offset]
        cell = finest_of.get(raw)
        if cell is None:
            found = targets(raw)
            cell = finest_of[raw] = found[0]
            parents[cell] = found[1:]
        seconds, billable, billed = row[-3], row[-2], row[-1]
        figures = sums.get(cell)
        if figures is None:
            sums[cell] = [seconds, billable, billed]
        else:
            figures[0] += seconds
            figures[1] += billable
            figures[2] += billed
        if pricer is None:
            continue
        pricing = row[offset : offset + 4]
        lines = line_of.get(pricing)
        if lines is None:
            person, project, task, period = pricing
            price = pricer.bill(person, project, task, period)
            cost = pricer.cost(person, period)
            lines = line_of[pricing] = (
                bill_lines.line((person, project, task), price) * CELL_SPACE if price else None,
                cost_lines.line((person,), cost) * CELL_SPACE if cost else None,
            )
        bill, cost_line = lines
        if bill is None:
            if want_total and billable:
                missing[pricing] += billable
        elif billed:
            bill_seconds[bill + cell] += billed
        if cost_line is not None and seconds:
            cost_seconds[cost_line + cell] += seconds
    everything = table.figures
    for cell, figures in sums.items():
        for target in (cell, *parents[cell]):
            into = everything[target]
            into[0] += figures[0]
            into[1] += figures[1]
            into[2] += figures[2]
    for local, kept in ((bill_seconds, bill_lines.seconds), (cost_seconds, cost_lines.seconds)):
        for composite, seconds in local.items():
            kept[composite] += seconds
            line, cell = divmod(composite, CELL_SPACE)
            for target in parents[cell]:
                kept[line * CELL_SPACE + target] += seconds


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
    viewer: Membership, by: tuple[str, ...], cells: dict[Key, Figures]
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
                projects = Project.objects.filter(organization_id=org, pk__in=ids)
                by_id = {
                    pk: (f"{client}/{code}", name)
                    for pk, client, code, name in projects.values_list(
                        "pk", "client__code", "code", "name"
                    )
                }
                tasks = dict(
                    Task.objects.filter(pk__in=task_ids, project__organization_id=org).values_list(
                        "pk", "name"
                    )
                    if task_ids
                    else []
                )
                for k in found:
                    code, name = by_id.get(k[0], ("?", ""))
                    if dimension == "project":
                        labels[(dimension, k)] = f"{code} · {name}"
                    else:
                        task = tasks.get(k[1]) if k[1] else None
                        labels[(dimension, k)] = f"{code} · {task or '(no task)'}"
            case "person":
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
