from django.urls import path

from punchclock.automation import notification_views as views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("settings/", views.organization_settings, name="settings"),
    path("<int:pk>/", views.open_notification, name="open"),
    path("<int:pk>/read/", views.read_one, name="read"),
]
