from django.urls import path

from punchclock.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("organization/", views.organization_settings, name="organization_settings"),
    path("organization/billing/", views.organization_billing, name="organization_billing"),
    path("organization/logo/", views.logo_upload, name="logo_upload"),
    path("organization/logo/remove/", views.logo_remove, name="logo_remove"),
    path("organization/new/", views.organization_new, name="organization_new"),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
    path("organization/leave/", views.leave_organization, name="leave_organization"),
    path("organization/<int:pk>/logo", views.logo, name="logo"),
    path("team/", views.team, name="team"),
    path("team/invitations/", views.invite, name="invite"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("team/members/<int:pk>/", views.member_update, name="member_update"),
    path("team/members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
