"""Utilisation and allocation: billable hours against capacity, and who worked on what.

Capacity is the membership's weekly capacity spread evenly over the seven days of a week,
counted over the period's days up to today (a month in progress is not judged against
the days still to come). Hours come from the time report's engine, so they match it to
the second; the viewer's role limits whose hours appear (members: their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from punchclock.accounts.models import Membership
from punchclock.reports.query import TimeFilter, org_people, read_once, scope_for
from punchclock.reports.timereport import hours, time_report

HUNDRED = Decimal(100)


@dataclass
class Share:
    key: int
    label: str
    seconds: int
    billable_seconds: int


@dataclass
class PersonRow:
    membership_id: int
    name: str
    weekly_capacity: Decimal
    capacity_hours: Decimal
    seconds: int = 0
    billable_seconds: int = 0
    projects: list[Share] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return hours(self.seconds)

    @property
    def billable_hours(self) -> Decimal:
        return hours(self.billable_seconds)

    @property
    def utilisation(self) -> Decimal | None:
        """Billable hours as a percentage of capacity; None without capacity."""
        if not self.capacity_hours:
            return None
        value = Decimal(self.billable_seconds) / 36 / self.capacity_hours
        return value.quantize(Decimal(1), ROUND_HALF_UP)

    @property
    def load(self) -> Decimal | None:
        """All tracked hours as a percentage of capacity."""
        if not self.capacity_hours:
            return None
        return (Decimal(self.seconds) / 36 / self.capacity_hours).quantize(
            Decimal(1), ROUND_HALF_UP
        )


@dataclass
class ProjectRow:
    project_id: int
    label: str
    seconds: int
    billable_seconds: int
    people: list[Share]


@dataclass
class UtilisationReport:
    first: date
    last: date
    counted_days: int
    people: list[PersonRow]
    projects: list[ProjectRow]
    total_seconds: int
    total_billable_seconds: int


def counted_days(first: date, last: date, today: date) -> int:
    """Days of [first, last] that have begun by today (at least zero)."""
    end = min(last, today)
    return max((end - first).days + 1, 0)


@read_once()
def utilisation_report(
    viewer: Membership, where: TimeFilter, *, first: date, last: date, today: date, zone: str
) -> UtilisationReport:
    days = counted_days(first, last, today)
    report = time_report(viewer, where, by=("person", "project"), zone=zone, money=False)
    scope = scope_for(viewer)
    people = org_people(viewer.organization_id)
    with_time = {g.key[0] for g in report.groups}
    if not scope.everyone:
        # Members and managers: the people whose time they may see, and themselves.
        shown = with_time | {viewer.pk}
    else:
        shown = with_time | {pk for pk, person in people.items() if person.active}
    rows: dict[int, PersonRow] = {}
    for pk, person in people.items():  # ordered by name
        if pk not in shown:
            continue
        weekly = person.weekly_capacity
        rows[pk] = PersonRow(
            membership_id=pk,
            name=person.name,
            weekly_capacity=weekly,
            capacity_hours=(weekly * days / 7).quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
    by_project: dict[int, ProjectRow] = {}
    for group in report.groups:
        row = rows.get(group.key[0])
        if row is None:  # pragma: no cover - every person with time is loaded above
            continue
        row.seconds = group.figures.seconds
        row.billable_seconds = group.figures.billable_seconds
        for child in group.children:
            share = Share(
                child.key[0], child.label, child.figures.seconds, child.figures.billable_seconds
            )
            row.projects.append(share)
            project = by_project.setdefault(
                child.key[0], ProjectRow(child.key[0], child.label, 0, 0, [])
            )
            project.seconds += child.figures.seconds
            project.billable_seconds += child.figures.billable_seconds
            project.people.append(
                Share(
                    row.membership_id,
                    row.name,
                    child.figures.seconds,
                    child.figures.billable_seconds,
                )
            )
    projects = sorted(by_project.values(), key=lambda p: (-p.seconds, p.label.lower()))
    for project in projects:
        project.people.sort(key=lambda s: (-s.seconds, s.label.lower()))
    ordered = sorted(rows.values(), key=lambda r: (-r.seconds, r.name.lower()))
    return UtilisationReport(
        first=first,
        last=last,
        counted_days=days,
        people=ordered,
        projects=projects,
        total_seconds=report.total.seconds,
        total_billable_seconds=report.total.billable_seconds,
    )


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)
