"""Kept totals also hold the bill rate they were priced with and their lines' rounded
amounts, so reports by month or week sum money in SQL, and two covering indexes read
them in the order those reports group by, and the partial index of open time covers the
reads of unbilled work (decision 0021)."""

from django.db import migrations, models


def drop_triggers(apps, schema_editor):
    from punchclock.reports.triggers import drop_month_triggers

    drop_month_triggers(schema_editor.connection)


def create_triggers(apps, schema_editor):
    from punchclock.reports.triggers import create_month_triggers

    create_month_triggers(schema_editor.connection)


def forget_built_periods(apps, schema_editor):
    # Periods built before hold no rates nor amounts: the next report builds them again.
    apps.get_model("reports", "MonthState").objects.all().delete()
    apps.get_model("reports", "MonthTotal").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_open_totals"),
    ]

    # As in 0003 and 0004: SQLite rebuilds reports_monthtotal to add the columns and
    # refuses while a trigger reads it.
    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.RunPython(forget_built_periods, migrations.RunPython.noop),
        migrations.AddField(
            model_name="monthtotal",
            name="bill_rate",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="bill_currency",
            field=models.CharField(blank=True, default="", max_length=3),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="amount_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthtotal",
            name="open_amount_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="monthstate",
            name="prices",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="monthtotal",
            index=models.Index(
                fields=[
                    "organization",
                    "grain",
                    "membership_id",
                    "project_id",
                    "task_id",
                    "bill_rate",
                    "bill_currency",
                    "period",
                    "month",
                    "seconds",
                    "billable_seconds",
                    "billed_seconds",
                    "open_seconds",
                    "open_billable_seconds",
                    "open_billed_seconds",
                ],
                name="month_total_by_key",
            ),
        ),
        migrations.AddIndex(
            model_name="monthtotal",
            index=models.Index(
                fields=[
                    "organization",
                    "grain",
                    "month",
                    "membership_id",
                    "period",
                    "bill_currency",
                    "project_id",
                    "task_id",
                    "seconds",
                    "billable_seconds",
                    "billed_seconds",
                    "open_seconds",
                    "open_billable_seconds",
                    "open_billed_seconds",
                    "amount_minor",
                    "open_amount_minor",
                ],
                name="month_total_by_period",
            ),
        ),
        migrations.RemoveIndex(
            model_name="monthtotal",
            name="month_total_open",
        ),
        migrations.AddIndex(
            model_name="monthtotal",
            index=models.Index(
                condition=models.Q(("open_billable_seconds__gt", 0)),
                fields=[
                    "organization",
                    "grain",
                    "membership_id",
                    "project_id",
                    "task_id",
                    "bill_rate",
                    "bill_currency",
                    "period",
                    "month",
                    "open_seconds",
                    "open_billable_seconds",
                    "open_billed_seconds",
                    "open_amount_minor",
                ],
                name="month_total_open",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
