"""Triggers marking the days whose month totals must be rebuilt (per vendor)."""

from django.db import migrations


def create(apps, schema_editor):
    from punchclock.reports.triggers import create_month_triggers

    create_month_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from punchclock.reports.triggers import drop_month_triggers

    drop_month_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_month_totals"),
        # After every migration that remakes the entries table on SQLite (which drops its
        # triggers): tests/reports/test_kept_months.py checks they are there.
        ("tracking", "0005_entry_unbilled_index"),
        ("projects", "0002_rounding_scope"),
    ]

    operations = [migrations.RunPython(create, drop)]
