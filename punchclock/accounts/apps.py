from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "punchclock.accounts"
    label = "accounts"
