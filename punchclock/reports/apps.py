from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "punchclock.reports"
    verbose_name = "Reports"
