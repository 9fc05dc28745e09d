"""The small time summary of the timer pages and `punch report`, now served by reports.

Kept as a thin adapter so existing callers keep their shape; the work happens in
punchclock/reports/timereport.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from punchclock.accounts.models import Membership
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import Figures, hours, time_report

GROUPS = ("client", "project", "task", "person")


@dataclass
class SummaryRow:
    key: str
    label: str
    seconds: int = 0
    billable_seconds: int = 0
    billed_seconds: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, label: str, figures: Figures) -> SummaryRow:
        return cls(
            key=key,
            label=label,
            seconds=figures.seconds,
            billable_seconds=figures.billable_seconds,
            billed_seconds=figures.billed_seconds,
            amounts=dict(figures.amounts),
            cost=dict(figures.cost),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "hours": str(hours(self.seconds)),
            "billable_hours": str(hours(self.billable_seconds)),
            "billed_hours": str(hours(self.billed_seconds)),
            "seconds": self.seconds,
            "billable_seconds": self.billable_seconds,
            "billed_seconds": self.billed_seconds,
            "amounts": {c: str(a) for c, a in sorted(self.amounts.items())},
            "cost": {c: str(a) for c, a in sorted(self.cost.items())},
        }


def time_summary(
    membership: Membership, *, start: datetime | None, end: datetime | None, by: str
) -> list[SummaryRow]:
    """Hours and billable amounts of finished entries starting in [start, end), grouped."""
    if by not in GROUPS:
        raise ValueError(f"cannot group by {by!r}")
    report = time_report(membership, TimeFilter(start=start, end=end), by=(by,))
    return [SummaryRow.of(g.token, g.label, g.figures) for g in report.groups]


def totals(rows: list[SummaryRow]) -> SummaryRow:
    total = SummaryRow(key="total", label="Total")
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        total.seconds += row.seconds
        total.billable_seconds += row.billable_seconds
        total.billed_seconds += row.billed_seconds
        for currency, amount in row.amounts.items():
            amounts[currency] += amount
        for currency, amount in row.cost.items():
            cost[currency] += amount
    total.amounts = dict(amounts)
    total.cost = dict(cost)
    return total
