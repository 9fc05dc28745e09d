from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "punchclock.core"
    label = "core"
