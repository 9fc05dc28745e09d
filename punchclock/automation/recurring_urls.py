"""/recurring/: recurring invoices, each with its runs."""

from django.urls import path

from punchclock.automation import recurring_views as views

app_name = "recurring"
urlpatterns = [
    path("", views.recurring_list, name="list"),
    path("new/", views.recurring_new, name="new"),
    path("<int:pk>/", views.recurring_detail, name="detail"),
    path("<int:pk>/edit/", views.recurring_edit, name="edit"),
    path("<int:pk>/run/", views.recurring_run, name="run"),
    path("<int:pk>/pause/", views.recurring_pause, name="pause"),
    path("<int:pk>/resume/", views.recurring_resume, name="resume"),
    path("<int:pk>/delete/", views.recurring_delete, name="delete"),
]
