# ruff: noqa: S608 - fixed SQL fragments; every value is a parameter.
"""Keep the billed work of every invoice issued before 0011 (invoicing.work does it since).

The SQL is a copy of invoicing.work.keep_billed_work as it was when this migration was
written, so later changes to the model cannot change what this step does. Batches of 200
invoices: one statement per unit and batch, whatever the database's size.
"""

from django.db import migrations

BATCH = 200


def _bucket(vendor, unit):
    if vendor == "postgresql":
        utc = "(e.start AT TIME ZONE 'UTC')"
        if unit == "day":
            return f"CAST({utc} AS date)"
        return f"CAST(date_trunc('month', {utc}) AS date)"
    return "date(e.start)" if unit == "day" else "date(e.start, 'start of month')"


def backfill(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    connection = schema_editor.connection
    issued = list(
        Invoice.objects.filter(status="issued", kind="invoice").order_by("pk").values_list(
            "pk", flat=True
        )
    )
    with connection.cursor() as cursor:
        for start in range(0, len(issued), BATCH):
            batch = issued[start : start + BATCH]
            ids = ", ".join(["%s"] * len(batch))
            totals = (
                "SELECT be.line_id, COALESCE(SUM(e.duration_seconds), 0) AS seconds "
                "FROM invoicing_billedentry be "
                "JOIN invoicing_invoiceline il ON il.id = be.line_id "
                "JOIN tracking_timeentry e ON e.id = be.entry_id "
                f"WHERE il.invoice_id IN ({ids}) GROUP BY be.line_id"
            )
            for unit in ("month", "day"):
                bucket = _bucket(connection.vendor, unit)
                cursor.execute(
                    "INSERT INTO invoicing_billedwork (organization_id, line_id, membership_id, "
                    "project_id, unit, day, seconds, line_seconds) "
                    "SELECT i.organization_id, be.line_id, e.membership_id, e.project_id, %s, "
                    f"{bucket}, COALESCE(SUM(e.duration_seconds), 0), t.seconds "
                    "FROM invoicing_billedentry be "
                    "JOIN invoicing_invoiceline il ON il.id = be.line_id "
                    "JOIN invoicing_invoice i ON i.id = il.invoice_id "
                    "JOIN tracking_timeentry e ON e.id = be.entry_id "
                    "AND e.organization_id = i.organization_id "
                    f"JOIN ({totals}) t ON t.line_id = be.line_id "
                    f"WHERE il.invoice_id IN ({ids}) "
                    "GROUP BY i.organization_id, be.line_id, e.membership_id, e.project_id, "
                    f"{bucket}, t.seconds",
                    [unit, *batch, *batch],
                )


def forget(apps, schema_editor):
    apps.get_model("invoicing", "BilledWork").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0012_billed_work_triggers")]

    operations = [migrations.RunPython(backfill, forget)]
