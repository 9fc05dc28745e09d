"""/payments/links/: the owner makes, shows and revokes client portal links."""

from django.urls import path

from punchclock.payments import portal_views as views

urlpatterns = [
    path("invoice/<int:pk>/", views.invoice_link, name="link_invoice"),
    path("client/<int:pk>/", views.client_link, name="link_client"),
    path("<int:pk>/revoke/", views.revoke_link, name="link_revoke"),
]
