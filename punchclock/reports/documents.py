"""Issued documents kept in minor units for the revenue and tax reports (decision 0023).

A year of documents used to be read and totalled again from its lines on every tax report,
and converted one by one on every revenue report. Issued documents never change, so each
is kept once: its stored totals, its tax groups as the issuing code totals them, and both
in the organization's currency with the rate the invoice recorded for its VAT (BT-111) or
else the exchange-rate table's on the issue day. The reports then add integers up in SQL.

A kept row is a cache, never a source. The reports and the worker keep whatever issued
document has no row for the organization's current currency; triggers forget the rows an
exchange rate written later could convert differently (reports.triggers).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from punchclock.accounts.models import Organization
from punchclock.core.money import round_money, to_minor
from punchclock.reports.models import KeptDocument, KeptTax

BATCH = 500


def money(value: Decimal | float | None, currency: str) -> Decimal:
    # Stored with four places (REAL on SQLite): rounding to the currency's unit is exact.
    return round_money(Decimal(str(value or 0)), currency)


def recorded_rate(recorded: object, home: str) -> Decimal | None:
    """The rate an issued invoice stored for its VAT in the home currency, if it did."""
    if isinstance(recorded, dict) and recorded.get("code") == home and recorded.get("rate"):
        return Decimal(str(recorded["rate"]))
    return None


def rate_text(rate: Decimal) -> str:
    """A percentage as people write it: 19, 5.5, 0 (never 1.9E+1)."""
    return format(rate.normalize(), "f")


def missing(organization: Organization, first: date | None, last: date | None) -> list[int]:
    """Issued documents of the range with no row kept in the organization's currency."""
    from punchclock.invoicing.models import Invoice, InvoiceStatus

    issued = Invoice.objects.filter(organization=organization, status=InvoiceStatus.ISSUED)
    if first is not None:
        issued = issued.filter(issue_date__gte=first)
    if last is not None:
        issued = issued.filter(issue_date__lte=last)
    kept = KeptDocument.objects.filter(
        invoice_id=OuterRef("pk"), home=organization.default_currency
    )
    return list(issued.filter(~Exists(kept)).order_by().values_list("pk", flat=True))


def all_kept(organization: Organization) -> bool:
    """Whether every issued document of the organization is kept in its currency: as many
    kept rows as issued documents, two counts over covering indexes. Kept rows are only
    ever made from the organization's issued documents, which are never deleted, so equal
    counts mean none is missing (keep_documents over all history removes rows of any
    document that is gone, should one ever be)."""
    from punchclock.invoicing.models import InvoiceStatus

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM invoicing_invoice "
            "WHERE organization_id = %s AND status = %s), "
            "(SELECT COUNT(*) FROM reports_keptdocument "
            "WHERE organization_id = %s AND home = %s)",
            [organization.pk, InvoiceStatus.ISSUED, organization.pk, organization.default_currency],
        )
        issued, kept = cursor.fetchone()
    return bool(issued == kept)


def keep_documents(
    organization: Organization, *, first: date | None = None, last: date | None = None
) -> int:
    """Keep the range's issued documents that are missing (all of them without a range);
    returns how many. One cheap query when nothing is missing."""
    if all_kept(organization):
        return 0
    ids = missing(organization, first, last)
    for start in range(0, len(ids), BATCH):
        _keep(organization, ids[start : start + BATCH])
    if first is None and last is None:
        _drop_orphans(organization)
    return len(ids)


def _drop_orphans(organization: Organization) -> None:
    from punchclock.invoicing.models import Invoice, InvoiceStatus

    issued = Invoice.objects.filter(
        pk=OuterRef("invoice_id"), organization=organization, status=InvoiceStatus.ISSUED
    )
    gone = KeptDocument.objects.filter(organization=organization).filter(~Exists(issued))
    ids = list(gone.values_list("invoice_id", flat=True))
    if ids:
        with transaction.atomic():
            KeptTax.objects.filter(organization=organization, invoice_id__in=ids).delete()
            KeptDocument.objects.filter(invoice_id__in=ids).delete()


def _keep(organization: Organization, ids: list[int]) -> None:
    from punchclock.expenses.services import RateTable
    from punchclock.invoicing.models import Invoice, InvoiceLine
    from punchclock.invoicing.services import TOTALS_FIELDS, line_input
    from punchclock.invoicing.totals import compute_totals

    home = organization.default_currency
    # Plain values, not model instances: a year holds thousands of lines.
    lines_of: dict[int, list[Any]] = defaultdict(list)
    lines = InvoiceLine.objects.filter(invoice_id__in=ids).order_by("invoice_id", "position")
    for invoice_id, *fields in lines.values_list("invoice_id", *TOTALS_FIELDS):
        lines_of[invoice_id].append(line_input(*fields))
    documents = list(
        Invoice.objects.filter(pk__in=ids).values_list(
            "pk",
            "currency",
            "issue_date",
            "discount_percent",
            "surcharge_percent",
            "net_total",
            "tax_total",
            "gross_total",
            "snapshot__tax_currency",
        )
    )
    if not documents:
        return
    days = [row[2] for row in documents if row[2] is not None]
    rates = RateTable(organization, {row[1] for row in documents} | {home}, min(days), max(days))
    kept: list[KeptDocument] = []
    taxes: list[KeptTax] = []
    for pk, currency, day, discount, surcharge, net, tax, gross, recorded in documents:
        assert day is not None  # an issued document always has its date
        rate = recorded_rate(recorded, home)
        if rate is None:
            found = rates.conversion(currency, home, day)
            rate = None if found is None else found.rate

        def home_minor(amount: Decimal, rate: Decimal | None = rate) -> int | None:
            return None if rate is None else to_minor(amount * rate, home)

        net_m, tax_m, gross_m = (money(value, currency) for value in (net, tax, gross))
        kept.append(
            KeptDocument(
                invoice_id=pk,
                organization=organization,
                issue_date=day,
                month=day.replace(day=1),
                currency=currency,
                home=home,
                net_minor=to_minor(net_m, currency),
                tax_minor=to_minor(tax_m, currency),
                gross_minor=to_minor(gross_m, currency),
                home_net_minor=home_minor(net_m),
                home_gross_minor=home_minor(gross_m),
            )
        )
        totals = compute_totals(
            lines_of.get(pk, []),
            currency=currency,
            discount_percent=discount,
            surcharge_percent=surcharge,
        )
        for group in totals.groups:
            taxes.append(
                KeptTax(
                    organization=organization,
                    invoice_id=pk,
                    issue_date=day,
                    currency=currency,
                    home=home,
                    name=group.tax.name,
                    category=group.tax.category,
                    rate=rate_text(group.tax.rate),
                    basis_minor=to_minor(group.basis, currency),
                    tax_minor=to_minor(group.amount, currency),
                    home_basis_minor=home_minor(group.basis),
                    home_tax_minor=home_minor(group.amount),
                )
            )
    done = [document.invoice_id for document in kept]
    with transaction.atomic():
        # Rows kept for another home currency go; a report keeping the same documents at
        # the same time writes the same rows, so the second one's are ignored.
        KeptTax.objects.filter(invoice_id__in=done).delete()
        KeptDocument.objects.filter(invoice_id__in=done).delete()
        KeptDocument.objects.bulk_create(kept, ignore_conflicts=True)
        KeptTax.objects.bulk_create(taxes, ignore_conflicts=True)


# Reads -----------------------------------------------------------------------------------
# Plain SQL: each report is one or two grouped reads of a few hundred rows, where building
# the ORM's queries took longer than running them.


def _read(
    sql: str, organization: Organization, first: date, last: date, column: str = "issue_date"
) -> list[tuple[Any, ...]]:
    day = connection.ops.adapt_datefield_value
    where = f"organization_id = %s AND {column} >= %s AND {column} <= %s"
    with connection.cursor() as cursor:
        cursor.execute(sql.format(where=where), [organization.pk, day(first), day(last)])
        return cursor.fetchall()


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def revenue_sums(organization: Organization, first: date, last: date) -> list[tuple[Any, ...]]:
    """Per issue month and currency: documents, net, tax, gross, how many are converted,
    and their home net and gross (minor units)."""
    rows = _read(
        "SELECT month, currency, COUNT(*), SUM(net_minor), SUM(tax_minor), SUM(gross_minor), "
        "COUNT(home_net_minor), SUM(home_net_minor), SUM(home_gross_minor) "
        "FROM reports_keptdocument WHERE {where} GROUP BY month, currency",
        organization,
        first,
        last,
    )
    return [(_day(month), *rest) for month, *rest in rows]


def tax_sums(organization: Organization, first: date, last: date) -> list[tuple[Any, ...]]:
    """Per currency, tax name, category and rate: documents, basis, tax, how many are
    converted, and their home basis and tax (minor units)."""
    return _read(
        "SELECT currency, name, category, rate, COUNT(*), SUM(basis_minor), SUM(tax_minor), "
        "COUNT(home_tax_minor), SUM(home_basis_minor), SUM(home_tax_minor) "
        "FROM reports_kepttax WHERE {where} "
        "GROUP BY currency, name, category, rate",
        organization,
        first,
        last,
    )


def document_sums(organization: Organization, first: date, last: date) -> list[tuple[Any, ...]]:
    """Per currency: documents, net and tax (minor units)."""
    return _read(
        "SELECT currency, COUNT(*), SUM(net_minor), SUM(tax_minor) "
        "FROM reports_keptdocument WHERE {where} GROUP BY currency",
        organization,
        first,
        last,
    )


def payments_received(
    organization: Organization, first: date, last: date
) -> list[tuple[date, str, Decimal]]:
    """Each payment of the range (refunds negative): day, currency, amount."""
    rows = _read(
        "SELECT received_on, currency, amount FROM payments_payment WHERE {where}",
        organization,
        first,
        last,
        column="received_on",
    )
    return [(_day(day), currency, money(amount, currency)) for day, currency, amount in rows]
