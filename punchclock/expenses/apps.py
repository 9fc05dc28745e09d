from django.apps import AppConfig


class ExpensesConfig(AppConfig):
    name = "punchclock.expenses"
    label = "expenses"
