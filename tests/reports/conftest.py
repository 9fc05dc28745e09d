"""A month of awkward time for the report tests, and an oracle that prices entry by entry.

The oracle shares nothing with the report's SQL: it walks the entries in Python, cuts days
with zoneinfo, rounds with invoicing's billed_seconds_by_entry, prices with the rate
resolver one entry at a time, and rounds each (cell, person, project, task, rate) line
once, as an invoice line is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from punchclock.core.money import round_money
from punchclock.core.timeutil import local_date
from punchclock.invoicing.services import billed_seconds_by_entry
from punchclock.projects.models import ProjectMember, RateKind, RoundingDirection, RoundingScope
from punchclock.projects.services import resolve_rates
from punchclock.reports import monthly
from punchclock.tracking import services
from punchclock.tracking.models import Tag, TimeEntry
from tests.factories import make_rate, make_task
from tests.invoicing.conftest import billing, wipe_invoices_after  # noqa: F401 - fixtures
from tests.payments.conftest import frozen_today  # noqa: F401 - fixture

ZONE = "Europe/Berlin"
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def reports_build_what_they_read(monkeypatch):
    """These tests check what kept periods hold, built by the reports that read them: no
    report leaves its builds to the worker here (decision 0026), except in
    test_cold_reports, which turns the limit back on."""
    monkeypatch.setattr(monthly, "LIMIT_BUILDS", False)


@dataclass
class World:
    agency: Any
    entries: list[TimeEntry]
    tags: dict[str, Tag]
    start: datetime = datetime(2026, 9, 30, 22, tzinfo=UTC)  # 1 Oct, Berlin midnight
    end: datetime = datetime(2026, 11, 30, 23, tzinfo=UTC)  # 1 Dec, Berlin midnight


def spy_calls(monkeypatch, module: Any, name: str, note: Any) -> list[Any]:
    """What `note` makes of each call's arguments to module.name, which still runs."""
    calls: list[Any] = []
    real = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(note(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.fixture
def world(agency, monkeypatch) -> World:
    _QUOTES.clear()  # ids are reused between tests
    monkeypatch.setattr(services, "now", lambda: NOW)
    org = agency.organization
    org.timezone = ZONE
    org.save(update_fields=["timezone"])
    for m in (agency.owner, agency.admin, agency.manager, agency.member):
        m.user.timezone = ZONE
        m.user.save(update_fields=["timezone"])
    # Rounding: the API project rounds each entry up to 15 minutes; the website rounds a
    # person's day per task to the nearest 6 minutes.
    agency.project.rounding_minutes = 15
    agency.project.rounding_direction = RoundingDirection.UP
    agency.project.save()
    agency.other_project.rounding_minutes = 6
    agency.other_project.rounding_direction = RoundingDirection.NEAREST
    agency.other_project.rounding_scope = RoundingScope.DAY_TASK
    agency.other_project.save()
    review = make_task(agency.project, "Review")
    ProjectMember.objects.create(project=agency.other_project, membership=agency.member)
    # Rates: an organization default, a project rate changing mid-month, a task rate,
    # a person-on-project rate with four decimals; cost rates per person.
    make_rate(org, "80", effective_from=date(2026, 1, 1))
    make_rate(org, "100", project=agency.project, effective_from=date(2026, 1, 1))
    make_rate(org, "112.5", project=agency.project, effective_from=date(2026, 10, 26))
    make_rate(org, "130", task=review, effective_from=date(2026, 11, 10))
    make_rate(
        org,
        "97.3333",
        project=agency.other_project,
        membership=agency.member,
        effective_from=date(2026, 10, 1),
    )
    for i, person in enumerate((agency.owner, agency.admin, agency.manager, agency.member)):
        make_rate(org, f"{40 + i}.75", kind=RateKind.COST, membership=person)
    make_rate(
        org, "51.1", kind=RateKind.COST, membership=agency.member, effective_from=date(2026, 11, 1)
    )
    tags = {name: Tag.objects.create(organization=org, name=name) for name in ("bug", "=cmd")}
    people = [agency.member, agency.manager, agency.admin, agency.owner]
    projects = [
        (agency.project, agency.task),
        (agency.project, review),
        (agency.project, None),
        (agency.other_project, None),
    ]
    starts = [
        # Berlin midnight in summer time (22:00 UTC) and winter time (23:00 UTC), both sides
        datetime(2026, 10, 1, 21, 59, 30, tzinfo=UTC),
        datetime(2026, 10, 1, 22, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 22, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 2, 23, 0, tzinfo=UTC),
        # the night the clocks go back (25 Oct 2026, 03:00 CEST -> 02:00 CET at 01:00 UTC)
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 22, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
        # a week and month boundary: Sunday 1 Nov 23:30 Berlin, Monday 2 Nov
        datetime(2026, 11, 1, 22, 30, tzinfo=UTC),
        # the rate change at Berlin midnight of 26 Oct
        datetime(2026, 10, 25, 22, 45, tzinfo=UTC),
        # the last instants of the period, and just outside it
        datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 9, 30, 21, 59, tzinfo=UTC),
    ]
    for day in range(0, 60, 3):
        starts.append(datetime(2026, 10, 2, 7, tzinfo=UTC) + timedelta(days=day, minutes=7 * day))
    entries = []
    for i, start in enumerate(starts):
        person = people[i % len(people)]
        project, task = projects[(i // 2) % len(projects)]
        minutes = 7 + (i * 13) % 97
        entry = services.add_entry(
            person,
            by=agency.owner,
            project=project,
            task=task,
            start=start,
            end=start + timedelta(minutes=minutes, seconds=i % 7),
            billable=i % 5 != 3,
            tags=[n for j, n in enumerate(tags) if (i >> j) & 1 and i % 3],
        )
        entries.append(entry)
    # Two entries of one person's day on the per-day project: rounded as one sum.
    for minutes, hour in ((10, 8), (11, 9)):
        entries.append(
            services.add_entry(
                agency.member,
                by=agency.owner,
                project=agency.other_project,
                start=datetime(2026, 11, 12, hour, tzinfo=UTC),
                end=datetime(2026, 11, 12, hour, minutes, tzinfo=UTC),
            )
        )
    return World(agency, entries, tags)


@dataclass
class Cell:
    seconds: int = 0
    billable_seconds: int = 0
    billed_seconds: int = 0
    lines: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))
    cost_lines: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))

    def amounts(self) -> dict[str, Decimal]:
        return _sum_lines(self.lines)

    def cost(self) -> dict[str, Decimal]:
        return _sum_lines(self.cost_lines)


def _sum_lines(lines: dict[tuple, int]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for (*_, amount, currency), seconds in lines.items():
        out[currency] += round_money(amount * seconds / Decimal(3600), currency)
    return dict(out)


def keys_of(entry: TimeEntry, dimension: str, zone: str) -> list[tuple]:
    """The group keys one entry belongs to (several for several tags)."""
    day = local_date(entry.start, zone)
    match dimension:
        case "client":
            return [(entry.project.client_id,)]
        case "project":
            return [(entry.project_id,)]
        case "task":
            return [(entry.project_id, entry.task_id)]
        case "person":
            return [(entry.membership_id,)]
        case "tag":
            ids = sorted(t.pk for t in entry.tags.all())
            return [(i,) for i in ids] or [(None,)]
        case "day":
            return [(day,)]
        case "week":
            return [(day - timedelta(days=day.weekday()),)]
        case _:
            return [(day.replace(day=1),)]


_QUOTES: dict[tuple, Any] = {}


def _quote(e: TimeEntry) -> Any:
    """resolve_rates for one entry, remembered: the oracle asks again for every grouping."""
    key = (e.pk, e.membership_id, e.project_id, e.task_id, e.start)
    if key not in _QUOTES:
        _QUOTES[key] = resolve_rates(
            membership=e.membership, project=e.project, task=e.task, at=e.start
        )
    return _QUOTES[key]


def oracle(
    entries: list[TimeEntry], by: tuple[str, ...], zone: str, *, priced: bool = True
) -> dict[tuple, Cell]:
    """Every cell of a report computed entry by entry: ("total",), (a,), (a, b)."""
    finished = [e for e in entries if e.end is not None]
    org_zone = finished[0].organization.timezone if finished else "UTC"
    billed = billed_seconds_by_entry(
        [e for e in finished if e.billable], org_zone
    )  # the invoicing code's rounding, per entry (or per person's day and task)
    cells: dict[tuple, Cell] = defaultdict(Cell)
    for e in finished:
        firsts = keys_of(e, by[0], zone)
        seconds, b = e.duration_seconds, billed.get(e.pk, 0)
        targets: set[tuple] = {("total",)}
        for first in firsts:
            targets.add((first,))
            if len(by) == 2:
                for second in keys_of(e, by[1], zone):
                    targets.add((first, second))
        quote = _quote(e)
        for cell_key in targets:
            cell = cells[cell_key]
            cell.seconds += seconds
            cell.billable_seconds += seconds if e.billable else 0
            cell.billed_seconds += b
            if priced and quote.bill is not None and b:
                bill = quote.bill
                line = (
                    cell_key,
                    e.membership_id,
                    e.project_id,
                    e.task_id,
                    bill.amount,
                    bill.currency,
                )
                cell.lines[line] += b
            if priced and quote.cost is not None:
                cost = quote.cost
                cell.cost_lines[(cell_key, e.membership_id, cost.amount, cost.currency)] += seconds
    return cells
