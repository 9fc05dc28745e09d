"""Password reset: an email with a one-time link that sets a new password."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.accounts.models import LoginFailure, User

NEW_PASSWORD = "a brand new passphrase 42"


def _link(body: str) -> str:
    found = re.search(re.escape(settings.SITE_URL) + r"(/\S+)", body)
    assert found, body
    return found.group(1)


def test_a_reset_request_sends_an_email_with_a_link(client, agency):
    response = client.post(reverse("accounts:password_reset"), {"email": "Member@acme.test"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["member@acme.test"]
    assert "Reset your Punchclock password" in message.subject
    assert "/accounts/password/reset/" in _link(message.body)


def test_the_link_sets_a_new_password_that_logs_in(client, agency):
    client.post(reverse("accounts:password_reset"), {"email": "member@acme.test"})
    link = _link(mail.outbox[0].body)
    # Django moves the token from the address into the session before showing the form.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")
    assert User.objects.get(email="member@acme.test").check_password(NEW_PASSWORD)
    fresh = HttpClient()
    login = fresh.post(
        reverse("accounts:login"), {"email": "member@acme.test", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302


def test_a_reset_forgets_failed_sign_ins(client, agency):
    LoginFailure.objects.create(email="member@acme.test", address="127.0.0.1")
    client.post(reverse("accounts:password_reset"), {"email": "member@acme.test"})
    page = client.get(_link(mail.outbox[0].body), follow=True)
    client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert not LoginFailure.objects.exists()


def test_the_link_works_only_once(client, agency):
    client.post(reverse("accounts:password_reset"), {"email": "member@acme.test"})
    link = _link(mail.outbox[0].body)
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    again = HttpClient().get(link, follow=True)
    assert again.status_code == 200
    assert not again.context["validlink"]
    assert "no longer works" in again.content.decode()


def test_a_weak_new_password_is_refused(client, agency):
    client.post(reverse("accounts:password_reset"), {"email": "member@acme.test"})
    page = client.get(_link(mail.outbox[0].body), follow=True)
    response = client.post(
        page.redirect_chain[-1][0], {"new_password1": "password", "new_password2": "password"}
    )
    assert response.status_code == 200  # Django's view re-renders the form
    assert response.context["form"].errors["new_password2"]
    assert User.objects.get(email="member@acme.test").check_password("correct horse battery staple")


def test_an_unknown_address_sends_nothing_but_looks_the_same(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@nowhere.test"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_a_garbage_link_shows_the_friendly_page(client, db):
    url = reverse("accounts:password_reset_confirm", args=["zz", "not-a-token"])
    response = client.get(url)
    assert response.status_code == 200
    assert "no longer works" in response.content.decode()
