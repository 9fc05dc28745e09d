"""Kept spans: one run of kept months summed per organization (decision 0025); its rows
date their oldest open billable time."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_kept_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthtotal",
            name="first_open",
            field=models.DateField(null=True),
        ),
    ]
