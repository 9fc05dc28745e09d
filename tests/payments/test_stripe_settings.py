"""The owner's online payment page: keys shown as configured or missing, never their value."""

from __future__ import annotations

import pytest
from django.urls import reverse

from punchclock.payments.models import PaymentSettings
from punchclock.payments.stripe_payments import stripe_enabled
from tests.conftest import login

URL = "/payments/stripe/settings/"
SECRET_KEY = "sk_live_51VerySecretValue"


@pytest.fixture
def keys(settings):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = "whsec_AlsoSecret"
    settings.SITE_URL = "https://billing.acme.test"


def test_the_url_is_named():
    assert reverse("payments:stripe_settings") == URL
    assert reverse("payments:stripe_webhook") == "/payments/stripe/webhook/"


def test_the_page_says_what_is_configured_but_never_shows_a_key(agency, as_owner, keys):
    html = as_owner.get(URL).content.decode()
    assert "Configured" in html
    assert "live mode" in html
    assert SECRET_KEY not in html
    assert "VerySecret" not in html
    assert "AlsoSecret" not in html
    assert "https://billing.acme.test/payments/stripe/webhook/" in html
    for event in ("checkout.session.completed", "payment_intent.succeeded"):
        assert event in html
    assert "payment_intent.payment_failed" in html
    assert "charge.refunded" in html


def test_missing_keys_are_named(agency, as_owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    html = as_owner.get(URL).content.decode()
    assert "STRIPE_SECRET_KEY" in html
    assert "STRIPE_WEBHOOK_SECRET" in html


def test_the_owner_turns_it_on_and_off(agency, as_owner, keys):
    response = as_owner.post(URL, {"stripe_enabled": "on"})
    assert response.status_code == 302
    assert stripe_enabled(agency.organization.pk)
    assert "Clients can now pay online" in as_owner.get(URL).content.decode()
    as_owner.post(URL, {"stripe_enabled": "off"})
    assert not stripe_enabled(agency.organization.pk)


def test_turning_it_on_without_a_secret_key_is_refused(agency, as_owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = as_owner.post(URL, {"stripe_enabled": "on"})
    assert response.status_code == 400
    assert "set STRIPE_SECRET_KEY" in response.content.decode()
    assert not PaymentSettings.objects.filter(stripe_enabled=True).exists()


def test_htmx_gets_the_toggle_alone(agency, as_owner, keys):
    response = as_owner.post(URL, {"stripe_enabled": "on"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="stripe-toggle">')
    assert "Turn online payment off" in html
    assert "<html" not in html


def test_a_post_without_a_choice_changes_nothing(agency, as_owner, keys):
    response = as_owner.post(URL, {"name": "Hijack"})
    assert response.status_code == 400
    assert not stripe_enabled(agency.organization.pk)


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins_may_see_or_change_it(agency, keys, role):
    http = login(getattr(agency, role))
    assert http.get(URL).status_code == 403
    assert http.post(URL, {"stripe_enabled": "on"}).status_code == 403
    assert not stripe_enabled(agency.organization.pk)


def test_an_admin_may(agency, keys):
    assert login(agency.admin).get(URL).status_code == 200


def test_an_outsider_changes_only_their_own_organization(agency, outsider, as_outsider, keys):
    as_outsider.post(URL, {"stripe_enabled": "on"})
    assert stripe_enabled(outsider.organization_id)
    assert not stripe_enabled(agency.organization.pk)
    assert "Acme Agency" not in as_outsider.get(URL).content.decode()
