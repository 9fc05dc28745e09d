from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0002_report_covering_index"),
    ]

    operations = [
        # The covering index starts with (project, start): it serves every lookup the plain
        # index did, so keeping both would only cost writes.
        migrations.RemoveIndex(
            model_name="timeentry",
            name="entry_project_start",
        ),
        migrations.AddIndex(
            model_name="timeentry",
            index=models.Index(
                fields=[
                    "project",
                    "start",
                    "organization",
                    "membership",
                    "task",
                    "billable",
                    "duration_seconds",
                ],
                name="entry_project_report_cover",
            ),
        ),
    ]
