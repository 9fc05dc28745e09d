from django.urls import path

from punchclock.reports import views, views_more, views_unbilled

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("time/", views.time_report_page, name="time"),
    path("time/export.csv", views.time_report_csv_view, name="time_csv"),
    path("time/entries/", views.time_entries, name="time_entries"),
    path("unbilled/", views_unbilled.unbilled_page, name="unbilled"),
    path("unbilled/export.csv", views_unbilled.unbilled_csv_view, name="unbilled_csv"),
    path("budgets/", views_more.budgets_page, name="budgets"),
    path("budgets/export.csv", views_more.budgets_csv_view, name="budgets_csv"),
    path("revenue/", views_more.revenue_page, name="revenue"),
    path("revenue/export.csv", views_more.revenue_csv_view, name="revenue_csv"),
    path("tax/", views_more.tax_page, name="tax"),
    path("tax/export.csv", views_more.tax_csv_view, name="tax_csv"),
    path("utilisation/", views_more.utilisation_page, name="utilisation"),
    path("utilisation/export.csv", views_more.utilisation_csv_view, name="utilisation_csv"),
    path("dashboard/", views_more.dashboard_page, name="dashboard"),
    path("profitability/", views_more.profitability_page, name="profitability"),
    path("profitability/export.csv", views_more.profitability_csv_view, name="profitability_csv"),
]
