"""/portal/: what a client opens from a link, without an account."""

from django.urls import URLPattern

app_name = "portal"

urlpatterns: list[URLPattern] = []
