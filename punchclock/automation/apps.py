from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "punchclock.automation"
    label = "automation"
