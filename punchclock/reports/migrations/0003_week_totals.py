"""Kept totals of weeks beside months (decision 0019): a grain column on both tables."""

from django.db import migrations, models


def drop_triggers(apps, schema_editor):
    from punchclock.reports.triggers import drop_month_triggers

    drop_month_triggers(schema_editor.connection)


def create_triggers(apps, schema_editor):
    from punchclock.reports.triggers import create_month_triggers

    create_month_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_registration_number"),
        ("reports", "0002_month_triggers"),
    ]

    # SQLite adds a column by rebuilding reports_monthtotal, and the rebuild fails while a
    # trigger (a project's new rounding rule) reads the table: drop the triggers first and
    # create them again at the end, on both databases.
    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.RemoveConstraint(model_name="monthstate", name="one_state_per_month"),
        migrations.RemoveIndex(model_name="monthtotal", name="month_total_org_month"),
        migrations.AddField(
            model_name="monthstate",
            name="grain",
            field=models.CharField(default="month", max_length=5),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="grain",
            field=models.CharField(default="month", max_length=5),
        ),
        migrations.AddIndex(
            model_name="monthtotal",
            index=models.Index(
                fields=["organization", "grain", "month"], name="month_total_org_grain"
            ),
        ),
        migrations.AddConstraint(
            model_name="monthstate",
            constraint=models.UniqueConstraint(
                fields=("organization", "grain", "month"), name="one_state_per_period"
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
