from django.urls import path

from punchclock.automation import reminder_views as views

app_name = "reminders"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("set-up/", views.set_up, name="set_up"),
    path("levels/", views.levels, name="levels"),
    path("wording/", views.wording, name="wording"),
    path("send/", views.send, name="send"),
    path("sent/<int:pk>/again/", views.send_again, name="send_again"),
    path("invoices/<int:pk>/", views.invoice_history, name="invoice"),
]
