"""In a real browser: the owner makes a client link, the client opens it without an account,
sees the right invoice, downloads its PDF and pays online; a forged link gets the friendly
page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency
from django.conf import settings

from punchclock.invoicing.models import EventKind, InvoiceDocument
from punchclock.payments import portal, services, stripe_payments
from punchclock.payments.models import CheckoutSession, PortalLink
from tests.browser.conftest import screenshot
from tests.browser.test_expense_with_receipt import sign_in
from tests.invoicing.conftest import wipe_invoices_after  # noqa: F401 - used as a fixture
from tests.payments.conftest import issued, paid

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("wipe_invoices_after")]


@pytest.mark.django_db(transaction=True)
def test_the_client_opens_the_link_sees_the_invoice_and_downloads_the_pdf(
    page, chromium, live_server, agency, monkeypatch
):
    organization = agency.organization
    organization.vat_id = "DE811907980"
    organization.iban = "DE89370400440532013000"
    organization.bic = "COBADEFFXXX"
    organization.email = "billing@acme.test"
    organization.brand_colour = "#0f766e"
    organization.save()
    invoice = issued(agency, "1250.00")  # 1,487.50 with 19 % VAT
    services.record_payment(invoice, paid("500.00", reference="First half"), by=agency.owner)
    # Stripe, faked in-process: Checkout sends the client straight back as if they had paid.
    checkouts: list[str] = []

    def start_checkout(invoice, *, success_url, cancel_url):
        checkouts.append(success_url)
        return CheckoutSession(url=success_url.replace(settings.SITE_URL, live_server.url))

    monkeypatch.setattr(stripe_payments, "online_payment_available", lambda invoice: True)
    monkeypatch.setattr(stripe_payments, "start_checkout", start_checkout)

    # The owner makes the link and copies it.
    sign_in(page, live_server, agency.owner)
    page.goto(f"/payments/links/invoice/{invoice.pk}/")
    page.click("button:has-text('Make a link')")
    page.locator(".flash:has-text('ready to share')").wait_for()
    address = page.locator("#portal-url").input_value()
    assert address.startswith(f"{settings.SITE_URL}/portal/")
    screenshot(page, "portal-owner-link")
    path = address.removeprefix(settings.SITE_URL)

    # The client has no account: a fresh browser context, no cookies.
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1100, "height": 900}
    )
    client = context.new_page()
    errors: list[str] = []
    client.on("pageerror", lambda exc: errors.append(str(exc)))
    response = client.goto(path)
    assert response is not None
    assert response.status == 200
    assert response.headers["referrer-policy"] == "same-origin"
    assert client.locator("h1").first.inner_text().startswith(invoice.number)
    assert "€987.50" in client.locator(".portal-amount").inner_text()
    assert "€1,487.50" in client.locator(".invoice-totals").inner_text()
    assert "First half" in client.content()
    assert "Acme Agency" in client.locator(".portal-org").inner_text()
    assert client.locator("nav.sidebar").count() == 0
    screenshot(client, "portal-invoice")

    with client.expect_download() as download:
        client.click("a:has-text('Download PDF')")
    saved = Path(download.value.path())
    content = saved.read_bytes()
    assert content.startswith(b"%PDF")
    assert content == bytes(InvoiceDocument.objects.get(invoice=invoice, kind="pdf").content)
    assert download.value.suggested_filename == f"{invoice.number}.pdf"
    assert invoice.events.filter(kind=EventKind.VIEWED).count() == 1

    client.click("button:has-text('Pay €987.50 online')")
    client.locator(".flash:has-text('Thank you — your payment is being confirmed')").wait_for()
    assert len(checkouts) == 1

    # The client-wide link lists the invoice with what is open, and opens it.
    statement = portal.url_for(portal.client_link(agency.client, by=agency.owner))
    client.goto(statement.removeprefix(settings.SITE_URL))
    row = client.locator(f".portal-documents tr:has-text('{invoice.number}')")
    assert "€987.50" in row.inner_text()
    screenshot(client, "portal-account")
    row.locator(f"a:has-text('{invoice.number}')").click()
    client.locator("a:has-text('All documents')").wait_for()

    link = PortalLink.objects.filter(invoice=invoice).get()
    forged = client.goto(f"/portal/{link.pk}.{'A' * 43}/")
    assert forged is not None
    assert forged.status == 404
    assert client.locator("h1").inner_text() == "This link does not open anything"
    assert invoice.number not in client.content()
    screenshot(client, "portal-forged")
    context.close()
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_a_german_client_reads_the_invoice_in_german(chromium, live_server, agency, monkeypatch):
    organization = agency.organization
    organization.vat_id = "DE811907980"
    organization.iban = "DE89370400440532013000"
    organization.email = "billing@acme.test"
    organization.save()
    agency.client.language = "de"
    agency.client.save()
    invoice = issued(agency, "1250.00")
    services.record_payment(invoice, paid("500.00", reference="Erste Hälfte"), by=agency.owner)
    monkeypatch.setattr(stripe_payments, "online_payment_available", lambda invoice: True)
    path = portal.url_for(portal.link_for(invoice)).removeprefix(settings.SITE_URL)

    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1100, "height": 900}, locale="en-US"
    )
    client = context.new_page()
    response = client.goto(path)
    assert response is not None
    assert response.status == 200
    assert client.locator("html").get_attribute("lang") == "de"
    amount = client.locator(".portal-amount").inner_text()
    assert "Offener Betrag" in amount
    assert format_currency(Decimal("987.50"), "EUR", locale="de") in amount
    totals = client.locator(".invoice-totals").inner_text()
    assert format_currency(Decimal("1487.50"), "EUR", locale="de") in totals
    assert client.locator("button.btn-pay").inner_text().endswith("jetzt online bezahlen")
    assert client.locator("a:has-text('PDF herunterladen')").count() == 1
    screenshot(client, "portal-invoice-de")
    context.close()
