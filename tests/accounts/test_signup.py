"""Signing up: a user, their organization and owner membership, and a signed-in session."""

from __future__ import annotations

from django.urls import reverse

from punchclock.accounts.models import Membership, Organization, Role, User

URL = reverse("accounts:signup")
GOOD = {
    "name": "Fran Freelancer",
    "email": "Fran@Example.com",
    "password": "a long and unusual passphrase",
    "organization_name": "Fran Consulting",
    "timezone": "Europe/Berlin",
    "currency": "CHF",
}


def test_the_sign_up_page_links_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert reverse("accounts:login") in response.content.decode()


def test_sign_up_creates_user_organization_and_owner_membership_and_logs_in(client, db):
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    user = User.objects.get()
    assert user.email == "fran@example.com"
    assert user.name == "Fran Freelancer"
    assert user.timezone == "Europe/Berlin"
    organization = Organization.objects.get()
    assert organization.name == "Fran Consulting"
    assert organization.default_currency == "CHF"
    assert organization.timezone == "Europe/Berlin"
    membership = Membership.objects.get()
    assert (membership.user, membership.organization, membership.role) == (
        user,
        organization,
        Role.OWNER,
    )
    assert client.session["organization_id"] == organization.pk
    home = client.get(reverse("core:home"))
    assert home.status_code == 200
    assert "Fran Consulting" in home.content.decode()


def test_a_weak_password_shows_the_field_error_and_writes_nothing(client, db):
    response = client.post(URL, GOOD | {"password": "12345678"})
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert "too common" in response.content.decode()
    assert not User.objects.exists()
    assert not Organization.objects.exists()


def test_a_taken_email_shows_the_field_error_and_writes_nothing(client, agency):
    users, organizations = User.objects.count(), Organization.objects.count()
    response = client.post(URL, GOOD | {"email": "OWNER@acme.test"})
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [
        "An account with this email address already exists."
    ]
    assert User.objects.count() == users
    assert Organization.objects.count() == organizations


def test_an_unknown_time_zone_or_currency_names_the_field(client, db):
    response = client.post(URL, GOOD | {"timezone": "Mars/Olympus", "currency": "XYZ"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "not a known time zone" in errors["timezone"][0]
    assert "currency" in errors
    assert not User.objects.exists()


def test_an_empty_post_names_every_required_field(client, db):
    response = client.post(URL, {})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {
        "name",
        "email",
        "password",
        "organization_name",
    }


def test_a_signed_in_user_is_sent_home(as_owner):
    response = as_owner.get(URL)
    assert response.status_code == 302
    assert response.url == reverse("core:home")
