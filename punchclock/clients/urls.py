from django.urls import path

from punchclock.clients import views

app_name = "clients"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_new, name="new"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/archive/", views.client_archive, name="archive"),
    path("<int:pk>/restore/", views.client_restore, name="restore"),
    path("<int:pk>/delete/", views.client_delete, name="delete"),
    path("<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/rates/add/", views.rate_add, name="rate_add"),
]
