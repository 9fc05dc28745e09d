from django.urls import path

from punchclock.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("time/", views.time_report_page, name="time"),
    path("time/export.csv", views.time_report_csv_view, name="time_csv"),
    path("time/entries/", views.time_entries, name="time_entries"),
]
