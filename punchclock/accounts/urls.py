from django.urls import path

from punchclock.core.placeholder import placeholder

app_name = "accounts"
urlpatterns = [
    path("login/", placeholder, name="login"),
    path("logout/", placeholder, name="logout"),
    path("profile/", placeholder, name="profile"),
    path("team/", placeholder, name="team"),
    path("organization/", placeholder, name="organization_settings"),
    path("organization/new/", placeholder, name="organization_new"),
    path("organization/switch/", placeholder, name="switch_organization"),
    path("organization/<int:pk>/logo", placeholder, name="logo"),
    path("tokens/", placeholder, name="tokens"),
    path("invitations/<str:token>/", placeholder, name="accept_invitation"),
]
