from django.urls import path

from punchclock.reports import views, views_more, views_unbilled

CSV, XLSX = {"file_format": "csv"}, {"file_format": "xlsx"}

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("time/", views.time_report_page, name="time"),
    path("time/export.csv", views.time_report_export, CSV, name="time_csv"),
    path("time/export.xlsx", views.time_report_export, XLSX, name="time_xlsx"),
    path("time/entries/", views.time_entries, name="time_entries"),
    path("unbilled/", views_unbilled.unbilled_page, name="unbilled"),
    path("unbilled/export.csv", views_unbilled.unbilled_export, CSV, name="unbilled_csv"),
    path("unbilled/export.xlsx", views_unbilled.unbilled_export, XLSX, name="unbilled_xlsx"),
    path("budgets/", views_more.budgets_page, name="budgets"),
    path("budgets/export.csv", views_more.budgets_export, CSV, name="budgets_csv"),
    path("budgets/export.xlsx", views_more.budgets_export, XLSX, name="budgets_xlsx"),
    path("revenue/", views_more.revenue_page, name="revenue"),
    path("revenue/export.csv", views_more.revenue_export, CSV, name="revenue_csv"),
    path("revenue/export.xlsx", views_more.revenue_export, XLSX, name="revenue_xlsx"),
    path("tax/", views_more.tax_page, name="tax"),
    path("tax/export.csv", views_more.tax_export, CSV, name="tax_csv"),
    path("tax/export.xlsx", views_more.tax_export, XLSX, name="tax_xlsx"),
    path("utilisation/", views_more.utilisation_page, name="utilisation"),
    path("utilisation/export.csv", views_more.utilisation_export, CSV, name="utilisation_csv"),
    path("utilisation/export.xlsx", views_more.utilisation_export, XLSX, name="utilisation_xlsx"),
    path("dashboard/", views_more.dashboard_page, name="dashboard"),
    path("profitability/", views_more.profitability_page, name="profitability"),
    path(
        "profitability/export.csv",
        views_more.profitability_export,
        CSV,
        name="profitability_csv",
    ),
    path(
        "profitability/export.xlsx",
        views_more.profitability_export,
        XLSX,
        name="profitability_xlsx",
    ),
]
