"""Set TimeEntry.invoiced on every entry already on an issued invoice (tracking 0004 adds it)."""

from django.db import migrations


def backfill(apps, schema_editor):
    # The definition the reports used before the flag: a billed row on an issued invoice's line.
    TimeEntry = apps.get_model("tracking", "TimeEntry")
    BilledEntry = apps.get_model("invoicing", "BilledEntry")
    issued = BilledEntry.objects.filter(line__invoice__status="issued").values("entry_id")
    TimeEntry.objects.filter(pk__in=issued).update(invoiced=True)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0009_event_kinds_viewed_and_payment_failed"),
        ("tracking", "0004_entry_invoiced"),
    ]

    # Backwards there is nothing to undo: reversing tracking 0004 drops the column.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
