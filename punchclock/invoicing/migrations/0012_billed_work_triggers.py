"""Triggers keeping issued lines' billed time as kept in invoicing_billedwork (per vendor)."""

from django.db import migrations


def create(apps, schema_editor):
    from punchclock.invoicing.triggers import create_work_triggers

    create_work_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from punchclock.invoicing.triggers import drop_work_triggers

    drop_work_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0011_billed_work"),
        # After every migration that remakes the entries table on SQLite (which drops its
        # triggers): tests/invoicing/test_billed_work.py checks they are there.
        ("tracking", "0005_entry_unbilled_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
