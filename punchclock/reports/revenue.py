"""Revenue per month (invoiced and received) and tax collected per rate, from issued documents.

Issued invoices and credit notes never change, so their stored totals are the figures the
client and the tax office saw; a credit note's totals are negative (its quantities are), so
it lowers the month it is issued in. Amounts in another currency are converted with the
rate the invoice recorded for its VAT (BT-111) or else the organization's exchange-rate
table on the issue day (the same lookup issuing uses); each document is converted and
rounded once, then summed. A period is a range of local days: issue and receipt dates are
already days, so no instant is cut here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import can
from punchclock.core.money import round_money

ZERO = Decimal(0)


class RevenueForbidden(PermissionError):
    """Money reports are for owners and admins (the people who issue invoices)."""


def require_money(viewer: Membership) -> None:
    if not can(viewer, "invoices.manage"):
        raise RevenueForbidden("Revenue and tax reports are for owners and admins.")


@dataclass
class MonthFigures:
    month: date
    currency: str
    documents: int = 0
    net: Decimal = ZERO
    tax: Decimal = ZERO
    gross: Decimal = ZERO
    received: Decimal = ZERO


@dataclass
class HomeFigures:
    """One month in the organization's currency; `unconverted` counts documents without a rate."""

    month: date
    net: Decimal = ZERO
    gross: Decimal = ZERO
    received: Decimal = ZERO
    unconverted: int = 0


@dataclass
class RevenueReport:
    first: date
    last: date
    home: str
    rows: list[MonthFigures]
    months: list[HomeFigures]
    totals: dict[str, MonthFigures] = field(default_factory=dict)
    home_total: HomeFigures | None = None


class _Rates:
    """Conversion rates into the home currency per (currency, day), looked up once each."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self.home = organization.default_currency
        self._found: dict[tuple[str, date], Decimal | None] = {}

    def rate(self, currency: str, day: date) -> Decimal | None:
        if currency == self.home:
            return Decimal(1)
        key = (currency, day)
        if key not in self._found:
            from punchclock.expenses.services import conversion

            try:
                self._found[key] = conversion(self.organization, currency, self.home, day).rate
            except ValidationError:
                self._found[key] = None
        return self._found[key]


def _month(day: date) -> date:
    return day.replace(day=1)


def _money(value: Decimal | float | None, currency: str) -> Decimal:
    # Stored with four places (REAL on SQLite): rounding to the currency's unit is exact.
    return round_money(Decimal(str(value or 0)), currency)


def revenue_report(viewer: Membership, *, first: date, last: date) -> RevenueReport:
    """Invoiced (issue date) and received (receipt date) per month and currency."""
    from punchclock.invoicing.models import Invoice, InvoiceStatus
    from punchclock.payments.models import Payment

    require_money(viewer)
    organization = viewer.organization
    rates = _Rates(organization)
    home = rates.home
    cells: dict[tuple[date, str], MonthFigures] = {}
    months: dict[date, HomeFigures] = {}

    def cell(day: date, currency: str) -> MonthFigures:
        key = (_month(day), currency)
        if key not in cells:
            cells[key] = MonthFigures(key[0], currency)
        return cells[key]

    def home_month(day: date) -> HomeFigures:
        return months.setdefault(_month(day), HomeFigures(_month(day)))

    documents = Invoice.objects.filter(
        organization=organization,
        status=InvoiceStatus.ISSUED,
        issue_date__gte=first,
        issue_date__lte=last,
    ).values_list(
        "issue_date", "currency", "net_total", "tax_total", "gross_total", "snapshot__tax_currency"
    )
    for issued, currency, net, tax, gross, recorded in documents.order_by():
        if issued is None:  # pragma: no cover - an issued document always has its date
            continue
        row = cell(issued, currency)
        net_m, tax_m, gross_m = (_money(v, currency) for v in (net, tax, gross))
        row.documents += 1
        row.net += net_m
        row.tax += tax_m
        row.gross += gross_m
        rate = _recorded_rate(recorded, home) or rates.rate(currency, issued)
        month = home_month(issued)
        if rate is None:
            month.unconverted += 1
            continue
        month.net += round_money(net_m * rate, home)
        month.gross += round_money(gross_m * rate, home)
    payments = Payment.objects.filter(
        organization=organization, received_on__gte=first, received_on__lte=last
    ).values_list("received_on", "currency", "amount")
    for received_on, currency, amount in payments.order_by():
        value = _money(amount, currency)
        cell(received_on, currency).received += value
        rate = rates.rate(currency, received_on)
        month = home_month(received_on)
        if rate is None:
            month.unconverted += 1
        else:
            month.received += round_money(value * rate, home)
    rows = sorted(cells.values(), key=lambda r: (r.month, r.currency))
    totals: dict[str, MonthFigures] = {}
    for row in rows:
        total = totals.setdefault(row.currency, MonthFigures(first, row.currency))
        total.documents += row.documents
        total.net += row.net
        total.tax += row.tax
        total.gross += row.gross
        total.received += row.received
    home_total = HomeFigures(first)
    for month in months.values():
        home_total.net += month.net
        home_total.gross += month.gross
        home_total.received += month.received
        home_total.unconverted += month.unconverted
    return RevenueReport(
        first=first,
        last=last,
        home=home,
        rows=rows,
        months=sorted(months.values(), key=lambda m: m.month),
        totals=dict(sorted(totals.items())),
        home_total=home_total,
    )


def _recorded_rate(recorded: object, home: str) -> Decimal | None:
    """The rate an issued invoice stored for its VAT in the home currency, if it did."""
    if isinstance(recorded, dict) and recorded.get("code") == home and recorded.get("rate"):
        return Decimal(str(recorded["rate"]))
    return None


@dataclass
class TaxRow:
    """Tax of one kind (name, category, rate) in one currency over the period."""

    name: str
    category: str
    rate: Decimal
    currency: str
    documents: int = 0
    basis: Decimal = ZERO
    tax: Decimal = ZERO
    home_basis: Decimal | None = ZERO
    home_tax: Decimal | None = ZERO

    @property
    def category_label(self) -> str:
        from punchclock.invoicing.models import TaxCategory

        return str(dict(TaxCategory.choices).get(self.category, self.category))


@dataclass
class TaxReport:
    first: date
    last: date
    home: str
    rows: list[TaxRow]
    # Per currency: the documents' stored net and tax totals, which the rows add up to.
    document_net: dict[str, Decimal]
    document_tax: dict[str, Decimal]
    documents: int


def tax_report(viewer: Membership, *, first: date, last: date) -> TaxReport:
    """Taxable basis and tax per tax name, category and rate of the documents issued in a period.

    Each document's tax groups are computed again from its (immutable) lines with the same
    function that totalled it on issue, so every row adds up to the documents' tax totals."""
    from punchclock.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
    from punchclock.invoicing.services import TOTALS_FIELDS, line_input
    from punchclock.invoicing.totals import compute_totals

    require_money(viewer)
    organization = viewer.organization
    rates = _Rates(organization)
    home = rates.home
    issued = Invoice.objects.filter(
        organization=organization,
        status=InvoiceStatus.ISSUED,
        issue_date__gte=first,
        issue_date__lte=last,
    )
    # Plain values, not model instances: a year holds thousands of lines.
    lines_of: dict[int, list[Any]] = defaultdict(list)
    for invoice_id, *fields in (
        InvoiceLine.objects.filter(invoice__in=issued.values("pk"))
        .order_by("invoice_id", "position")
        .values_list("invoice_id", *TOTALS_FIELDS)
        .iterator(chunk_size=2000)
    ):
        lines_of[invoice_id].append(line_input(*fields))
    documents = issued.order_by("issue_date", "pk").values_list(
        "pk",
        "currency",
        "issue_date",
        "discount_percent",
        "surcharge_percent",
        "snapshot__tax_currency",
    )
    rows: dict[tuple[str, str, Decimal, str], TaxRow] = {}
    document_net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    document_tax: dict[str, Decimal] = defaultdict(lambda: ZERO)
    count = 0
    for pk, currency, issue_date, discount, surcharge, recorded in documents:
        assert issue_date is not None  # an issued document always has its date
        count += 1
        totals = compute_totals(
            lines_of.get(pk, []),
            currency=currency,
            discount_percent=discount,
            surcharge_percent=surcharge,
        )
        document_net[currency] += totals.net_total
        document_tax[currency] += totals.tax_total
        rate = _recorded_rate(recorded, home) or rates.rate(currency, issue_date)
        seen: set[tuple[str, str, Decimal, str]] = set()
        for group in totals.groups:
            rate_text = group.tax.rate.normalize()
            key = (group.tax.name, group.tax.category, rate_text, currency)
            row = rows.setdefault(
                key, TaxRow(group.tax.name, group.tax.category, rate_text, currency)
            )
            if key not in seen:
                row.documents += 1
                seen.add(key)
            row.basis += group.basis
            row.tax += group.amount
            if rate is None or row.home_tax is None or row.home_basis is None:
                row.home_basis = row.home_tax = None
            else:
                row.home_basis += round_money(group.basis * rate, home)
                row.home_tax += round_money(group.amount * rate, home)
    ordered = sorted(
        rows.values(), key=lambda r: (r.currency, r.name != "VAT", r.name, r.category, -r.rate)
    )
    return TaxReport(
        first=first,
        last=last,
        home=home,
        rows=ordered,
        document_net=dict(document_net),
        document_tax=dict(document_tax),
        documents=count,
    )
