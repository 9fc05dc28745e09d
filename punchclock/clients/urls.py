from django.urls import path

from punchclock.core.placeholder import placeholder

app_name = "clients"
urlpatterns = [
    path("", placeholder, name="list"),
]
