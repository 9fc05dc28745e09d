"""Issued documents' totals and tax groups in minor units, and the triggers that forget
their conversions when an exchange rate is written (decision 0023)."""

import django.db.models.deletion
from django.db import migrations, models


def create(apps, schema_editor):
    from punchclock.reports.triggers import create_rate_triggers

    create_rate_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from punchclock.reports.triggers import drop_rate_triggers

    drop_rate_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_registration_number"),
        ("reports", "0005_kept_amounts"),
        # After every migration that remakes the rates table on SQLite (which drops its
        # triggers): tests/reports/test_kept_documents.py checks they fire.
        ("expenses", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeptDocument",
            fields=[
                ("invoice_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("issue_date", models.DateField()),
                ("month", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("home", models.CharField(max_length=3)),
                ("net_minor", models.BigIntegerField()),
                ("tax_minor", models.BigIntegerField()),
                ("gross_minor", models.BigIntegerField()),
                ("home_net_minor", models.BigIntegerField(null=True)),
                ("home_gross_minor", models.BigIntegerField(null=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization", "issue_date"], name="kept_document_day"),
                    models.Index(fields=["organization", "home"], name="kept_document_home"),
                ],
            },
        ),
        migrations.CreateModel(
            name="KeptTax",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("invoice_id", models.BigIntegerField()),
                ("issue_date", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("home", models.CharField(max_length=3)),
                ("name", models.CharField(max_length=50)),
                ("category", models.CharField(max_length=4)),
                ("rate", models.CharField(max_length=20)),
                ("basis_minor", models.BigIntegerField()),
                ("tax_minor", models.BigIntegerField()),
                ("home_basis_minor", models.BigIntegerField(null=True)),
                ("home_tax_minor", models.BigIntegerField(null=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["organization", "issue_date"], name="kept_tax_day")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("invoice_id", "name", "category", "rate"), name="one_kept_tax_group"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
