from django.urls import path

from punchclock.core.placeholder import placeholder

app_name = "projects"
urlpatterns = [
    path("", placeholder, name="list"),
    path("new/", placeholder, name="new"),
    path("<int:pk>/", placeholder, name="detail"),
    path("rates/", placeholder, name="rates"),
]
