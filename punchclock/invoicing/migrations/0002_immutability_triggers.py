"""Triggers refusing raw UPDATE/DELETE of issued invoices and their lines (per vendor)."""

from django.db import migrations


def create(apps, schema_editor):
    from punchclock.invoicing.triggers import create_invoice_triggers

    create_invoice_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from punchclock.invoicing.triggers import drop_invoice_triggers

    drop_invoice_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
