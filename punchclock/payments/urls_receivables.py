from django.urls import path

from punchclock.payments import receivables_views

urlpatterns = [
    path("", receivables_views.receivables_page, name="receivables"),
    path("clients/<int:pk>/statement/", receivables_views.statement_page, name="statement"),
]
