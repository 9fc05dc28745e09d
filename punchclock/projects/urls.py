from django.urls import path

from punchclock.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/status/", views.project_status, name="status"),
    path("<int:pk>/tasks/add/", views.task_add, name="task_add"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/archive/", views.task_archive, name="task_archive"),
    path("<int:pk>/members/add/", views.member_assign, name="member_assign"),
    path(
        "<int:pk>/members/<int:membership_pk>/manager/",
        views.member_manager,
        name="member_manager",
    ),
    path(
        "<int:pk>/members/<int:membership_pk>/remove/",
        views.member_unassign,
        name="member_unassign",
    ),
    path("<int:pk>/rates/add/", views.project_rate_add, name="rate_add"),
    path("rates/", views.rates, name="rates"),
    path("rates/add/<slug:scope>/", views.rate_add, name="rates_add"),
    path("rates/<int:pk>/delete/", views.rate_delete, name="rate_delete"),
]
