"""The time report: hours, billed hours, billable amount and cost per one or two groupings.

The database sums seconds per group and per "pricing key" (person, project, task, rate
period); Python then prices each key once with the organization's rate book. Rates only
change at a few known instants, so the number of keys grows with people × projects ×
rate changes, never with entries.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import can
from punchclock.core.money import from_minor, minor_units
from punchclock.core.timeutil import local_date, start_of_day
from punchclock.projects.models import (
    Rate,
    RateKind,
    RateScope,
    Task,
)
from punchclock.projects.ratebook import RateBook
from punchclock.reports.query import (
    DIMENSIONS,
    TIME_DIMENSIONS,
    KeptPart,
    Plan,
    Scope,
    TimeFilter,
    aggregate,
    edge_rows,
    edges_of,
    has_edges,
    kept_part,
    org_people,
    org_projects,
    read_once,
    rounds_days,
    scope_for,
    shared,
    whole_months,
)
from punchclock.reports.timecut import as_date
from punchclock.tracking.models import Tag

HOUR = Decimal(3600)
CENT_HOURS = Decimal("0.01")
# Whether reports grouped by month or week add up the kept periods' line amounts in SQL
# (decision 0021); tests turn it off to compare with pricing every kept row.
KEEP_AMOUNTS = True
Key = tuple[Any, ...]
CellKeys = tuple[Key, Key | None]  # a row's (first, second) group keys
TOTAL: Key = ("total",)


@dataclass
class KeptFirst:
    """Per project, the first of a report's kept periods (`months`, of `grain`) that holds
    some of the time it counts."""

    grain: str
    months: list[date]
    projects: dict[int, date]


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
    # When the report read its lines across kept months: those months, and per project the
    # first of them that holds some of its time (the unbilled views' age, decision 0025).
    kept_first: KeptFirst | None = None


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
    return shared(
        ("rate periods", organization_id, zone),
        lambda: sorted({start_of_day(day, zone) for day in days}),
    )


def book_boundaries(book: RateBook) -> list[datetime]:
    """rate_boundaries() of the organization whose every rate `book` holds (RateBook.load
    without keys), without reading them again."""
    return sorted({start_of_day(day, book.zone) for day in book.change_days()})


def _period_instant(boundaries: list[datetime], period: int) -> datetime:
    """An instant inside rate period `period` (0 is before every rate change)."""
    if period:
        return boundaries[period - 1]
    first = boundaries[0] if boundaries else datetime(2000, 1, 1, tzinfo=UTC)
    return first - timedelta(days=1)


SCALE = 10_000  # rates have at most four decimals: priced as integers of 1/10,000


class _Pricer:
    """Bill and cost rates per pricing key, each resolved once, as scaled integers."""

    def __init__(
        self,
        organization: Organization,
        scope: Scope,
        boundaries: list[datetime],
        shows_cost: bool,
        book: RateBook | None = None,
        *,
        bills: bool = True,
    ) -> None:
        self.organization, self.boundaries = organization, boundaries
        self.book = book or RateBook.load(organization)
        zone = organization.timezone
        self.days = [
            local_date(_period_instant(boundaries, i), zone) for i in range(len(boundaries) + 1)
        ]
        self.all_projects = scope.everyone
        self.managed = set(scope.managed)
        self.shows_cost = shows_cost
        self.bills = bills
        self.projects: dict[int, tuple[int, str, bool]] = {}
        self._bill: dict[Key, tuple[int, str] | None] = {}
        self._chains: dict[Key, tuple[str, ...]] = {}
        # Many keys share a chain of rate scopes (a project's rate, then the default):
        # each chain's price in a rate period is looked up once.
        self._by_chain: dict[tuple[tuple[str, ...], int], tuple[int, str] | None] = {}
        self._cost: dict[Key, tuple[int, str] | None] = {}

    def load(self, project_ids: set[int]) -> None:
        missing = project_ids - self.projects.keys()
        if not missing:
            return
        known = org_projects(self.organization.pk, missing)
        for pk in missing & known.keys():
            facts = known[pk]
            self.projects[pk] = (facts.client_id, facts.currency, facts.hourly)

    def bill(
        self, person: int, project: int, task: int | None, period: int
    ) -> tuple[int, str] | None:
        key = (person, project, task, period)
        if key in self._bill:
            return self._bill[key]
        price = None
        client_id, currency, hourly = self.projects[project]
        if self.bills and hourly and (self.all_projects or project in self.managed):
            chain = self._chains.get(key[:3])
            if chain is None:
                chain = self._chains[key[:3]] = tuple(
                    self.book.bill_chain(
                        membership_id=person,
                        project_id=project,
                        client_id=client_id,
                        currency=currency,
                        task_id=task,
                    )
                )
            if (chain, period) in self._by_chain:
                price = self._by_chain[(chain, period)]
            else:
                rate = self.book.first_at(RateKind.BILL, chain, self.days[period])
                if rate is not None:
                    price = (int(rate.amount * SCALE), rate.currency)
                self._by_chain[(chain, period)] = price
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


def line_minor(seconds: int, scaled: int, unit: int) -> int:
    """seconds × rate / 3600 in minor units (`unit` of them to the currency's unit), half
    up, in exact integers: the same as core.money.round_money on the Decimal product."""
    denominator = 3600 * SCALE
    return (2 * seconds * scaled * unit + denominator) // (2 * denominator)


class KeptPricer:
    """Prices the rows of the kept periods one build after another (reports.monthly): the
    rate book, and the prices' digest of that very book's rates with the projects read
    after it (a project changed in between leaves an older stamp, which only makes the
    next report check again)."""

    def __init__(self, organization_id: int, boundaries: list[datetime]) -> None:
        organization = Organization.objects.get(pk=organization_id)
        scope = Scope(organization_id, everyone=True)
        self.pricer = _Pricer(organization, scope, boundaries, False)
        self.version = pricing_version(organization_id, self.pricer.book, self.pricer)

    def price(self, rows: list[tuple[Any, ...]]) -> list[tuple[int | None, str, int, int]]:
        """For the rows of one kept period, each (person, project, task, rate period,
        billed seconds, open billed seconds): the bill rate that prices it (scaled; None
        when none), its currency, and the amounts in minor units of the lines it holds,
        whole and open. A line is (person, project, task, rate) as in the time report:
        rate periods with the same rate are one line, rounded once, its amount on its
        first row with billed time and 0 on the others."""
        return _kept_prices(self.pricer, rows)


def _kept_prices(
    pricer: _Pricer, rows: list[tuple[Any, ...]]
) -> list[tuple[int | None, str, int, int]]:
    pricer.load({row[1] for row in rows})
    found: list[list[Any]] = []
    lines: dict[Key, list[int]] = {}  # line -> [billed, open billed, holder, open holder]
    for index, (person, project, task, period, billed, open_billed) in enumerate(rows):
        price = pricer.bill(person, project, task, period)
        if price is None:
            found.append([None, "", 0, 0])
            continue
        found.append([*price, 0, 0])
        line = lines.setdefault((person, project, task, *price), [0, 0, -1, -1])
        line[0] += billed
        line[1] += open_billed
        # The amount sits on a row with billed time, which every filter that keeps some
        # of the line keeps (a row of non-billable time alone drops out of billable reports).
        if billed and line[2] < 0:
            line[2] = index
        if open_billed and line[3] < 0:
            line[3] = index
    for (*_, scaled, currency), (billed, open_billed, holder, open_holder) in lines.items():
        unit = 10 ** minor_units(currency)
        if holder >= 0:
            found[holder][2] = line_minor(billed, scaled, unit)
        if open_holder >= 0:
            found[open_holder][3] = line_minor(open_billed, scaled, unit)
    return [(rate, currency, amount, open_amount) for rate, currency, amount, open_amount in found]


class _Lines:
    """Seconds per priced line (cell, person, project, task, rate), each line rounded once.

    A line is what an invoice line would be. A pricing key (person, project, task, rate
    period) maps to a small integer line id once, and a cell to a small integer cell id, so
    the per-row work is integer-keyed dict additions, not tuples of six parts."""

    def __init__(self, *, finest: bool = False) -> None:
        self.ids: dict[Key, int] = {}
        self.prices: list[tuple[int, str]] = []
        # line id * CELL_SPACE + cell id -> seconds
        self.seconds: dict[int, int] = defaultdict(int)
        # A report grouped by client, project, task or person holds each line in exactly
        # one finest cell, where its rounded amount is its amount in every coarser cell
        # too: then lines are kept on their finest cells alone, and the coarser cells'
        # amounts are their finest cells' sums (the same integers, a third of the work).
        self.finest = finest

    def line(self, parts: Key, price: tuple[int, str]) -> int:
        key = (*parts, *price)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.prices)
            self.prices.append(price)
        return found

    def round_into(self, cells: list[Figures], attribute: str, table: _Cells) -> None:
        """seconds × rate / 3600 in the currency's minor unit, half up, per line, in exact
        integers (the same as core.money.round_money on the Decimal product), summed per
        cell and currency (with `finest`, into the coarser cells of `table` too)."""
        sums: dict[tuple[int, str], int] = defaultdict(int)
        prices = self.prices
        units = {currency: 10 ** minor_units(currency) for _, currency in prices}
        for composite, seconds in self.seconds.items():
            line, cell = divmod(composite, CELL_SPACE)
            scaled, currency = prices[line]
            sums[(cell, currency)] += line_minor(seconds, scaled, units[currency])
        if self.finest:
            for (cell, currency), minor in list(sums.items()):
                for parent in table.parents(cell):
                    sums[(parent, currency)] += minor
        for (cell, currency), minor in sums.items():
            getattr(cells[cell], attribute)[currency] = from_minor(minor, currency)


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

    def parents(self, cell: int) -> tuple[int, ...]:
        """The coarser cells that hold a cell: its first level and the total."""
        key = self.keys[cell]
        if key == TOTAL:
            return ()
        if len(key) == 2:
            return (self.id((key[0],)), self.id(TOTAL))
        return (self.id(TOTAL),)


@read_once()
def time_report(
    viewer: Membership,
    where: TimeFilter,
    *,
    by: tuple[str, ...],
    zone: str | None = None,
    money: bool = True,
    hours_only: bool = False,
    cost: bool = True,
    bill: bool = True,
) -> TimeReport:
    """The report the viewer may see: their role limits the entries and the money shown.

    `hours_only` (charts) sums seconds alone: no money, no rounding, billed hours are 0.
    `cost=False` (the unbilled views) leaves costs out, whoever looks. `bill=False`
    (profitability's hours and costs, whose revenue comes from elsewhere) leaves the
    billable amounts out: no bill rate is looked up and no time counts as unpriced."""
    organization = viewer.organization
    zone = zone or viewer.user.timezone
    scope = scope_for(viewer)
    shows_amounts = money and not hours_only and (scope.everyone or bool(scope.managed))
    # A priced report loads every rate anyway: its rate periods come from the same read.
    book = (
        shared(("rate book", organization.pk), lambda: RateBook.load(organization))
        if shows_amounts
        else None
    )
    if book is not None:
        loaded = book
        key = ("rate periods", organization.pk, organization.timezone)
        boundaries = shared(key, lambda: book_boundaries(loaded))
    else:
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
    bill_lines = _Lines(finest="tag" not in by and not set(by) & set(TIME_DIMENSIONS))
    cost_lines = _Lines()
    pricer = None
    if shows_amounts:
        shows_cost = cost and can(viewer, "cost_rates.view")
        pricer = _Pricer(organization, scope, boundaries, shows_cost, book, bills=bill)
    levels = {"total", "first", "pair"}
    untagged: TimeReport | None = None
    if "tag" in by:
        # An entry with two tags sits in two tag groups but counts once in every other
        # cell (the total; the first level when it is not the tag), so those cells are
        # the same report's without the tag, which can read kept periods (decision 0029).
        rest = tuple(name for name in by if name != "tag")
        levels = {"pair"} if by[0] != "tag" else {"first", "pair"}
        untagged = time_report(
            viewer,
            where,
            by=rest or ("person",),
            zone=zone,
            money=money,
            hours_only=hours_only,
            cost=cost,
            bill=bill,
        )
    missing: dict[Key, int] = defaultdict(int)
    # Amounts of kept lines, in minor units per (cell, currency): added as they are.
    kept: dict[tuple[int, str], int] = {}
    ledger = _Ledger(table, bill_lines, cost_lines, missing)
    outcome: KeptPart | bool | None = False
    firsts: list[KeptFirst] = []
    if pricer is not None and pricer.bills and KEEP_AMOUNTS and scope.everyone:
        outcome = _from_kept_lines(scope, where, plan, ledger, pricer, kept, firsts)
    if outcome is not True:
        # The kept part found for this very plan is not looked up twice.
        known = {} if outcome is False else {"part": outcome}
        rows = aggregate(scope, where, plan, **known)
        _accumulate(rows, by, levels, table, bill_lines, cost_lines, pricer, missing)
    figures = [Figures(f[0], f[1], f[2]) for f in table.figures]
    bill_lines.round_into(figures, "amounts", table)
    cost_lines.round_into(figures, "cost", table)
    for (cell, currency), minor in kept.items():
        amount = from_minor(minor, currency)
        into = figures[cell].amounts
        into[currency] = into[currency] + amount if currency in into else amount
    cells = dict(zip(table.keys, figures, strict=True))
    unpriced = (
        _unpriced_seconds(missing, scope, pricer) if pricer is not None and pricer.bills else 0
    )
    if untagged is not None:
        cells[TOTAL] = untagged.total
        unpriced = untagged.unpriced_seconds
        if by[0] != "tag":
            cells.update(((group.key,), group.figures) for group in untagged.groups)
            # Time written between the two reads can give a pair whose first level the
            # other read did not see: that level shows none rather than failing the page.
            for first in {cell[:1] for cell in cells if len(cell) == 2} - cells.keys():
                cells[first] = Figures()
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
        unpriced_seconds=unpriced,
        kept_first=firsts[0] if firsts and outcome is True else None,
    )


def _width(dimension: str) -> int:
    """Key columns of a grouping in a database row: a task is two, project and task."""
    return 2 if dimension == "task" else 1


def _cell_keys(by: tuple[str, ...]) -> tuple[int, Callable[[tuple[Any, ...]], CellKeys]]:
    """How a database row names its cell: the number of leading key columns (a task is
    two: project and task), and the function that turns them into the (first, second)
    keys of the report's groups, periods as dates; second is None for one level."""
    widths = [_width(name) for name in by]
    split, offset = widths[0], sum(widths)
    first_time = by[0] in TIME_DIMENSIONS
    second_time = len(by) == 2 and by[1] in TIME_DIMENSIONS
    two = len(by) == 2
    days: dict[Any, date] = {}  # a period as the database gave it, read once

    def day(value: Any) -> date:
        found = days.get(value)
        if found is None:
            found = days[value] = as_date(value)
        return found

    def keys(raw: tuple[Any, ...]) -> CellKeys:
        first: Key = (day(raw[0]),) if first_time else raw[:split]
        if not two:
            return first, None
        return first, (day(raw[split]),) if second_time else raw[split:offset]

    return offset, keys


def hours_cells(
    viewer: Membership, where: TimeFilter, *, by: tuple[str, ...], zone: str | None = None
) -> dict[CellKeys, int]:
    """Seconds per (first key, second key) cell of a two-level grouping, or per (key, None)
    of one: what a chart draws, and the same seconds as time_report(hours_only=True) gives
    its finest cells. The rows go straight into their cells: no tree, labels or totals."""
    organization = viewer.organization
    plan = Plan(
        by=by,
        pricing=False,
        rate_boundaries=[],
        viewer_zone=zone or viewer.user.timezone,
        org_zone=organization.timezone,
        day_rounding=False,
        billed=False,
    )
    offset, keys = _cell_keys(by)
    cells: dict[CellKeys, int] = defaultdict(int)
    seen: dict[tuple[Any, ...], CellKeys] = {}
    for row in aggregate(scope_for(viewer), where, plan):
        raw = row[:offset]
        cell = seen.get(raw)
        if cell is None:
            cell = seen[raw] = keys(raw)
        cells[cell] += row[-3]
    return dict(cells)


@dataclass
class _Ledger:
    """Where a report's rows go: its cells, its priced lines and its unpriced seconds."""

    table: _Cells
    bill_lines: _Lines
    cost_lines: _Lines
    missing: dict[Key, int]

    def add(
        self,
        rows: list[tuple[Any, ...]],
        dims: tuple[str, ...],
        levels: set[str],
        pricer: _Pricer,
        priced: set[str] | None = None,
    ) -> None:
        _accumulate(
            rows,
            dims,
            levels,
            self.table,
            self.bill_lines,
            self.cost_lines,
            pricer,
            self.missing,
            priced=priced,
        )


def pricing_version(organization_id: int, book: RateBook, pricer: _Pricer | None = None) -> str:
    """A digest of what bill prices depend on: the organization's bill rates (those of
    `book`, the rate book that prices or checks with it), its projects' clients and
    billing methods, and those clients' currencies. Kept line amounts stamped with it need
    no check while it stays the same. `pricer`: learns every project from the same read
    (what its load() would read again)."""
    rates = sorted(
        (rate.scope_key, rate.effective_from, rate.amount, rate.currency)
        for rate in book.rates(RateKind.BILL)
    )
    known = org_projects(organization_id)
    projects = [(pk, f.client_id, f.method, f.currency) for pk, f in known.items()]
    if pricer is not None:
        for pk, facts in known.items():
            pricer.projects[pk] = (facts.client_id, facts.currency, facts.hourly)
    text = repr(rates) + "|" + repr(projects)
    return hashlib.sha256(text.encode()).hexdigest()


def _from_kept_lines(
    scope: Scope,
    where: TimeFilter,
    plan: Plan,
    ledger: _Ledger,
    pricer: _Pricer,
    kept: dict[tuple[int, str], int],
    firsts: list[KeptFirst],
) -> KeptPart | bool | None:
    """A priced report grouped by month (or week) from its kept periods' line amounts:
    True when done. When it cannot be (decision 0021), it has done nothing and says what
    it learnt for the other way: the kept part (up to date) or None for "scan", or False
    when it did not look.

    A cell keyed by the kept period holds whole kept lines (period, person, project, task,
    rate), so its money is the sum of their stored amounts, summed in SQL, and so are its
    seconds; the same rows, per person and rate period, give every cell's cost lines and
    the seconds of the coarser cells. Cells without the period (the total; the first level,
    by client say) hold lines spanning periods, rounded once each: they come from the kept
    sums per line, priced at the rate the rows were priced with (decision 0022: for a
    report by week over whole months, from the kept months). A range of exactly one kept
    period holds whole lines only, so then every cell, the total too, is a sum of stored
    amounts, whatever the grouping.

    Those rates are the rate book's as long as nothing that prices changed since the
    periods were built or last checked (pricing_version). When something did, every
    pricing key is checked against the rate book: periods holding a project whose price
    moved are made stale and the report takes the other way, which builds them again;
    the others are stamped as checked.

    A report of unbilled work not grouped by the period (the unbilled views) also gets,
    into `firsts`, the first kept month that holds each project's open billable time, from
    the same read of the lines."""
    from punchclock.reports import monthly

    if "tag" in plan.by:
        return False
    part = kept_part(scope, where, plan)
    # A range of one kept period and nothing around it: every line lies inside that
    # period, so every cell, the total too, holds whole kept lines. Otherwise a report not
    # grouped by the period has lines spanning periods in every cell and nothing stored to
    # add up; without costs (which need the seconds per person and rate period) the lines
    # across the periods are all it reads.
    single = len(part.months) == 1 and not has_edges(part, plan) if part is not None else False
    by_period = part is not None and (part.grain.name in plan.by or single)
    if part is None or (not by_period and pricer.shows_cost):
        return part
    org, grain, months = scope.organization_id, part.grain, part.months
    version = pricing_version(org, pricer.book, pricer)
    if not _prices_hold(pricer, grain, months, version):
        return False  # the other way looks again: its kept_part builds them again
    by = plan.by
    coarse = by[:1] if by[0] != grain.name and not single else ()
    # A report by week over whole months: the total's and the coarse cells' lines, which
    # span the range, come from the kept months, a quarter of the week rows.
    lined = None
    if by_period and not single and grain is monthly.WEEK:
        lined = whole_months(scope, where, plan)
        if lined is not None and not _prices_hold(pricer, lined.grain, lined.months, version):
            lined = None
    edges = edges_of(scope, where, plan, part)
    # Not by the period, the edges' kept weeks (the running month's) hold lines that the
    # kept periods' lines continue: read in the same query, summed per line there, they
    # are half the rows they would be as a scan's (0030). Their stored rates must hold too.
    weeks: list[date] = []
    kept_weeks = [list(edge.weeks) for edge in edges if edge.weeks]
    if not by_period and kept_weeks:
        if all(_prices_hold(pricer, monthly.WEEK, some, version) for some in kept_weeks):
            weeks = [week for some in kept_weeks for week in some]
        else:
            edges = edges_of(scope, where, plan, part)  # the weeks made stale are scanned
    if lined is not None:
        lines = monthly.read_lines(scope, where, plan, lined.months, lined.grain)
    else:
        # With every cell holding whole lines, only their unpriced time is read.
        # The unbilled views date each project's oldest open work from the same read.
        first = not by_period and where.billable is True and where.invoiced is False
        lines = monthly.read_lines(
            scope, where, plan, months, grain, unpriced=single, first=first, weeks=weeks
        )
        if first:
            projects: dict[int, date] = {}
            for row in lines:
                if row[-1] is None:  # in the edges' weeks alone
                    continue
                month = as_date(row[-1])
                if row[1] not in projects or month < projects[row[1]]:
                    projects[row[1]] = month
            firsts.append(KeptFirst(grain.name, months, projects))
            lines = [row[:-1] for row in lines]
    pricer.load({row[1] for row in lines})
    if by_period:
        amounts = monthly.read_amounts(scope, where, plan, months, grain)
        _add_kept_amounts(
            amounts,
            by,
            coarse,
            ledger,
            pricer,
            kept,
            whole_total=single,
            projects_for_clients=monthly.client_as_project(plan, months),
        )
        _add_kept_lines(lines, coarse, ledger, pricer, seconds=False)
    else:
        _add_kept_lines(lines, by, ledger, pricer, seconds=True)
    # The edges' lines go to every cell, except those whose lines the kept months gave.
    priced = (
        {"total", "first", "pair"} if lined is None else {"pair"} | (set() if coarse else {"first"})
    )
    rows = edge_rows(scope, where, plan, part, edges, weeks=not weeks)
    ledger.add(rows, by, {"total", "first", "pair"}, pricer, priced)
    return True


def _prices_hold(pricer: _Pricer, grain: Any, months: list[date], version: str) -> bool:
    """Whether the kept periods' stored prices are the rate book's. Unless they were
    priced or last checked with prices of this digest, every pricing key's stored rate is
    compared with the book: periods holding a project whose price moved are made stale
    (False), the others stamped as checked."""
    from punchclock.reports import monthly

    org = pricer.organization.pk
    if not monthly.unchecked(org, grain, months, version):
        return True
    # Checked against the very rates the digest covers; projects and clients read after
    # the digest, so a change in between leaves the periods unchecked at worst.
    everyone = Scope(org, everyone=True)
    book = _Pricer(pricer.organization, everyone, pricer.boundaries, False, pricer.book)
    keys = monthly.read_rates(org, months, grain)
    book.load({row[1] for row in keys})
    stale = {
        project
        for person, project, task, period, rate, currency in keys
        if book.bill(person, project, task, period) != (None if rate is None else (rate, currency))
    }
    if stale:
        monthly.forget(org, grain, months, stale)
        return False
    monthly.checked(org, grain, months, version)
    return True


def _add_kept_lines(
    rows: list[tuple[Any, ...]],
    coarse: tuple[str, ...],
    ledger: _Ledger,
    pricer: _Pricer,
    *,
    seconds: bool,
) -> None:
    """Add monthly.read_lines' rows to the lines of the total and of the coarse levels
    (`coarse`: the first grouping when it is by client, project, task or person; both
    groupings of a report not grouped by the period), to be rounded with the rest;
    billable time without a rate goes to the unpriced seconds. With `seconds`, the rows'
    seconds go to those cells too (no other read gives them theirs)."""
    table, bill_lines, missing = ledger.table, ledger.bill_lines, ledger.missing
    total = table.id(TOTAL)
    keys: dict[str, Any] = {
        "client": lambda person, project, task: (pricer.projects[project][0],),
        "project": lambda person, project, task: (project,),
        "task": lambda person, project, task: (project, task),
        "person": lambda person, project, task: (person,),
    }
    key_of = [keys[name] for name in coarse]
    cells_of: dict[tuple[int, int, int | None], tuple[int, ...]] = {}
    for person, project, task, rate, currency, billed, billable, spent in rows:
        cells = cells_of.get((person, project, task))
        if cells is None:
            found = [total]
            if key_of:
                first = key_of[0](person, project, task)
                found.append(table.id((first,)))
                if len(key_of) == 2:
                    found.append(table.id((first, key_of[1](person, project, task))))
            cells = cells_of[(person, project, task)] = tuple(found)
        if seconds:
            for cell in cells:
                figures = table.figures[cell]
                figures[0] += spent
                figures[1] += billable
                figures[2] += billed
        if rate is None:
            if billable:
                missing[(person, project, task, None)] += billable
            continue
        if not billed:
            continue
        line = bill_lines.line((person, project, task), (rate, currency)) * CELL_SPACE
        for cell in cells[-1:] if bill_lines.finest else cells:
            bill_lines.seconds[line + cell] += billed


def _add_kept_amounts(
    rows: list[tuple[Any, ...]],
    by: tuple[str, ...],
    coarse: tuple[str, ...],
    ledger: _Ledger,
    pricer: _Pricer,
    kept: dict[tuple[int, str], int],
    *,
    whole_total: bool = False,
    projects_for_clients: bool = False,
) -> None:
    """Add monthly.read_amounts' rows to the report's cells: seconds to every cell, cost
    lines per person to every cell (rounded with the rest), and line amounts as they are
    to the cells keyed by the kept period (the coarse ones get theirs from the lines), or
    to every cell, the total too, when `whole_total` (a range of one kept period). With
    `projects_for_clients`, the client's column holds the project, whose client `pricer`
    knows (monthly.client_as_project)."""
    offset, keys = _cell_keys(by)
    # Where the client's column is, after the columns of the groupings before it.
    client_at = (
        sum(_width(name) for name in by[: by.index("client")]) if projects_for_clients else None
    )
    table, cost_lines, projects = ledger.table, ledger.cost_lines, pricer.projects
    total = table.id(TOTAL)
    # Per distinct cell key: its finest cell. Each row goes to that cell alone; the coarser
    # cells are added up from their finest cells afterwards (per cost line too: a coarser
    # cell's cost line holds the seconds of its finest cells', rounded once there).
    finest_of: dict[tuple[Any, ...], int] = {}
    every_of: dict[int, tuple[int, ...]] = {}  # finest cell -> it and its coarser cells
    whole_of: dict[int, tuple[int, ...]] = {}  # finest cell -> those with whole kept lines
    sums: dict[int, list[int]] = {}
    cost_seconds: dict[int, int] = defaultdict(int)
    minor: dict[tuple[int, str], int] = defaultdict(int)
    present: set[tuple[int, str]] = set()
    cost_line_of: dict[int, int | None] = {}  # person * CELL_SPACE + rate period
    for row in rows:
        raw = row[:offset]
        cell = finest_of.get(raw)
        if cell is None:
            named = raw
            if client_at is not None:
                project = raw[client_at]
                if project not in projects:
                    pricer.load({project})
                named = (*raw[:client_at], projects[project][0], *raw[client_at + 1 :])
            first, second = keys(named)
            if second is None:
                whole: tuple[int, ...] = (table.id((first,)),)
                every = (*whole, total)
            else:
                pair, level = table.id((first, second)), table.id((first,))
                # A first level by period holds whole periods too; by client it does not.
                whole = (pair, level) if not coarse else (pair,)
                every = (pair, level, total)
            if whole_total:
                whole = every
            cell = finest_of[raw] = every[0]
            every_of[cell], whole_of[cell] = every, whole
            sums.setdefault(cell, [0, 0, 0])  # several projects may share a client's cell
        person, period, currency, seconds, billable, billed, amount = row[offset:]
        figures = sums[cell]
        figures[0] += seconds
        figures[1] += billable
        figures[2] += billed
        if seconds:
            # Cost lines by (person, rate period): a few hundred keys for thousands of rows.
            line = cost_line_of.get(person * CELL_SPACE + period, -1)
            if line == -1:
                cost = pricer.cost(person, period)
                line = cost_line_of[person * CELL_SPACE + period] = (
                    cost_lines.line((person,), cost) * CELL_SPACE if cost else None
                )
            if line is not None:
                cost_seconds[line + cell] += seconds
        if currency:
            key = (cell, currency)
            minor[key] += amount
            if billed:
                present.add(key)
    _add_up(sums, every_of, table)
    kept_seconds = cost_lines.seconds
    for composite, seconds in cost_seconds.items():
        line, cell = divmod(composite, CELL_SPACE)
        for target in every_of[cell]:
            kept_seconds[line * CELL_SPACE + target] += seconds
    # Line amounts go as they are to the cells that hold whole kept lines, where some
    # billed time lies (a cell of non-billable rows alone shows no amount).
    held = {(target, currency) for cell, currency in present for target in whole_of[cell]}
    for (cell, currency), amount in minor.items():
        for target in whole_of[cell]:
            if (target, currency) in held:
                kept[(target, currency)] = kept.get((target, currency), 0) + amount


def _add_up(sums: dict[int, list[int]], targets: dict[int, tuple[int, ...]], table: _Cells) -> None:
    """Add each finest cell's (seconds, billable, billed) to its cells: itself and those
    above it."""
    everything = table.figures
    for cell, figures in sums.items():
        for target in targets[cell]:
            into = everything[target]
            into[0] += figures[0]
            into[1] += figures[1]
            into[2] += figures[2]


def _unpriced_seconds(missing: dict[Key, int], scope: Scope, pricer: _Pricer) -> int:
    """Billable seconds of the pricing keys that found no bill rate (gathered by
    _accumulate from the total's rows), on hourly projects the viewer may see money of
    (fixed-fee and non-billable projects have no hourly price by design)."""
    if not missing:
        return 0
    pricer.load({key[1] for key in missing})
    hourly = {key[1] for key in missing if pricer.projects[key[1]][2]}
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
    *,
    priced: set[str] | None = None,
) -> None:
    """Add the database's group rows to the report's cells and to the priced lines; the
    total's billable seconds whose key finds no bill rate go to `missing`. `priced`: the
    levels whose bill lines these rows add to (all of them unless said; the others' lines
    come from elsewhere, and so does the unpriced time unless the total is priced here).

    This loop runs once per (group, pricing key) row, up to a few hundred thousand times
    for a year's report, so each row goes to its finest cell only, under integer ids, and
    the coarser cells (first level, total) are added up from the finest ones afterwards:
    every cell of a row is a function of its finest cell."""
    offset, keys = _cell_keys(dims)
    want_total, want_first = "total" in levels, "first" in levels
    want_pair = "pair" in levels and len(dims) == 2

    priced = {"total", "first", "pair"} if priced is None else priced
    unpriced_cells: set[int] = set()  # cells whose bill lines these rows leave alone

    def targets(raw: tuple[Any, ...]) -> tuple[int, ...]:
        """The row's cells, finest first."""
        first, second = keys(raw)
        found = []
        if want_pair:
            found.append(table.id((first, second)))
            if "pair" not in priced:
                unpriced_cells.add(found[-1])
        if want_first:
            found.append(table.id((first,)))
            if "first" not in priced:
                unpriced_cells.add(found[-1])
        if want_total:
            found.append(table.id(TOTAL))
            if "total" not in priced:
                unpriced_cells.add(found[-1])
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
            if want_total and billable and "total" in priced:
                missing[pricing] += billable
        elif billed:
            bill_seconds[bill + cell] += billed
        if cost_line is not None and seconds:
            cost_seconds[cost_line + cell] += seconds
    _add_up(sums, {cell: (cell, *above) for cell, above in parents.items()}, table)
    for book, local, skip in (
        (bill_lines, bill_seconds, unpriced_cells),
        (cost_lines, cost_seconds, set()),
    ):
        kept = book.seconds
        for composite, seconds in local.items():
            line, cell = divmod(composite, CELL_SPACE)
            if cell not in skip:
                kept[composite] += seconds
            if book.finest:
                continue  # the finest cell's line stands for its parents' (_Lines)
            for target in parents[cell]:
                if target not in skip:
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


def project_names(projects: Any) -> list[tuple[int, str, str]]:
    """(id, full code "client/code", name) of each project of a queryset, in its order,
    read as plain values in one query."""
    rows = projects.values_list("pk", "client__code", "code", "name")
    return [(pk, f"{client}/{code}", name) for pk, client, code, name in rows]


def project_label(code: str, name: str) -> str:
    """A project as the reports name it: "acme/api · Shipment API"."""
    return f"{code} · {name}"


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
                names = {f.client_id: f.client_name for f in org_projects(org).values()}
                if ids - names.keys():  # a client made since the page read the projects
                    from punchclock.clients.models import Client

                    clients = Client.objects.filter(organization_id=org, pk__in=ids - names.keys())
                    names.update(clients.values_list("pk", "name"))
                labels.update({(dimension, k): names.get(k[0], "?") for k in found})
            case "project" | "task":
                task_ids = {k[1] for k in found if len(k) > 1 and k[1]}
                known = org_projects(org, ids)
                by_id = {pk: (known[pk].full_code, known[pk].name) for pk in ids & known.keys()}
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
                        labels[(dimension, k)] = project_label(code, name)
                    else:
                        task = tasks.get(k[1]) if k[1] else None
                        labels[(dimension, k)] = f"{code} · {task or '(no task)'}"
            case "person":
                people = org_people(org)
                labels.update(
                    {(dimension, k): people[k[0]].name if k[0] in people else "?" for k in found}
                )
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
