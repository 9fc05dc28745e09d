"""/schedules/: billing schedules, each with its runs."""

from django.urls import path

from punchclock.automation import activity_views, views

app_name = "automation"
urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("new/", views.schedule_new, name="new"),
    path("<int:pk>/", views.schedule_detail, name="detail"),
    path("<int:pk>/edit/", views.schedule_edit, name="edit"),
    path("<int:pk>/run/", views.schedule_run, name="run"),
    path("<int:pk>/pause/", views.schedule_pause, name="pause"),
    path("<int:pk>/resume/", views.schedule_resume, name="resume"),
    path("<int:pk>/delete/", views.schedule_delete, name="delete"),
    path("activity/", activity_views.activity_page, name="activity"),
    path("activity/runs/<int:pk>/retry/", activity_views.retry_run, name="retry_run"),
    path(
        "activity/reminders/<int:pk>/retry/",
        activity_views.retry_reminder,
        name="retry_reminder",
    ),
]
