"""Kept totals also sum the entries not on an issued invoice, and the triggers mark the days
of entries whose `invoiced` flag changes (decision 0019)."""

from django.db import migrations, models


def drop_triggers(apps, schema_editor):
    from punchclock.reports.triggers import drop_month_triggers

    drop_month_triggers(schema_editor.connection)


def create_triggers(apps, schema_editor):
    from punchclock.reports.triggers import create_month_triggers

    create_month_triggers(schema_editor.connection)


def forget_built_periods(apps, schema_editor):
    # Periods built before have no open sums: the next report builds them again.
    apps.get_model("reports", "MonthState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_week_totals"),
    ]

    # As in 0003: SQLite rebuilds reports_monthtotal to add the columns and refuses while a
    # trigger reads it. Creating the triggers again also puts in the new marking of
    # `invoiced` changes.
    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.AddField(
            model_name="monthtotal",
            name="open_billable_seconds",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="open_billed_seconds",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="open_seconds",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="monthtotal",
            index=models.Index(
                condition=models.Q(("open_billable_seconds__gt", 0)),
                fields=["organization", "grain", "month"],
                name="month_total_open",
            ),
        ),
        migrations.RunPython(forget_built_periods, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
