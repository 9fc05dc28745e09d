"""Profitability per project, client or person: revenue against cost for a period's work.

Revenue is what the work of the period was invoiced at, or would be:
- time on an issued invoice: each line's net (after the document's discount or surcharge,
  less what credit notes took back from the line) split over the line's entries by their
  seconds, so a line that bills entries from inside and outside the period counts its
  share; the split keeps every line's cents (largest remainder);
- fixed-fee lines: those that bill the project's entries (the fee appears with its work)
  are time on an issued invoice as above, split over those entries; a fee line without
  time (a milestone share alone) counts on its project (no person) when its document is
  issued in the period;
- billable time not on an issued invoice: its billable value (the time report's amount).
Cost is cost rate × tracked hours (the time report's cost) plus approved non-billable
expenses of the period. Margin is taken in the organization's currency, each currency
converted at the exchange-rate table's rate on the period's last day (or today) (one rate each, so
the table can be checked by hand); a currency without a rate leaves the margin empty.
Owners and admins only: cost rates are theirs to see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.core.money import quantum, round_money
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.reports.query import TimeFilter, dialect, read_once
from punchclock.reports.timereport import time_report

ZERO = Decimal(0)
HUNDRED = Decimal(100)
DIMENSIONS = ("project", "client", "person")
Money = dict[str, Decimal]


@dataclass
class ProfitRow:
    key: int | None
    label: str
    seconds: int = 0
    invoiced: Money = field(default_factory=dict)
    uninvoiced: Money = field(default_factory=dict)
    cost: Money = field(default_factory=dict)
    expenses: Money = field(default_factory=dict)
    revenue_home: Decimal | None = None
    cost_home: Decimal | None = None

    @property
    def revenue(self) -> Money:
        return _plus(self.invoiced, self.uninvoiced)

    @property
    def costs(self) -> Money:
        return _plus(self.cost, self.expenses)

    @property
    def margin(self) -> Decimal | None:
        if self.revenue_home is None or self.cost_home is None:
            return None
        return self.revenue_home - self.cost_home

    @property
    def margin_percent(self) -> Decimal | None:
        if self.margin is None or not self.revenue_home:
            return None
        return (self.margin * HUNDRED / self.revenue_home).quantize(Decimal(1), ROUND_HALF_UP)


@dataclass
class ProfitReport:
    by: str
    first: date
    last: date
    home: str
    rates: dict[str, Decimal | None]
    rows: list[ProfitRow]
    total: ProfitRow
    rate_day: date


def _plus(a: Money, b: Money) -> Money:
    out = dict(a)
    for currency, amount in b.items():
        out[currency] = out.get(currency, ZERO) + amount
    return dict(sorted(out.items()))


def _add(bucket: Money, currency: str, amount: Decimal) -> None:
    bucket[currency] = bucket.get(currency, ZERO) + amount


def _split(total: Decimal, weights: dict[Any, int], currency: str) -> dict[Any, Decimal]:
    """`total` over keys by weight, rounded to the currency, the cents summing to total."""
    unit = quantum(currency)
    whole = sum(weights.values())
    if not whole:
        return {}
    exact = {k: total * w / whole for k, w in weights.items()}
    shares = {
        k: (v / unit).to_integral_value(rounding="ROUND_FLOOR") * unit for k, v in exact.items()
    }
    left = int((total - sum(shares.values())) / unit)
    for key in sorted(exact, key=lambda k: exact[k] - shares[k], reverse=True)[: max(left, 0)]:
        shares[key] += unit
    return shares


def _key_sql(by: str, table: str = "e") -> str:
    person = f"{table}.membership_id"
    return {"project": f"{table}.project_id", "client": "p.client_id", "person": person}[by]


# Whether issued lines' time is read from their kept sums (invoicing.BilledWork) for the
# whole UTC months and days of a period; tests and the benchmark turn it off to compare
# with the entry-level path, which reads every billed entry of the period.
KEEP_LINE_WORK = True

# Seconds of the period's work per (line, key), and each line's whole time.
Parts = dict[tuple[int, Any], int]


def _invoiced_time(viewer: Membership, where: TimeFilter, by: str) -> dict[int | None, Money]:
    """Issued lines' value for the period's entries on them, per key and currency."""
    # profitability() closes an open period with its first and last day.
    assert where.start is not None
    assert where.end is not None
    org = viewer.organization_id
    if KEEP_LINE_WORK:
        parts, totals = _kept_parts(org, where.start, where.end, by)
    else:
        parts = _entry_parts(org, where.start, where.end, by)
        totals = _entry_line_seconds({line for line, _ in parts})
    line_ids = sorted({line for line, _ in parts})
    values = _line_values(line_ids)
    by_line: dict[int, dict[Any, int]] = defaultdict(dict)
    # In key order, so the split gives a tied cent to the same key on every path and vendor.
    for (line_id, k), seconds in sorted(parts.items()):
        by_line[line_id][k] = seconds
    out: dict[int | None, Money] = defaultdict(dict)
    for line_id, weights in by_line.items():
        currency, value = values.get(line_id, ("", ZERO))
        if not currency:
            continue
        total_seconds = totals.get(line_id) or sum(weights.values())
        in_period = round_money(value * sum(weights.values()) / total_seconds, currency)
        for k, share in _split(in_period, weights, currency).items():
            _add(out[k], currency, share)
    return out


def _entry_parts(org: int, start: datetime, end: datetime, by: str) -> Parts:
    """Per (line, key), the seconds of issued lines' entries starting in [start, end)."""
    sql = dialect()
    key = _key_sql(by)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT be.line_id, {key}, SUM(e.duration_seconds) "  # noqa: S608 - fixed columns
            "FROM invoicing_billedentry be JOIN tracking_timeentry e ON e.id = be.entry_id "
            "JOIN projects_project p ON p.id = e.project_id "
            "JOIN invoicing_invoiceline il ON il.id = be.line_id "
            "JOIN invoicing_invoice i ON i.id = il.invoice_id "
            "WHERE i.organization_id = %s AND i.status = 'issued' AND e.organization_id = %s "
            "AND e.start >= %s AND e.start < %s GROUP BY be.line_id, " + key,
            [org, org, sql.adapt(start), sql.adapt(end)],
        )
        return {(line, k): int(seconds or 0) for line, k, seconds in cursor.fetchall()}


def _entry_line_seconds(line_ids: set[int]) -> dict[int, int]:
    """Each line's time over all its billed entries, read from the entries."""
    ordered = sorted(line_ids)
    totals: dict[int, int] = {}
    with connection.cursor() as cursor:
        for chunk in range(0, len(ordered), 500):
            ids = ordered[chunk : chunk + 500]
            cursor.execute(
                "SELECT be.line_id, SUM(e.duration_seconds) FROM invoicing_billedentry be "  # noqa: S608 - placeholders only
                "JOIN tracking_timeentry e ON e.id = be.entry_id "
                f"WHERE be.line_id IN ({', '.join(['%s'] * len(ids))}) GROUP BY be.line_id",
                ids,
            )
            totals.update({row[0]: int(row[1] or 0) for row in cursor.fetchall()})
    return totals


def _kept_parts(org: int, start: datetime, end: datetime, by: str) -> tuple[Parts, dict[int, int]]:
    """_entry_parts and the lines' time, read from kept sums where they answer exactly.

    The kept rows sum a line's entries per UTC month and UTC day of their start, so the
    period [start, end) is cut into whole UTC months, whole UTC days around them, and at
    most two partial days at its ends, whose entries are read one by one. A local midnight
    is a UTC instant whatever the zone, so this is exact for any viewer."""
    from punchclock.invoicing.models import WorkUnit

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), UTC)

    first_day = start.astimezone(UTC).date()
    if midnight(first_day) < start:
        first_day += timedelta(days=1)
    end_day = end.astimezone(UTC).date()  # the day after the last whole one
    if first_day >= end_day:
        return _with_line_seconds(_entry_parts(org, start, end, by), {})
    first_month = first_day if first_day.day == 1 else _next_month(first_day)
    end_month = end_day.replace(day=1)
    kept: list[tuple[str, date, date]] = []
    if first_month < end_month:
        kept += [
            (WorkUnit.DAY, first_day, first_month),
            (WorkUnit.MONTH, first_month, end_month),
            (WorkUnit.DAY, end_month, end_day),
        ]
    else:
        kept.append((WorkUnit.DAY, first_day, end_day))
    parts: Parts = {}
    totals: dict[int, int] = {}
    adapt = connection.ops.adapt_datefield_value
    key = _key_sql(by, "w")
    join = " JOIN projects_project p ON p.id = w.project_id" if by == "client" else ""
    with connection.cursor() as cursor:
        for unit, low, high in kept:
            if low >= high:
                continue
            cursor.execute(
                f"SELECT w.line_id, {key}, SUM(w.seconds), MAX(w.line_seconds) "  # noqa: S608 - fixed columns
                f"FROM invoicing_billedwork w{join} WHERE w.organization_id = %s "
                "AND w.unit = %s AND w.day >= %s AND w.day < %s GROUP BY w.line_id, " + key,
                [org, str(unit), adapt(low), adapt(high)],
            )
            for line, k, seconds, line_seconds in cursor.fetchall():
                parts[line, k] = parts.get((line, k), 0) + int(seconds)
                totals[line] = int(line_seconds)
    edges = [(start, midnight(first_day)), (midnight(end_day), end)]
    for low_at, high_at in edges:
        if low_at < high_at:
            for part, seconds in _entry_parts(org, low_at, high_at, by).items():
                parts[part] = parts.get(part, 0) + seconds
    return _with_line_seconds(parts, totals)


def _with_line_seconds(parts: Parts, totals: dict[int, int]) -> tuple[Parts, dict[int, int]]:
    """The lines' time for those only the partial days brought in, from their entries."""
    missing = {line for line, _ in parts} - set(totals)
    return parts, {**totals, **_entry_line_seconds(missing)}


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _line_values(line_ids: list[int]) -> dict[int, tuple[str, Decimal]]:
    """Issued lines' net after their document's discount and surcharge, less their credits."""
    from punchclock.invoicing.models import Invoice, InvoiceLine, InvoiceStatus

    # Lines, then their documents, each by primary key: joined in one query with thousands
    # of ids, SQLite's planner walks every invoice and probes the id list per invoice
    # (0.13 s for 1,700 lines of 1,600 invoices).
    lines: list[tuple[int, Any, int]] = []
    for chunk in range(0, len(line_ids), 2000):
        lines += (
            InvoiceLine.objects.filter(pk__in=line_ids[chunk : chunk + 2000])
            .values_list("pk", "net_amount", "invoice_id")
            .order_by()
        )
    documents: dict[int, tuple[str, Any, Any]] = {}
    invoice_ids = sorted({invoice for _, _, invoice in lines})
    for chunk in range(0, len(invoice_ids), 2000):
        issued = Invoice.objects.filter(
            pk__in=invoice_ids[chunk : chunk + 2000], status=InvoiceStatus.ISSUED
        ).values_list("pk", "currency", "discount_percent", "surcharge_percent")
        documents.update({pk: (c, d, s) for pk, c, d, s in issued.order_by()})
    out: dict[int, tuple[str, Decimal]] = {}
    for pk, net, invoice in lines:
        if invoice not in documents:
            continue
        currency, discount, surcharge = documents[invoice]
        factor = (HUNDRED - Decimal(str(discount)) + Decimal(str(surcharge))) / HUNDRED
        out[pk] = (currency, round_money(Decimal(str(net)) * factor, currency))
    credits = InvoiceLine.objects.filter(
        credits_line_id__in=list(out), invoice__status=InvoiceStatus.ISSUED
    ).values_list("credits_line_id", "net_amount", "invoice__discount_percent")
    for original, net, discount in credits.order_by():
        currency, value = out[original]
        factor = (HUNDRED - Decimal(str(discount))) / HUNDRED
        out[original] = (currency, value + round_money(Decimal(str(net)) * factor, currency))
    return out


@read_once()
def profitability(
    viewer: Membership, where: TimeFilter, *, by: str, first: date, last: date, zone: str
) -> ProfitReport:
    from punchclock.expenses.models import Expense, ExpenseStatus
    from punchclock.expenses.services import conversion
    from punchclock.invoicing.models import BilledEntry, BilledFixedFee, InvoiceStatus

    if not can(viewer, "cost_rates.view"):
        raise PermissionDenied("Profitability shows cost rates: it is for owners and admins.")
    if by not in DIMENSIONS:
        raise ValidationError({"by": [f"Use one of {', '.join(DIMENSIONS)}."]})
    organization = viewer.organization
    home = organization.default_currency
    where = TimeFilter(
        start=where.start or start_of_day(first, zone),
        end=where.end or start_of_day(last + timedelta(days=1), zone),
    )
    # Hours and costs of all the work; the billable value of the work not invoiced yet.
    # Each report prices only what is read of it: without costs, the second one reads the
    # kept lines alone (decision 0021).
    everything = time_report(viewer, where, by=(by,), zone=zone, bill=False)
    open_work = time_report(
        viewer,
        TimeFilter(start=where.start, end=where.end, billable=True, invoiced=False),
        by=(by,),
        zone=zone,
        cost=False,
    )
    rows: dict[int | None, ProfitRow] = {}

    def row(key: int | None, label: str = "") -> ProfitRow:
        if key not in rows:
            rows[key] = ProfitRow(key, label)
        elif label and not rows[key].label:
            rows[key].label = label
        return rows[key]

    for group in everything.groups:
        item = row(group.key[0], group.label)
        item.seconds = group.figures.seconds
        item.cost = dict(group.figures.cost)
    for group in open_work.groups:
        row(group.key[0], group.label).uninvoiced = {
            c: a for c, a in group.figures.amounts.items() if a
        }
    for key, money in _invoiced_time(viewer, where, by).items():
        item = row(key)
        for currency, amount in money.items():
            _add(item.invoiced, currency, amount)
    if by != "person":
        # A fee line that bills the project's entries is revenue of that work, split over
        # it above like any line; only a fee without time (a milestone share alone)
        # counts here, by its issue date. Counting both doubled the fee.
        fees = (
            BilledFixedFee.objects.filter(
                project__organization=organization,
                line__invoice__status=InvoiceStatus.ISSUED,
                line__invoice__issue_date__gte=first,
                line__invoice__issue_date__lte=last,
            )
            .exclude(Exists(BilledEntry.objects.filter(line_id=OuterRef("line_id"))))
            .values_list("line_id", "project_id", "project__client_id")
        )
        fee_lines = {line: (project, client) for line, project, client in fees}
        for line_id, (currency, value) in _line_values(sorted(fee_lines)).items():
            project, client = fee_lines[line_id]
            _add(row(project if by == "project" else client).invoiced, currency, value)
    expenses = Expense.objects.filter(
        organization=organization,
        billable=False,
        status=ExpenseStatus.APPROVED,
        spent_on__gte=first,
        spent_on__lte=last,
    )
    field_name = {"project": "project_id", "client": "client_id", "person": "membership_id"}[by]
    for key, currency, net in expenses.values_list(field_name, "currency", "net_amount").order_by():
        _add(row(key).expenses, currency, round_money(Decimal(str(net)), currency))
    _label_missing(viewer, by, rows)
    currencies = {
        c for item in rows.values() for money in (item.revenue, item.costs) for c in money
    }
    rates: dict[str, Decimal | None] = {}
    # The period's last day, or today while it runs: rates of the future do not exist yet.
    rate_day = min(last, local_date(now(), zone))
    for currency in sorted(currencies):
        try:
            rates[currency] = conversion(organization, currency, home, rate_day).rate
        except ValidationError:
            rates[currency] = None
    total = ProfitRow(None, "Total")
    for item in rows.values():
        item.revenue_home = _in_home(item.revenue, rates, home)
        item.cost_home = _in_home(item.costs, rates, home)
        total.seconds += item.seconds
        for attr in ("invoiced", "uninvoiced", "cost", "expenses"):
            for currency, amount in getattr(item, attr).items():
                _add(getattr(total, attr), currency, amount)
    total.revenue_home = _in_home(total.revenue, rates, home)
    total.cost_home = _in_home(total.costs, rates, home)
    ordered = sorted(
        rows.values(), key=lambda r: (-(r.margin or ZERO), -(r.revenue_home or ZERO), r.label)
    )
    return ProfitReport(by, first, last, home, rates, ordered, total, rate_day)


def _in_home(money: Money, rates: dict[str, Decimal | None], home: str) -> Decimal | None:
    total = ZERO
    for currency, amount in money.items():
        rate = rates.get(currency)
        if rate is None:
            return None
        total += round_money(amount * rate, home)
    return total


def _label_missing(viewer: Membership, by: str, rows: dict[int | None, ProfitRow]) -> None:
    """Names of keys that only invoices or expenses brought in (no time in the period)."""
    from punchclock.clients.models import Client
    from punchclock.projects.models import Project

    missing = [k for k, r in rows.items() if not r.label and k is not None]
    org = viewer.organization_id
    names: dict[Any, str] = {}
    if missing and by == "project":
        for p in Project.objects.filter(organization_id=org, pk__in=missing).select_related(
            "client"
        ):
            names[p.pk] = f"{p.full_code} · {p.name}"
    elif missing and by == "client":
        names = dict(
            Client.objects.filter(organization_id=org, pk__in=missing).values_list("pk", "name")
        )
    elif missing:
        names = {
            m.pk: m.user.display_name
            for m in Membership.objects.filter(organization_id=org, pk__in=missing).select_related(
                "user"
            )
        }
    for key, item in rows.items():
        if not item.label:
            item.label = names.get(key, "(none)" if key is None else "?")
