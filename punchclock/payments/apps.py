from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "punchclock.payments"
    label = "payments"
