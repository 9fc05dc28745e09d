"""Retainers: make them, and measure them: periods, draw-down, the balance left this period.

Closing periods (the invoices) is in retainer_runs.py. Periods are calendar months or
quarters in the organization's time zone. Draw-down is measured in billed time: each
entry after its project's rounding rule, as an invoice would bill it (decision 0012).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.automation.coverage import covered_by
from punchclock.automation.models import (
    Retainer,
    RetainerFrequency,
    RetainerKind,
    RetainerPeriod,
)
from punchclock.automation.periods import Period
from punchclock.automation.retainer_math import (
    Settlement,
    Terms,
    hours,
    money_units,
    settle,
    units_money,
)
from punchclock.clients.models import Client
from punchclock.core.money import minor_units
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.totals import line_net
from punchclock.projects.models import Project
from punchclock.projects.ratebook import RateBook
from punchclock.tracking.models import TimeEntry

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
HOUR = 3600
ZERO = Decimal(0)

FIELDS = {
    "project",
    "name",
    "kind",
    "included",
    "fee",
    "frequency",
    "starts_on",
    "ends_on",
    "overage",
    "overage_rate",
    "unused",
    "rollover_cap",
    "action",
    "is_active",
}
# What cannot change once a period has closed: the closed figures were measured with it.
FIXED_AFTER_CLOSE = {"project", "kind", "frequency", "starts_on"}


class RetainerError(Exception):
    """A close that cannot happen now (no rate, no authority); said, never half done."""


# Periods ------------------------------------------------------------------------------------


def _months(retainer: Retainer) -> int:
    return 3 if retainer.frequency == RetainerFrequency.QUARTERLY else 1


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_from(retainer: Retainer, start: date) -> Period:
    end = _add_months(start, _months(retainer)) - timedelta(days=1)
    return Period(start, end, end + timedelta(days=1))


def period_of(retainer: Retainer, day: date) -> Period | None:
    """The period containing `day`, or None outside the retainer's span."""
    if day < retainer.starts_on or (retainer.ends_on and day > retainer.ends_on):
        return None
    months = (day.year - retainer.starts_on.year) * 12 + day.month - retainer.starts_on.month
    start = _add_months(retainer.starts_on, months - months % _months(retainer))
    return period_from(retainer, start)


def periods_from(retainer: Retainer, start: date, *, ended_by: date) -> Iterator[Period]:
    """The periods from `start` on that ended before `ended_by` (the local today)."""
    period = period_from(retainer, start)
    while period.end < ended_by and (retainer.ends_on is None or period.start <= retainer.ends_on):
        yield period
        period = period_from(retainer, period.run_on)


def label(retainer: Retainer, period: Period) -> str:
    """ "December 2026", or "Q4 2026" for a quarter."""
    if retainer.frequency == RetainerFrequency.QUARTERLY:
        return f"Q{(period.start.month - 1) // 3 + 1} {period.start.year}"
    return f"{calendar.month_name[period.start.month]} {period.start.year}"


def today_for(retainer: Retainer) -> date:
    return local_date(now(), retainer.organization.timezone)


def last_closed(retainer: Retainer) -> RetainerPeriod | None:
    return retainer.periods.order_by("-period_start").first()


def due(retainer: Retainer, *, today: date | None = None) -> list[Period]:
    """Ended periods not closed yet, oldest first (they close in order: each carries on)."""
    today = today or today_for(retainer)
    last = last_closed(retainer)
    start = last.period_end + timedelta(days=1) if last else retainer.starts_on
    return list(periods_from(retainer, start, ended_by=today))


# Units --------------------------------------------------------------------------------------


def places(retainer: Retainer) -> int:
    return minor_units(retainer.client.currency)


def to_units(retainer: Retainer, quantity: Decimal) -> int:
    """Hours as seconds, or an amount as minor units; quantities have at most 2 decimals."""
    if retainer.kind == RetainerKind.HOURS:
        return int((quantity * HOUR).to_integral_value())
    return money_units(quantity.quantize(Decimal(1).scaleb(-places(retainer))), places(retainer))


def from_units(retainer: Retainer, units: int) -> Decimal:
    if retainer.kind == RetainerKind.HOURS:
        return hours(units)
    return units_money(units, places(retainer))


def show(retainer: Retainer, units: int) -> str:
    """A figure as people read it: "3.5 h" or "1,250.00 EUR"."""
    value = from_units(retainer, units)
    if retainer.kind == RetainerKind.HOURS:
        # Shown to the hundredth of an hour; the figures and invoice lines stay exact.
        return f"{value.quantize(Decimal('0.01')).normalize():f} h"
    return f"{value:,.{places(retainer)}f} {retainer.client.currency}"


def terms(retainer: Retainer) -> Terms:
    cap = None if retainer.rollover_cap is None else to_units(retainer, retainer.rollover_cap)
    return Terms(to_units(retainer, retainer.included), retainer.overage, retainer.unused, cap)


# Draw-down ----------------------------------------------------------------------------------


def drawable(retainer: Retainer, *, before: date) -> QuerySet[TimeEntry]:
    """Covered, finished, billable entries not on any invoice, started before `before`
    (local midnight): late entries of closed periods are drawn at the next close."""
    zone = retainer.organization.timezone
    entries = TimeEntry.objects.filter(
        covered_by(retainer),
        organization_id=retainer.organization_id,
        end__isnull=False,
        billable=True,
        billing__isnull=True,
        start__lt=start_of_day(before, zone),
    )
    return entries.select_related("project__client", "task", "membership__user").order_by(
        "start", "pk"
    )


def measure(
    retainer: Retainer, entries: Sequence[TimeEntry], book: RateBook | None = None
) -> tuple[int, dict[int, int]]:
    """What entries use of the allowance (units), and each entry's billed seconds.

    Hours: billed seconds after rounding. Amount: their value at their rates, one line
    per rate rounded once, as a draft would price them."""
    billed = invoicing.billed_seconds_by_entry(list(entries), retainer.organization.timezone)
    if retainer.kind == RetainerKind.HOURS:
        return sum(billed.values()), billed
    book = book or RateBook.load(retainer.organization)
    currency = retainer.client.currency
    by_price: dict[Decimal, int] = defaultdict(int)
    for entry in entries:
        price, _scope = book.bill(entry.membership, entry.project, entry.task, entry.start)
        if price is None or price.currency != currency:
            day = local_date(entry.start, retainer.organization.timezone)
            raise RetainerError(
                f"No bill rate in {currency} for {entry.membership.user.display_name} on "
                f"{entry.project.full_code} on {day}; set one first."
            )
        by_price[price.amount] += billed[entry.pk]
    value = sum(
        (line_net(invoicing._hours(s), p, ZERO, currency) for p, s in by_price.items()), ZERO
    )
    return money_units(value, places(retainer)), billed


@dataclass
class Projected:
    """A period settled from the work there is now: closed ones as they closed."""

    period: Period
    settlement: Settlement
    entries: list[TimeEntry] = field(default_factory=list)
    closed: RetainerPeriod | None = None


def project_chain(
    retainer: Retainer, *, today: date, through: Period | None = None
) -> list[Projected]:
    """The due periods settled in order as closes now would settle them, then (with
    `through`) the current period so far. Writes nothing."""
    last = last_closed(retainer)
    carried = last.carried_out if last else 0
    chain = due(retainer, today=today)
    later = last is None or (through is not None and through.start > last.period_start)
    if through is not None and later and (not chain or chain[-1].start < through.start):
        chain.append(through)
    if not chain:
        return []
    entries = list(drawable(retainer, before=chain[-1].run_on))
    book = RateBook.load(retainer.organization) if retainer.kind == RetainerKind.AMOUNT else None
    zone = retainer.organization.timezone
    found = []
    for index, period in enumerate(chain):
        boundary = start_of_day(period.run_on, zone)
        final = index == len(chain) - 1
        mine = [e for e in entries if final or e.start < boundary]
        entries = entries[len(mine) :]  # ordered by start: the rest are later
        used, _ = measure(retainer, mine, book)
        settled = settle(terms(retainer), carried_in=carried, used=used)
        found.append(Projected(period, settled, mine))
        carried = settled.carried_out
    return found


@dataclass(frozen=True)
class Balance:
    """This period's allowance, what is used so far, and what is left."""

    retainer: Retainer
    period: Period
    settlement: Settlement

    @property
    def left(self) -> int:
        return self.settlement.left

    @property
    def used_percent(self) -> int:
        allowance = self.settlement.allowance
        if allowance <= 0:
            return 100
        return min(100, round(100 * self.settlement.used / allowance))

    @property
    def over(self) -> bool:
        return self.left < 0

    def text(self, units: int) -> str:
        return show(self.retainer, units)

    @property
    def left_text(self) -> str:
        return show(self.retainer, self.left)

    @property
    def used_text(self) -> str:
        return show(self.retainer, self.settlement.used)

    @property
    def allowance_text(self) -> str:
        return show(self.retainer, self.settlement.allowance)

    @property
    def label(self) -> str:
        return label(self.retainer, self.period)


def balance(retainer: Retainer, *, today: date | None = None) -> Balance | None:
    """The live figure: the current period's allowance and use so far; None outside the span."""
    today = today or today_for(retainer)
    current = period_of(retainer, today)
    if current is None:
        return None
    chain = project_chain(retainer, today=today, through=current)
    if not chain:
        return None
    return Balance(retainer, current, chain[-1].settlement)


def balances(retainers: Sequence[Retainer]) -> list[Balance]:
    found = []
    for retainer in retainers:
        figure = balance(retainer)
        if figure is not None:
            found.append(figure)
    return found


def client_balances(client: Client) -> list[Balance]:
    """The live balances of a client's active retainers (client page, portal)."""
    retainers = Retainer.objects.filter(client=client, is_active=True).select_related(
        "organization", "client", "project"
    )
    return balances(list(retainers))


def project_balances(project: Project) -> list[Balance]:
    """The live balances of the active retainers that cover this project's time."""
    if not project.is_hourly:
        return []
    retainers = Retainer.objects.filter(
        Q(project__isnull=True) | Q(project=project), client_id=project.client_id, is_active=True
    ).select_related("organization", "client", "project")
    return balances(list(retainers))


# Making retainers ---------------------------------------------------------------------------


def save_retainer(
    by: Membership, *, retainer: Retainer | None = None, client: Any = None, **fields: Any
) -> Retainer:
    """Create (with `client`) or change a retainer; its closes act with `by`'s authority."""
    require(by, "invoices.manage")
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    if retainer is None:
        if client is None or client.organization_id != by.organization_id:
            raise field_error("client", "Choose one of your clients.")
        retainer = Retainer(organization_id=by.organization_id, client=client, run_as=by)
    elif retainer.organization_id != by.organization_id:
        raise PermissionDenied("This retainer belongs to another organization.")
    with transaction.atomic():
        if retainer.pk is not None and retainer.periods.exists():
            for name in FIXED_AFTER_CLOSE & set(fields):
                if fields[name] != getattr(retainer, name):
                    raise field_error(
                        name, "A period has closed with this: start a new retainer instead."
                    )
        for name, value in fields.items():
            setattr(retainer, name, value)
        retainer.run_as = by
        retainer.name = (retainer.name or "").strip() or f"{retainer.client.name} retainer"
        # The checks below say which field is wrong; the table's constraints only "violated".
        retainer.full_clean(
            exclude=["organization", "client", "run_as"], validate_constraints=False
        )
        _check(retainer)
        # The client row lock makes two overlapping retainers saved at once see each other.
        Client.objects.select_for_update().filter(pk=retainer.client_id).first()
        _check_overlap(retainer)
        retainer.save()
    return retainer


def _check(retainer: Retainer) -> None:
    for name in ("starts_on", "ends_on"):
        day = getattr(retainer, name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise field_error(name, f"Choose a day from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
    start = retainer.starts_on
    if start.day != 1:
        raise field_error("starts_on", "A retainer starts on the first day of a month.")
    quarterly = retainer.frequency == RetainerFrequency.QUARTERLY
    if quarterly and start.month not in (1, 4, 7, 10):
        raise field_error("starts_on", "A quarterly retainer starts on 1 Jan, Apr, Jul or Oct.")
    if retainer.ends_on is not None:
        if retainer.ends_on < start:
            raise field_error("ends_on", "The retainer cannot end before it starts.")
        last = period_of(retainer, retainer.ends_on)
        if last is None or last.end != retainer.ends_on:
            raise field_error("ends_on", "A retainer ends on the last day of a period.")
    project = retainer.project
    if project is not None:
        if project.client_id != retainer.client_id:
            raise field_error("project", "This project belongs to another client.")
        if not project.is_hourly:
            raise field_error(
                "project", "A retainer draws down hourly work: choose an hourly project."
            )
    for name in ("included", "fee", "overage_rate", "rollover_cap"):
        value = getattr(retainer, name)
        if value is not None and value != value.quantize(Decimal("0.01")):
            raise field_error(name, "Use at most two decimals.")
    if retainer.included <= 0:
        raise field_error("included", "Include more than nothing per period.")
    if retainer.fee <= 0:
        raise field_error("fee", "The fee per period is more than zero.")
    if retainer.kind == RetainerKind.AMOUNT and retainer.overage_rate is not None:
        raise field_error("overage_rate", "An amount retainer bills overage at the work's rates.")


def _check_overlap(retainer: Retainer) -> None:
    """Two retainers never cover the same entry: it would be drawn down twice."""
    others = Retainer.objects.filter(client_id=retainer.client_id).exclude(pk=retainer.pk)
    if retainer.project_id is not None:
        others = others.filter(Q(project__isnull=True) | Q(project_id=retainer.project_id))
    others = others.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=retainer.starts_on))
    if retainer.ends_on is not None:
        others = others.filter(starts_on__lte=retainer.ends_on)
    clash = others.first()
    if clash is not None:
        raise field_error(
            "starts_on", f"“{clash.name}” already covers this work then; end it first."
        )


def retainer_for(by: Membership, pk: int) -> Retainer:
    """A retainer of `by`'s organization, or 404; only people who bill may see retainers."""
    require(by, "invoices.manage")
    found = (
        Retainer.objects.filter(organization_id=by.organization_id, pk=pk)
        .select_related("organization", "client__organization", "project__client", "run_as__user")
        .first()
    )
    if found is None:
        raise Http404("No such retainer.")
    return found


def delete_retainer(retainer: Retainer, *, by: Membership) -> None:
    """Delete a retainer that never closed a period; one that did keeps its history."""
    require(by, "invoices.manage")
    if retainer.organization_id != by.organization_id:
        raise PermissionDenied("This retainer belongs to another organization.")
    with transaction.atomic():
        Retainer.objects.select_for_update().filter(pk=retainer.pk).first()
        if retainer.periods.exists():
            raise field_error(
                "retainer",
                "This retainer has closed periods, so it keeps its history: "
                "pause it, or set its last day.",
            )
        retainer.delete()
