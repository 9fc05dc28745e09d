"""Triggers refusing any UPDATE/DELETE of stored invoice documents (per vendor)."""

from django.db import migrations


def create(apps, schema_editor):
    from punchclock.invoicing.triggers import create_document_triggers

    create_document_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from punchclock.invoicing.triggers import drop_document_triggers

    drop_document_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0003_invoice_documents")]

    operations = [migrations.RunPython(create, drop)]
