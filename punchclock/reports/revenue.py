"""Revenue per month (invoiced and received) and tax collected per rate, from issued documents.

Issued invoices and credit notes never change, so their stored totals are the figures the
client and the tax office saw; a credit note's totals are negative (its quantities are), so
it lowers the month it is issued in. Amounts in another currency are converted with the
rate the invoice recorded for its VAT (BT-111) or else the organization's exchange-rate
table on the issue day (the same lookup issuing uses); each document is converted and
rounded once, then summed. Documents are read as they were kept in minor units
(reports.documents, decision 0023), so a report adds integers up in SQL. A period is a
range of local days: issue and receipt dates are already days, so no instant is cut here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.core.money import from_minor, round_money
from punchclock.reports.documents import (
    document_sums,
    keep_documents,
    payments_received,
    revenue_sums,
    tax_sums,
)

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


def _month(day: date) -> date:
    return day.replace(day=1)


def revenue_report(viewer: Membership, *, first: date, last: date) -> RevenueReport:
    """Invoiced (issue date) and received (receipt date) per month and currency."""
    from punchclock.expenses.services import RateTable

    require_money(viewer)
    organization = viewer.organization
    home = organization.default_currency
    keep_documents(organization, first=first, last=last)
    cells: dict[tuple[date, str], MonthFigures] = {}
    months: dict[date, HomeFigures] = {}

    def cell(day: date, currency: str) -> MonthFigures:
        key = (_month(day), currency)
        if key not in cells:
            cells[key] = MonthFigures(key[0], currency)
        return cells[key]

    def home_month(day: date) -> HomeFigures:
        return months.setdefault(_month(day), HomeFigures(_month(day)))

    sums = revenue_sums(organization, first, last)
    for month_day, currency, count, net, tax, gross, converted, home_net, home_gross in sums:
        row = cell(month_day, currency)
        row.documents += count
        row.net += from_minor(net, currency)
        row.tax += from_minor(tax, currency)
        row.gross += from_minor(gross, currency)
        month = home_month(month_day)
        month.unconverted += count - converted
        month.net += from_minor(home_net or 0, home)
        month.gross += from_minor(home_gross or 0, home)
    payments = payments_received(organization, first, last)
    rates = RateTable(organization, {p[1] for p in payments} | {home}, first, last)
    for received_on, currency, value in payments:
        cell(received_on, currency).received += value
        found = rates.conversion(currency, home, received_on)
        month = home_month(received_on)
        if found is None:
            month.unconverted += 1
        else:
            month.received += round_money(value * found.rate, home)
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

    Each document's tax groups were kept from its (immutable) lines with the function that
    totalled it on issue (reports.documents), so the rows add up to the documents' totals."""
    require_money(viewer)
    organization = viewer.organization
    home = organization.default_currency
    keep_documents(organization, first=first, last=last)
    groups = tax_sums(organization, first, last)
    rows: list[TaxRow] = []
    for currency, name, category, rate, count, basis, tax, converted, h_basis, h_tax in groups:
        whole = converted == count
        rows.append(
            TaxRow(
                name,
                category,
                Decimal(rate),
                currency,
                documents=count,
                basis=from_minor(basis, currency),
                tax=from_minor(tax, currency),
                home_basis=from_minor(h_basis, home) if whole else None,
                home_tax=from_minor(h_tax, home) if whole else None,
            )
        )
    document_net: dict[str, Decimal] = {}
    document_tax: dict[str, Decimal] = {}
    count = 0
    totals = document_sums(organization, first, last)
    for currency, documents, net, tax in totals:
        count += documents
        document_net[currency] = from_minor(net, currency)
        document_tax[currency] = from_minor(tax, currency)
    rows.sort(key=lambda r: (r.currency, r.name != "VAT", r.name, r.category, -r.rate))
    return TaxReport(
        first=first,
        last=last,
        home=home,
        rows=rows,
        document_net=document_net,
        document_tax=document_tax,
        documents=count,
    )
