"""/retainers/: retainers, each with its periods and invoices."""

from django.urls import path

from punchclock.automation import retainer_views as views

app_name = "retainers"
urlpatterns = [
    path("", views.retainer_list, name="list"),
    path("new/", views.retainer_new, name="new"),
    path("<int:pk>/", views.retainer_detail, name="detail"),
    path("<int:pk>/edit/", views.retainer_edit, name="edit"),
    path("<int:pk>/run/", views.retainer_run, name="run"),
    path("<int:pk>/pause/", views.retainer_pause, name="pause"),
    path("<int:pk>/resume/", views.retainer_resume, name="resume"),
    path("<int:pk>/delete/", views.retainer_delete, name="delete"),
]
