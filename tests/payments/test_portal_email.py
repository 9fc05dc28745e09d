"""The invoice email carries the client's portal link, in the client's language."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client as HttpClient

from punchclock.invoicing import preferences, sending
from punchclock.invoicing import services as invoicing
from punchclock.payments import portal, stripe_payments
from punchclock.payments.models import PaymentSettings, PortalLink
from tests.payments.conftest import issued

pytestmark = pytest.mark.usefixtures("frozen_today")
SITE = "http://127.0.0.1:8000"


def _link_in(body: str) -> str:
    found = re.findall(rf"{re.escape(SITE)}/portal/[^\s]+/", body)
    assert len(found) == 1, body
    return found[0]


@pytest.fixture
def globex(billing):
    billing.client.email = "billing@globex.test"
    billing.client.save()
    return billing


def test_the_sent_email_links_to_its_own_invoice(globex):
    other = issued(globex, "500.00")
    portal.link_for(other)
    invoice = issued(globex)
    sending.send_invoice(invoice, by=globex.owner)

    body = mail.outbox[-1].body
    assert "View the invoice and its payment status online:\n" in body
    url = _link_in(body)
    link = portal.resolve(url.removeprefix(f"{SITE}/portal/").rstrip("/"))
    assert link.invoice == invoice
    page = HttpClient().get(url.removeprefix(SITE))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{invoice.number} " in html
    assert "€119.00" in html
    assert f"{other.number} " not in html

    sending.send_invoice(invoice, by=globex.owner)
    assert _link_in(mail.outbox[-1].body) == url, "sending again gives the same link"
    assert PortalLink.objects.filter(invoice=invoice).count() == 1


def test_the_email_offers_paying_online_when_it_is_available(globex, monkeypatch):
    monkeypatch.setattr(stripe_payments, "online_payment_available", lambda invoice: True)
    invoice = issued(globex)
    _subject, body = sending.wording(invoice)
    assert "View the invoice and its payment status, and pay online:\n" in body
    assert _link_in(body) == portal.url_for(portal.link_for(invoice))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", "Rechnung und Zahlungsstand online ansehen:\n"),
        ("fr", "Consultez la facture et l'état de son paiement en ligne\N{NO-BREAK SPACE}:\n"),
    ],
)
def test_the_link_is_worded_in_the_clients_language(globex, language, words):
    globex.client.language = language
    globex.client.save()
    _subject, body = sending.wording(issued(globex))
    assert words in body
    _link_in(body)


def test_a_credit_notes_email_links_to_the_credit_note(globex):
    note = invoicing.credit_invoice(issued(globex), by=globex.owner)
    _subject, body = sending.wording(note)
    assert "View the credit note online:\n" in body
    link = portal.resolve(_link_in(body).removeprefix(f"{SITE}/portal/").rstrip("/"))
    assert link.invoice == note


def test_own_wording_may_place_the_link_or_leave_it_out(globex):
    preferences.save_email_template(
        globex.organization,
        by=globex.owner,
        language="en",
        subject="Invoice {number}",
        body="Hello,\n\nsee {link} ({link_text}).",
    )
    invoice = issued(globex)
    _subject, body = sending.wording(invoice)
    url = portal.url_for(portal.link_for(invoice))
    assert body == (f"Hello,\n\nsee {url} (View the invoice and its payment status online).\n")

    preferences.save_email_template(
        globex.organization, by=globex.owner, language="en", subject="S", body="No link here."
    )
    other = issued(globex)
    assert sending.wording(other) == ("S", "No link here.\n")
    assert not PortalLink.objects.filter(invoice=other).exists(), "no link made for nothing"


def test_the_email_and_the_pdf_of_an_invoice_payable_online_give_the_same_link(globex, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_offline"
    PaymentSettings.objects.create(organization=globex.organization, stripe_enabled=True)
    invoice = issued(globex)
    _subject, body = sending.wording(invoice)
    assert "and pay online:\n" in body
    assert _link_in(body) == invoice.snapshot["pay_url"]
    assert PortalLink.objects.filter(invoice=invoice).count() == 1
