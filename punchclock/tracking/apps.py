from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "punchclock.tracking"
    label = "tracking"
