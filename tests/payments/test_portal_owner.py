"""The owner's side of portal links: make one, copy it, see when the client opened it, revoke it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.payments import portal
from punchclock.payments.models import PortalLink
from tests.conftest import login
from tests.invoicing.conftest import free_draft
from tests.payments.conftest import issued
from tests.payments.test_portal_links import Clock, portal_clock

pytestmark = pytest.mark.usefixtures("frozen_today", "clock")


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return portal_clock(monkeypatch)


def _shown_url(html: str) -> str:
    found = re.search(r'id="portal-url" class="secret" value="([^"]+)"', html)
    assert found, "the page shows the link"
    return found[1]


def test_the_owner_makes_copies_and_revokes_an_invoice_link(billing, clock):
    invoice = issued(billing)
    http = login(billing.owner)
    url = reverse("payments:link_invoice", args=[invoice.pk])
    page = http.get(url).content.decode()
    assert "There is no link yet." in page
    assert "Make a link" in page
    assert not PortalLink.objects.exists()

    assert http.post(url).status_code == 302
    link = PortalLink.objects.get()
    assert (link.invoice, link.created_by) == (invoice, billing.owner.user)
    page = http.get(url).content.decode()
    shown = _shown_url(page)
    assert shown == portal.url_for(link)
    assert "Copy" in page
    assert "you revoke it" in page
    assert "not yet" in page
    # The address opens the invoice for someone without an account.
    opened = HttpClient().get(shown.removeprefix("http://127.0.0.1:8000"))
    assert opened.status_code == 200
    assert invoice.number in opened.content.decode()
    assert http.post(url).status_code == 302
    assert PortalLink.objects.count() == 1, "making it again shows the same link"

    revoke = reverse("payments:link_revoke", args=[link.pk])
    assert f'action="{revoke}"' in http.get(url).content.decode()
    clock.at += timedelta(minutes=5)
    assert http.post(revoke)["Location"] == url
    link.refresh_from_db()
    assert link.revoked_at == clock.at
    page = http.get(url).content.decode()
    assert "No link works right now." in page
    assert "revoked" in page
    assert HttpClient().get(shown.removeprefix("http://127.0.0.1:8000")).status_code == 410


def test_the_admin_makes_a_client_wide_link_that_expires(billing, clock):
    http = login(billing.admin)
    url = reverse("payments:link_client", args=[billing.client.pk])
    assert "There is no link yet." in http.get(url).content.decode()
    http.post(url)
    link = PortalLink.objects.get()
    assert link.invoice is None
    assert link.client == billing.client
    page = http.get(url).content.decode()
    assert _shown_url(page) == portal.url_for(link)
    expiry = clock.at + timedelta(days=portal.CLIENT_LINK_DAYS)
    assert f"{expiry:%-d %b %Y}" in page
    http.post(reverse("payments:link_revoke", args=[link.pk]))
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_a_draft_gets_no_link(billing):
    draft = free_draft(billing, ("Consulting", "1", "100"))
    http = login(billing.owner)
    url = reverse("payments:link_invoice", args=[draft.pk])
    assert "issue it first" in http.get(url).content.decode()
    response = http.post(url, follow=True)
    assert "issue it first" in response.content.decode()
    assert not PortalLink.objects.exists()


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_payment_managers_reach_the_link_pages(billing, role):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    http = login(getattr(billing, role))
    for url in (
        reverse("payments:link_invoice", args=[invoice.pk]),
        reverse("payments:link_client", args=[billing.client.pk]),
    ):
        assert http.get(url).status_code == 403
        assert http.post(url).status_code == 403
    assert http.post(reverse("payments:link_revoke", args=[link.pk])).status_code == 403
    assert PortalLink.objects.get().revoked_at is None


def test_outsiders_get_404_and_change_nothing(billing, as_outsider):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    for url in (
        reverse("payments:link_invoice", args=[invoice.pk]),
        reverse("payments:link_client", args=[billing.client.pk]),
    ):
        assert as_outsider.get(url).status_code == 404
        assert as_outsider.post(url).status_code == 404
    assert as_outsider.post(reverse("payments:link_revoke", args=[link.pk])).status_code == 404
    assert PortalLink.objects.get().revoked_at is None


def test_signed_out_visitors_are_sent_to_sign_in(billing):
    invoice = issued(billing)
    response = HttpClient().get(reverse("payments:link_invoice", args=[invoice.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
