"""/payments/: each area keeps its own URL module, all in the "payments" namespace."""

from django.urls import include, path

app_name = "payments"

urlpatterns = [
    path("", include("punchclock.payments.urls_payments")),
    path("receivables/", include("punchclock.payments.urls_receivables")),
    path("bank/", include("punchclock.payments.urls_bank")),
    path("stripe/", include("punchclock.payments.urls_stripe")),
    path("links/", include("punchclock.payments.urls_portal_links")),
]
