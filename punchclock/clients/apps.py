from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "punchclock.clients"
    label = "clients"
