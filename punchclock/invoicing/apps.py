from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "punchclock.invoicing"
    label = "invoicing"
