"""ReminderSent gets status and attempts columns instead of a state derived from its row.

The schema change and the backfill that gives existing rows the state derived from them
until now (sent_at, the "Withdrawn: " message prefix, the recipients) go in one migration:
the backfill is only correct right after the columns appear, with their defaults.
"""

from django.db import migrations, models

WITHDRAWN = "Withdrawn: "


def derive(apps, schema_editor):
    rows = apps.get_model("automation", "ReminderSent").objects
    rows.exclude(sent_at=None).update(status="sent", attempts=1)
    unsent = rows.filter(sent_at=None)
    unsent.filter(message__startswith=WITHDRAWN).update(status="withdrawn")
    for row in unsent.exclude(message__startswith=WITHDRAWN).only("pk", "recipients"):
        if row.recipients:  # handed over, not confirmed: never sent again by itself
            rows.filter(pk=row.pk).update(status="unconfirmed", attempts=1)


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0005_notifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="remindersent",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="remindersent",
            name="status",
            field=models.CharField(
                choices=[
                    ("waiting", "Waiting to be sent"),
                    ("unconfirmed", "Not confirmed"),
                    ("sent", "Sent"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="waiting",
                max_length=12,
            ),
        ),
        migrations.RunPython(derive, migrations.RunPython.noop),
    ]
