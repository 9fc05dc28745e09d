from django.urls import include, path

from punchclock.api.api import api

urlpatterns = [
    path("", include("punchclock.core.urls")),
    path("accounts/", include("punchclock.accounts.urls")),
    path("clients/", include("punchclock.clients.urls")),
    path("projects/", include("punchclock.projects.urls")),
    path("time/", include("punchclock.tracking.urls")),
    path("expenses/", include("punchclock.expenses.urls")),
    path("invoices/", include("punchclock.invoicing.urls")),
    path("payments/", include("punchclock.payments.urls")),
    path("schedules/", include("punchclock.automation.urls")),
    path("reminders/", include("punchclock.automation.reminder_urls")),
    path("portal/", include("punchclock.payments.portal_urls")),
    path("notifications/", include("punchclock.automation.notification_urls")),
    path("api/v1/", api.urls),
    path("retainers/", include("punchclock.automation.retainer_urls")),
    path("recurring/", include("punchclock.automation.recurring_urls")),
    path("reports/", include("punchclock.reports.urls")),
]

handler400 = "punchclock.core.views.bad_request"
handler403 = "punchclock.core.views.permission_denied"
handler404 = "punchclock.core.views.page_not_found"
handler500 = "punchclock.core.views.server_error"
