"""Read-only summaries of tracked time: hours and billable amounts, summed in the database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Q, Sum, Value, When

from punchclock.accounts.models import Membership
from punchclock.core.money import round_money
from punchclock.core.timeutil import start_of_day
from punchclock.projects.models import Project, Rate, Task
from punchclock.projects.ratebook import RateBook
from punchclock.tracking.services import visible_entries

GROUPS = {
    "client": ("project__client_id", "project__client__name"),
    "project": ("project_id", None),
    "task": ("task_id", None),
    "person": ("membership_id", "membership__user__name"),
}
HOUR = Decimal(3600)


@dataclass
class SummaryRow:
    key: str
    label: str
    seconds: int = 0
    billable_seconds: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "hours": str((Decimal(self.seconds) / HOUR).quantize(Decimal("0.01"))),
            "billable_hours": str(
                (Decimal(self.billable_seconds) / HOUR).quantize(Decimal("0.01"))
            ),
            "seconds": self.seconds,
            "billable_seconds": self.billable_seconds,
            "amounts": {c: str(a) for c, a in sorted(self.amounts.items())},
        }


def _rate_boundaries(membership: Membership) -> list[datetime]:
    """Instants at which any rate of the organization changes (local midnight, as UTC)."""
    zone = membership.organization.timezone
    # order_by() first: Rate's default ordering would make DISTINCT keep duplicate days.
    days = (
        Rate.objects.filter(organization_id=membership.organization_id)
        .order_by()
        .values_list("effective_from", flat=True)
        .distinct()
    )
    return sorted({start_of_day(day, zone) for day in days})


def time_summary(
    membership: Membership, *, start: datetime | None, end: datetime | None, by: str
) -> list[SummaryRow]:
    """Hours and billable amounts of finished entries starting in [start, end), grouped."""
    if by not in GROUPS:
        raise ValueError(f"cannot group by {by!r}")
    entries = visible_entries(membership).filter(end__isnull=False)
    if start is not None:
        entries = entries.filter(start__gte=start)
    if end is not None:
        entries = entries.filter(start__lt=end)
    boundaries = _rate_boundaries(membership)
    # Rates are constant between two boundaries, so a group per (person, project, task,
    # period) can be priced once: one query however many entries there are.
    period = (
        Case(
            *[
                When(start__gte=b, then=Value(i + 1))
                for i, b in reversed(list(enumerate(boundaries)))
            ],
            default=Value(0),
            output_field=IntegerField(),
        )
        if boundaries
        else Value(0, output_field=IntegerField())
    )
    grouped = (
        entries.order_by()
        .annotate(period=period)
        .values("membership_id", "project_id", "task_id", "period")
        .annotate(
            total=Sum("duration_seconds"),
            billable_total=Sum("duration_seconds", filter=Q(billable=True)),
        )
    )
    groups = list(grouped)
    projects = Project.objects.select_related("client", "organization").in_bulk(
        {g["project_id"] for g in groups}
    )
    tasks = Task.objects.in_bulk({g["task_id"] for g in groups if g["task_id"]})
    people = Membership.objects.select_related("user").in_bulk({g["membership_id"] for g in groups})
    book = RateBook.load(membership.organization)
    rows: dict[Any, SummaryRow] = {}
    priced: dict[tuple[Any, ...], int] = defaultdict(int)
    for g in groups:
        project = projects[g["project_id"]]
        task = tasks.get(g["task_id"]) if g["task_id"] else None
        person = people[g["membership_id"]]
        key, label = _key(by, project, task, person)
        row = rows.setdefault(key, SummaryRow(key=str(key), label=label))
        row.seconds += g["total"] or 0
        billable = g["billable_total"] or 0
        row.billable_seconds += billable
        if billable:
            at = boundaries[g["period"] - 1] if g["period"] else _before(boundaries)
            bill, _ = book.bill(person, project, task, at)
            if bill is not None:
                priced[(key, person.pk, project.pk, g["task_id"], bill)] += billable
    # Periods split by unrelated rate changes merge again here, so each (person, project,
    # task, rate) is rounded once, as an invoice line would be.
    for (key, *_, bill), seconds in priced.items():
        amount = round_money(bill.amount * seconds / HOUR, bill.currency)
        row = rows[key]
        row.amounts[bill.currency] = row.amounts.get(bill.currency, Decimal(0)) + amount
    return sorted(rows.values(), key=lambda r: (-r.seconds, r.label))


def _before(boundaries: list[datetime]) -> datetime:
    """An instant before every rate change (entries older than all rates)."""
    from datetime import UTC

    first = boundaries[0] if boundaries else datetime(2000, 1, 1, tzinfo=UTC)
    return first - timedelta(days=1)


def _key(by: str, project: Project, task: Task | None, person: Membership) -> tuple[Any, str]:
    if by == "client":
        return project.client_id, project.client.name
    if by == "project":
        return project.pk, f"{project.full_code} · {project.name}"
    if by == "task":
        name = task.name if task else "(no task)"
        return (project.pk, task.pk if task else 0), f"{project.full_code} · {name}"
    return person.pk, person.user.display_name


def totals(rows: list[SummaryRow]) -> SummaryRow:
    total = SummaryRow(key="total", label="Total")
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        total.seconds += row.seconds
        total.billable_seconds += row.billable_seconds
        for currency, amount in row.amounts.items():
            amounts[currency] += amount
    total.amounts = dict(amounts)
    return total
