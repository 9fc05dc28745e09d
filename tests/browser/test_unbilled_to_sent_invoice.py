"""In a real browser: from unbilled work to a draft, issued and emailed with its PDF."""

from __future__ import annotations

import pytest
from django.core import mail

from punchclock.invoicing.models import EventKind, Invoice
from tests.browser.conftest import screenshot
from tests.browser.test_expense_with_receipt import sign_in
from tests.factories import make_rate
from tests.invoicing.conftest import (
    at,
    track,
    wipe_invoices_after,  # noqa: F401 - used as a fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("wipe_invoices_after")]


@pytest.mark.django_db(transaction=True)
def test_unbilled_work_becomes_a_sent_invoice(page, live_server, agency):
    make_rate(agency.organization, "100", project=agency.project)
    agency.organization.vat_id = "DE811907980"
    agency.organization.save()
    agency.client.email = "billing@globex.test"
    agency.client.invoice_message = "Thanks for the good collaboration."
    agency.client.save()
    track(agency.member, agency.project, at(2), 90, description="Auth endpoints")
    track(agency.member, agency.project, at(3), 30, description="Code review")
    sign_in(page, live_server, agency.owner)

    page.goto("/invoices/unbilled/?start=2026-11-01&end=2026-11-30")
    card = page.locator("section.unbilled-client:has-text('Globex')")
    assert "2.0" in card.inner_text() or "2.00" in card.inner_text()
    screenshot(page, "invoice-unbilled")
    card.locator("select[name='group_by']").select_option("entry")
    card.locator("button:has-text('Create draft')").click()
    page.locator("h1:has-text('draft')").wait_for()
    assert page.locator("#invoice-body tr:has-text('Auth endpoints')").count() == 1
    assert page.locator("#id_message").input_value() == "Thanks for the good collaboration."

    # Edit a line inline (htmx), then issue.
    page.locator("#invoice-body tr:has-text('Code review') a:has-text('Edit')").click()
    page.fill("#id_line-description", "Code review of the auth module")
    page.locator("#invoice-body button:has-text('Save')").click()
    page.locator("#invoice-body td:has-text('Code review of the auth module')").wait_for()
    screenshot(page, "invoice-draft")
    page.click("button:has-text('Issue')")
    page.locator("h1:has-text('2026-0001')").wait_for()
    assert "€238.00" in page.locator("#invoice-body").inner_text()  # 200.00 + 19 % VAT

    page.click("a:has-text('Send')")
    assert page.locator("#id_to").input_value() == "billing@globex.test"
    assert "Invoice 2026-0001 from Acme Agency" in page.locator("#id_subject").input_value()
    page.fill("#id_cc", "pm@globex.test")
    screenshot(page, "invoice-send")
    page.click("button:has-text('Send email')")
    page.locator(".flash:has-text('sent to billing@globex.test')").wait_for()
    assert "Sent" in page.locator("h1 .badge").first.inner_text()
    screenshot(page, "invoice-sent")

    invoice = Invoice.objects.get()
    assert invoice.events.filter(kind=EventKind.SENT).count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.cc) == (["billing@globex.test"], ["pm@globex.test"])
    assert message.attachments[0].filename == "2026-0001.pdf"
