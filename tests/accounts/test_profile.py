"""The profile page: name, time zone and language; changing the password."""

from __future__ import annotations

from django.urls import reverse

from punchclock.accounts.models import User
from tests.factories import PASSWORD, make_user

URL = reverse("accounts:profile")
PASSWORD_URL = reverse("accounts:password_change")


def test_the_profile_shows_the_users_organizations(as_owner):
    response = as_owner.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "owner@acme.test" in html
    assert "Acme Agency" in html


def test_preferences_are_saved(as_member, agency):
    response = as_member.post(
        URL, {"name": "Maxine", "timezone": "America/New_York", "locale": "de"}
    )
    assert response.status_code == 302
    user = User.objects.get(pk=agency.member.user_id)
    assert (user.name, user.timezone, user.locale) == ("Maxine", "America/New_York", "de")


def test_a_bad_time_zone_or_language_names_the_field_and_writes_nothing(as_member, agency):
    response = as_member.post(URL, {"name": "Maxine", "timezone": "Moon/Base", "locale": "xx"})
    assert response.status_code == 400
    errors = response.context["profile_form"].errors
    assert set(errors) == {"timezone", "locale"}
    user = User.objects.get(pk=agency.member.user_id)
    assert (user.name, user.timezone) == ("Max Member", "UTC")


def test_an_old_zone_alias_stays_valid(as_member, agency):
    response = as_member.post(URL, {"name": "Max", "timezone": "US/Eastern", "locale": "en"})
    assert response.status_code == 302
    page = as_member.get(URL).content.decode()
    assert 'value="US/Eastern" selected' in page


def test_the_password_is_changed_and_the_session_kept(as_member, agency):
    new = "another long passphrase 7"
    response = as_member.post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=agency.member.user_id).check_password(new)
    assert as_member.get(URL).status_code == 200


def test_a_wrong_old_password_is_refused(as_member, agency):
    new = "another long passphrase 7"
    response = as_member.post(
        PASSWORD_URL, {"old_password": "wrong", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 400
    assert response.context["password_form"].errors["old_password"]
    assert User.objects.get(pk=agency.member.user_id).check_password(PASSWORD)


def test_mismatched_new_passwords_are_refused(as_member, agency):
    response = as_member.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": "abc def ghi jkl", "new_password2": "x"},
    )
    assert response.status_code == 400
    assert response.context["password_form"].errors["new_password2"]


def test_a_user_without_organization_can_open_the_profile(client, db):
    user = make_user("loner@example.com")
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "not in an organization yet" in response.content.decode()


def test_signed_out_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
