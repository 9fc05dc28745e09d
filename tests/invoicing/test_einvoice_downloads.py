"""E-invoices of issued documents from the web, the API, the CLI and the invoice email."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from punchclock.invoicing import sending, services
from punchclock.invoicing.documents.einvoice import validation
from tests.api.helpers import Api, assert_error, token_for
from tests.conftest import login
from tests.invoicing.conftest import free_draft

FORMATS = ["cii", "ubl", "xrechnung-ubl", "xrechnung-cii", "peppol"]


@pytest.fixture
def ready(billing):
    """A seller and client with everything XRechnung and Peppol ask for."""
    org = billing.organization
    org.email, org.phone = "billing@acme.test", "+49 30 1234567"
    org.electronic_address, org.electronic_address_scheme = "billing@acme.test", "EM"
    org.address_line1, org.postal_code, org.city = "Hauptstraße 1", "10115", "Berlin"
    org.save()
    client = billing.client
    client.email = "ap@globex.test"
    client.buyer_reference = "991-12345-67"
    client.electronic_address, client.electronic_address_scheme = "ap@globex.test", "EM"
    client.address_line1, client.postal_code, client.city = "Marktplatz 2", "80331", "München"
    client.save()
    return billing


def _issued(agency):
    draft = free_draft(agency, ("Consulting", "3", "120.00"))
    draft.period_start, draft.period_end = date(2026, 11, 1), date(2026, 11, 30)
    draft.save()
    return services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 11, 30))


@pytest.mark.parametrize("code", FORMATS)
def test_each_format_downloads_as_valid_xml_from_the_page(ready, code):
    invoice = _issued(ready)
    response = login(ready.owner).get(reverse("invoicing:einvoice", args=[invoice.pk, code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert f'filename="{invoice.number}-{code}.xml"' in response["Content-Disposition"]
    report = validation.validate(response.content)
    assert report.valid, report.errors


def test_the_validate_button_reports_every_format(ready):
    invoice = _issued(ready)
    page = login(ready.owner).post(reverse("invoicing:einvoice_validate", args=[invoice.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<span class="badge badge-ok">valid</span>') == len(FORMATS)


def test_a_format_the_document_cannot_meet_says_why(billing):
    invoice = _issued(billing)  # no Leitweg-ID, no electronic addresses
    http = login(billing.owner)
    response = http.get(reverse("invoicing:einvoice", args=[invoice.pk, "xrechnung-ubl"]))
    assert response.status_code == 400
    assert "BT-10" in response.content.decode()
    assert http.get(reverse("invoicing:einvoice", args=[invoice.pk, "nope"])).status_code == 404
    draft = free_draft(billing, ("x", "1", "1"))
    assert http.get(reverse("invoicing:einvoice", args=[draft.pk, "ubl"])).status_code == 404
    assert (
        login(billing.member)
        .get(reverse("invoicing:einvoice", args=[invoice.pk, "ubl"]))
        .status_code
        == 403
    )


def test_the_api_serves_each_format_and_its_validation(ready, outsider):
    invoice = _issued(ready)
    api = Api(token_for(ready.owner))
    response = api.get(f"/invoices/{invoice.pk}/einvoice", {"format": "peppol"})
    assert response.status_code == 200
    assert validation.validate(response.content).valid
    assert_error(api.get(f"/invoices/{invoice.pk}/einvoice", {"format": "pdf"}), 422, "format")
    checks = api.get(f"/invoices/{invoice.pk}/einvoice/validation").json()
    assert [(c["format"], c["valid"], c["errors"]) for c in checks] == [
        (code, True, []) for code in FORMATS
    ]
    stranger = Api(token_for(outsider))
    assert_error(stranger.get(f"/invoices/{invoice.pk}/einvoice"), 404)


def test_the_email_carries_the_clients_format_beside_the_pdf(ready):
    ready.client.einvoice_format = "xrechnung-cii"
    ready.client.save()
    invoice = _issued(ready)
    event = sending.send_invoice(invoice, by=ready.owner)
    names = [a.filename for a in mail.outbox[0].attachments]
    assert names == [f"{invoice.number}.pdf", f"{invoice.number}-xrechnung-cii.xml"]
    assert event.detail["attachments"] == names
    assert validation.validate(mail.outbox[0].attachments[1].content).valid


def test_a_factur_x_client_gets_the_pdf_alone(ready):
    invoice = _issued(ready)
    sending.send_invoice(invoice, by=ready.owner)
    assert [a.filename for a in mail.outbox[0].attachments] == [f"{invoice.number}.pdf"]
