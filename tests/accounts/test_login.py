"""Logging in and out: credentials, a safe `next`, and throttling of password guessing."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.accounts.models import LoginFailure
from tests.factories import PASSWORD

URL = reverse("accounts:login")


def test_the_login_page_links_to_sign_up_and_password_reset(client, db):
    html = client.get(URL).content.decode()
    assert reverse("accounts:signup") in html
    assert reverse("accounts:password_reset") in html


def test_the_right_password_logs_in_and_goes_home(client, agency):
    response = client.post(URL, {"email": "Owner@Acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200


def test_a_wrong_password_is_refused_and_recorded(client, agency):
    response = client.post(URL, {"email": "owner@acme.test", "password": "nope"})
    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    assert LoginFailure.objects.filter(email="owner@acme.test").count() == 1
    assert "_auth_user_id" not in client.session


def test_an_unknown_email_gets_the_same_answer(client, db):
    response = client.post(URL, {"email": "nobody@acme.test", "password": "nope"})
    assert response.status_code == 400
    assert "do not match" in response.content.decode()


def test_success_clears_the_recorded_failures(client, agency):
    client.post(URL, {"email": "owner@acme.test", "password": "nope"})
    client.post(URL, {"email": "owner@acme.test", "password": PASSWORD})
    assert not LoginFailure.objects.filter(email="owner@acme.test").exists()


def test_a_safe_next_is_followed(client, agency):
    target = reverse("accounts:team")
    response = client.post(URL, {"email": "owner@acme.test", "password": PASSWORD, "next": target})
    assert response.url == target


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "javascript:alert(1)"])
def test_a_foreign_next_is_ignored(client, agency, target):
    response = client.post(URL, {"email": "owner@acme.test", "password": PASSWORD, "next": target})
    assert response.url == reverse("core:home")


def test_after_too_many_failures_even_the_right_password_gets_429(client, agency, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        client.post(URL, {"email": "owner@acme.test", "password": "guess"})
    response = client.post(URL, {"email": "owner@acme.test", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed attempts; try again in 15 minutes." in html
    assert "_auth_user_id" not in client.session


def test_throttling_counts_per_account_not_per_browser(agency, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        HttpClient().post(URL, {"email": "owner@acme.test", "password": "guess"})
    fresh = HttpClient()
    assert fresh.post(URL, {"email": "owner@acme.test", "password": PASSWORD}).status_code == 429
    other = fresh.post(URL, {"email": "admin@acme.test", "password": PASSWORD})
    assert other.status_code == 302


def test_garbage_and_empty_posts_get_a_400(client, db):
    assert client.post(URL, {}).status_code == 400
    assert client.post(URL, {"email": "not an email", "password": ""}).status_code == 400


def test_logout_needs_a_post_and_signs_out(as_owner):
    assert as_owner.get(reverse("accounts:logout")).status_code == 405
    response = as_owner.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert as_owner.get(reverse("core:home")).status_code == 302


def test_a_signed_in_user_opening_login_is_sent_home(as_owner):
    response = as_owner.get(URL)
    assert response.status_code == 302
    assert response.url == reverse("core:home")
