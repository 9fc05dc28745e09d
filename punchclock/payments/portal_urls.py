"""/portal/: what a client opens from a link, without an account."""

from django.urls import path

from punchclock.payments import portal_views as views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", views.home, name="home"),
    path("<str:token>/invoices/<int:pk>/", views.invoice, name="invoice"),
    path("<str:token>/invoices/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<str:token>/invoices/<int:pk>/einvoice/", views.einvoice, name="einvoice"),
    path("<str:token>/invoices/<int:pk>/pay/", views.pay, name="pay"),
]
