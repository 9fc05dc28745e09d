"""/payments/bank/: statement upload, reconciliation of its lines."""

from django.urls import path

from punchclock.payments import bank_views

urlpatterns = [
    path("", bank_views.bank_index, name="bank"),
    path("statements/<int:pk>/", bank_views.statement_detail, name="bank_statement"),
    path("statements/<int:pk>/confirm/", bank_views.confirm_lines, name="bank_confirm"),
    path("lines/<int:pk>/ignore/", bank_views.line_ignore, name="bank_line_ignore"),
    path("lines/<int:pk>/reopen/", bank_views.line_reopen, name="bank_line_reopen"),
]
