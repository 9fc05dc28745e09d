from django.urls import path

from punchclock.core.placeholder import placeholder

app_name = "tracking"
urlpatterns = [
    path("", placeholder, name="day"),
]
