# ruff: noqa: S608 - the SQL is built from fixed fragments; every value is a parameter.
"""Billed work kept per issued line (models.BilledWork), written when a document is issued.

One INSERT … SELECT per unit sums the line's billed entries per person, project and UTC day
or month of their start. UTC, not a local zone: a local midnight of any zone is a UTC
instant, so a report cuts its period in whole UTC months, whole UTC days and at most two
partial days, which it reads from the entries; nothing here depends on the organization's
zone (which can change) or the viewer's.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from punchclock.invoicing.models import WorkUnit


def bucket_sql(unit: str, column: str = "e.start") -> str:
    """The UTC day, or the first day of the UTC month, of an instant column, per vendor."""
    if connection.vendor == "postgresql":
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"CAST({utc} AS date)"
            if unit == WorkUnit.DAY
            else f"CAST(date_trunc('month', {utc}) AS date)"
        )
    # SQLite keeps aware instants as UTC text ("2026-11-03 09:00:00").
    return f"date({column})" if unit == WorkUnit.DAY else f"date({column}, 'start of month')"


def keep_billed_work(invoice_ids: Sequence[int]) -> int:
    """Write the billed work of these (just issued) invoices' lines; the rows written."""
    if not invoice_ids:
        return 0
    ids = ", ".join(["%s"] * len(invoice_ids))
    # A line's total counts all its entries, its rows only the organization's own (the
    # entry-level path of reports.profitability reads them the same way).
    totals = (
        "SELECT be.line_id, COALESCE(SUM(e.duration_seconds), 0) AS seconds "
        "FROM invoicing_billedentry be JOIN invoicing_invoiceline il ON il.id = be.line_id "
        "JOIN tracking_timeentry e ON e.id = be.entry_id "
        f"WHERE il.invoice_id IN ({ids}) GROUP BY be.line_id"
    )
    written = 0
    with connection.cursor() as cursor:
        for unit in (WorkUnit.MONTH, WorkUnit.DAY):
            bucket = bucket_sql(unit)
            cursor.execute(
                "INSERT INTO invoicing_billedwork (organization_id, line_id, membership_id, "
                "project_id, unit, day, seconds, line_seconds) "
                f"SELECT i.organization_id, be.line_id, e.membership_id, e.project_id, %s, "
                f"{bucket}, COALESCE(SUM(e.duration_seconds), 0), t.seconds "
                "FROM invoicing_billedentry be "
                "JOIN invoicing_invoiceline il ON il.id = be.line_id "
                "JOIN invoicing_invoice i ON i.id = il.invoice_id "
                "JOIN tracking_timeentry e ON e.id = be.entry_id "
                "AND e.organization_id = i.organization_id "
                f"JOIN ({totals}) t ON t.line_id = be.line_id "
                f"WHERE il.invoice_id IN ({ids}) AND i.status = 'issued' "
                f"GROUP BY i.organization_id, be.line_id, e.membership_id, e.project_id, "
                f"{bucket}, t.seconds",
                [str(unit), *invoice_ids, *invoice_ids],
            )
            written += max(cursor.rowcount, 0)
    return written
