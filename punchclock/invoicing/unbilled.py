"""What is left to bill: unbilled time, fixed fees and expenses per client and project.

Read-only; the web page, the API and `punch unbilled` all use it. The figures are the ones
`services.create_draft` (grouped by project) would put on a draft for the same period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet

from punchclock.clients.models import Client
from punchclock.core.timeutil import local_date, start_of_day
from punchclock.invoicing import services
from punchclock.invoicing.totals import line_net
from punchclock.projects.models import BillingMethod, Project
from punchclock.projects.ratebook import RateBook

# An open end of the period; far enough from any work, near enough for date arithmetic.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)
ZERO = Decimal(0)


@dataclass
class ProjectUnbilled:
    """One project's unbilled work; `project` is None for expenses booked on no project."""

    project: Project | None
    currency: str
    entries: int = 0
    raw_seconds: int = 0
    billed_seconds: int = 0
    # Entries without a bill rate in the client's currency: a draft would refuse them.
    unpriced: int = 0
    priced_time_amount: Decimal = ZERO
    fixed_fee: Decimal | None = None
    expense_count: int = 0
    expense_amount: Decimal = ZERO
    oldest: date | None = None
    # Billed seconds per unit price: a draft makes one line per price, rounded once each.
    seconds_by_price: dict[Decimal, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def missing_rate(self) -> bool:
        return self.unpriced > 0

    @property
    def time_amount(self) -> Decimal | None:
        return None if self.missing_rate else self.priced_time_amount

    @property
    def amount(self) -> Decimal | None:
        """Time, fixed fee and expenses; None while some time has no rate."""
        if self.time_amount is None:
            return None
        return self.time_amount + (self.fixed_fee or ZERO) + self.expense_amount

    def _seen(self, day: date) -> None:
        self.oldest = day if self.oldest is None else min(self.oldest, day)


@dataclass
class ClientUnbilled:
    client: Client
    projects: list[ProjectUnbilled]

    @property
    def currency(self) -> str:
        return self.client.currency

    def _sum(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.projects)

    @property
    def entries(self) -> int:
        return self._sum("entries")

    @property
    def raw_seconds(self) -> int:
        return self._sum("raw_seconds")

    @property
    def billed_seconds(self) -> int:
        return self._sum("billed_seconds")

    @property
    def unpriced(self) -> int:
        return self._sum("unpriced")

    @property
    def missing_rate(self) -> bool:
        return self.unpriced > 0

    @property
    def priced_time_amount(self) -> Decimal:
        return sum((p.priced_time_amount for p in self.projects), ZERO)

    @property
    def time_amount(self) -> Decimal | None:
        return None if self.missing_rate else self.priced_time_amount

    @property
    def fixed_fees(self) -> Decimal:
        return sum((p.fixed_fee or ZERO for p in self.projects), ZERO)

    @property
    def expense_count(self) -> int:
        return self._sum("expense_count")

    @property
    def expense_amount(self) -> Decimal:
        return sum((p.expense_amount for p in self.projects), ZERO)

    @property
    def amount(self) -> Decimal | None:
        if self.time_amount is None:
            return None
        return self.time_amount + self.fixed_fees + self.expense_amount

    @property
    def oldest(self) -> date | None:
        days = [p.oldest for p in self.projects if p.oldest is not None]
        return min(days, default=None)


def _fee_left(project: Project, currency: str) -> Decimal | None:
    """What is left of a fixed fee, as the draft's fee line would bill it."""
    if project.fixed_fee is None:
        return None
    left = Decimal(100) - services.fee_share_billed(project)
    if left <= 0:
        return None
    quantity = Decimal(1) if left == 100 else (left / 100).quantize(services.HOURS_QUANTUM)
    return line_net(quantity, project.fixed_fee, ZERO, currency)


def client_unbilled(
    client: Client,
    *,
    first: date | None = None,
    last: date | None = None,
    book: RateBook | None = None,
) -> ClientUnbilled:
    """The client's unbilled billable time and approved expenses from first to last (inclusive).

    Hourly time is priced at each entry's rate on its day and rounded by the project's rule;
    a fixed-fee project with unbilled time shows what is left of its fee."""
    zone = client.organization.timezone
    first, last = first or EARLIEST, last or LATEST
    book = book or RateBook.load(client.organization)
    currency = client.currency
    rows: dict[int | None, ProjectUnbilled] = {}
    entries = list(
        services.unbilled_entries(
            client,
            start=start_of_day(first, zone),
            end=start_of_day(last + timedelta(days=1), zone),
        )
    )
    rounded = services.billed_seconds_by_entry([e for e in entries if e.project.is_hourly], zone)
    for entry in entries:
        project = entry.project
        row = rows.setdefault(project.pk, ProjectUnbilled(project, currency))
        seconds = entry.seconds()
        row.entries += 1
        row.raw_seconds += seconds
        row._seen(local_date(entry.start, zone))
        if not project.is_hourly:
            # The fee covers the time; a draft records it unrounded.
            row.billed_seconds += seconds
            continue
        billed = rounded[entry.pk]
        row.billed_seconds += billed
        price, _scope = book.bill(entry.membership, project, entry.task, entry.start)
        if price is None or price.currency != currency:
            row.unpriced += 1
        else:
            row.seconds_by_price[price.amount] += billed
    for row in rows.values():
        for unit_price, billed in row.seconds_by_price.items():
            row.priced_time_amount += line_net(services._hours(billed), unit_price, ZERO, currency)
        if row.project is not None and row.project.billing_method == BillingMethod.FIXED_FEE:
            row.fixed_fee = _fee_left(row.project, currency)
    for expense in services.unbilled_expenses(client, first=first, last=last).select_related(
        "project"
    ):
        if expense.project_id not in rows:
            rows[expense.project_id] = ProjectUnbilled(expense.project, currency)
        row = rows[expense.project_id]
        row.expense_count += 1
        row.expense_amount += expense.billable_amount
        row._seen(expense.spent_on)
    ordered = sorted(
        rows.values(), key=lambda r: (r.project is None, r.project.code if r.project else "")
    )
    return ClientUnbilled(client, ordered)


def unbilled_work(
    clients: QuerySet[Client], *, first: date | None = None, last: date | None = None
) -> list[ClientUnbilled]:
    """Every client of the queryset (one organization's) that has unbilled work, by name."""
    found = []
    book: RateBook | None = None
    for client in clients.select_related("organization").order_by("name", "pk"):
        book = book or RateBook.load(client.organization)
        work = client_unbilled(client, first=first, last=last, book=book)
        if work.projects:
            found.append(work)
    return found
