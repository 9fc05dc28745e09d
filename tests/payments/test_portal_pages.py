"""The portal as the client opens it: the invoice, its files, its status, paying online, and
never anybody else's documents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from punchclock.invoicing import services as invoicing
from punchclock.invoicing.documents.einvoice import formats
from punchclock.invoicing.models import EventKind, Invoice, InvoiceDocument
from punchclock.payments import portal, services, stripe_payments
from punchclock.payments.balances import State, balance_of
from punchclock.payments.models import CheckoutSession, Method, PortalLink
from tests import factories
from tests.conftest import login
from tests.invoicing.conftest import free_draft
from tests.payments.conftest import issued, paid
from tests.payments.test_portal_links import (
    Clock,
    _forge,
    portal_clock,
    rival_organization,
)

pytestmark = pytest.mark.usefixtures("frozen_today", "clock")

PORTAL_HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}


def home(link: PortalLink) -> str:
    return reverse("portal:home", args=[portal.token_for(link)])


def sub(name: str, link: PortalLink, invoice: Invoice) -> str:
    return reverse(f"portal:{name}", args=[portal.token_for(link), invoice.pk])


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return portal_clock(monkeypatch)


@pytest.fixture
def rival(db) -> SimpleNamespace:
    return rival_organization()


@pytest.fixture
def anonymous() -> HttpClient:
    return HttpClient()


@dataclass
class Checkout:
    """What the fake Stripe saw."""

    calls: list[dict]
    url: str = "https://checkout.stripe.test/c/pay/cs_test_1"


@pytest.fixture
def online(monkeypatch) -> Checkout:
    """Online payment on offer, with a Checkout that records its calls (no network)."""
    seen = Checkout(calls=[])

    def start_checkout(invoice, *, success_url, cancel_url):
        seen.calls.append({"invoice": invoice, "success": success_url, "cancel": cancel_url})
        return CheckoutSession(url=seen.url)

    monkeypatch.setattr(stripe_payments, "online_payment_available", lambda invoice: True)
    monkeypatch.setattr(stripe_payments, "start_checkout", start_checkout)
    return seen


# The invoice page ------------------------------------------------------------------------


def test_the_client_sees_the_invoice_without_an_account(billing, anonymous):
    invoice = issued(billing)
    page = anonymous.get(home(portal.link_for(invoice)))
    assert page.status_code == 200
    html = text(page)
    assert f"{invoice.number} " in html
    assert "Acme Agency" in html
    assert "Globex" in html
    assert "Development" in html
    assert "€100.00" in html  # net
    assert "VAT 19% on €100.00" in html  # the PDF's wording
    assert "€19.00" in html
    assert "Amount due" in html
    assert "€119.00" in html
    assert "Issued Nov 2, 2026 · due Dec 2, 2026" in html  # the PDF's date format
    assert ">Open</span>" in html
    assert "Pay €" not in html, "no online payment unless it is offered"
    # The standalone layout: none of the app's navigation.
    assert "sidebar" not in html
    assert "Log out" not in html
    assert "Timesheet" not in html
    assert '<meta name="referrer" content="same-origin">' in html


def test_an_overdue_invoice_says_so_and_shows_bank_details(billing, anonymous, clock):
    billing.organization.iban = "DE89370400440532013000"
    billing.organization.save()
    invoice = issued(billing)  # due on 2 December
    clock.at += timedelta(days=26)
    html = text(anonymous.get(home(portal.link_for(invoice))))
    assert ">Overdue</span>" in html
    assert "4 days overdue" in html
    assert "DE89370400440532013000" in html
    assert f"<code>{invoice.number}</code>" in html


def test_payments_and_credit_notes_show_with_the_open_balance(billing, anonymous):
    invoice = issued(billing)
    services.record_payment(
        invoice, paid("50.00", method=Method.CASH, reference="cash at the desk"), by=billing.owner
    )
    link = portal.link_for(invoice)
    html = text(anonymous.get(home(link)))
    assert ">Partially paid</span>" in html
    assert "cash at the desk" in html
    assert "Cash" in html
    assert "€50.00" in html
    assert "€69.00" in html

    note = invoicing.credit_invoice(invoice, by=billing.owner)
    html = text(anonymous.get(home(link)))
    assert ">Credited</span>" in html
    assert note.number in html
    credit_page = anonymous.get(sub("invoice", link, note))
    assert credit_page.status_code == 200
    assert f"{note.number} " in text(credit_page)
    assert "Credit note" in text(credit_page)
    stored = InvoiceDocument.objects.get(invoice=note, kind="pdf")
    assert anonymous.get(sub("pdf", link, note)).content == bytes(stored.content)


def test_the_pdf_is_the_stored_bytes(billing, anonymous):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    response = anonymous.get(sub("pdf", link, invoice))
    stored = InvoiceDocument.objects.get(invoice=invoice, kind="pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content == bytes(stored.content)
    assert response.content.startswith(b"%PDF")


def test_the_einvoice_comes_in_the_clients_format(billing, anonymous):
    billing.client.einvoice_format = "ubl"
    billing.client.save()
    invoice = issued(billing)
    link = portal.link_for(invoice)
    assert sub("einvoice", link, invoice) in text(anonymous.get(home(link)))
    response = anonymous.get(sub("einvoice", link, invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    name = formats.filename(invoice, "ubl")
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.content == formats.write(invoice, "ubl")


def test_a_facturx_client_gets_the_cii_inside_its_pdf(billing, anonymous):
    invoice = issued(billing)  # the client's format is Factur-X
    response = anonymous.get(sub("einvoice", portal.link_for(invoice), invoice))
    assert response.content == formats.write(invoice, "cii")


def test_a_document_without_einvoice_offers_none(billing, anonymous):
    draft = invoicing.start_draft(billing.client, by=billing.owner)
    invoicing.add_line(
        draft,
        by=billing.owner,
        description="Consulting",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        tax_category="S",
        tax_rate=Decimal(5),
        additional_tax_name="QST",
        additional_tax_rate=Decimal("9.975"),
    )
    invoice = invoicing.issue_invoice(draft, by=billing.owner)
    link = portal.link_for(invoice)
    html = text(anonymous.get(home(link)))
    assert "Download PDF" in html
    assert "e-invoice" not in html
    assert anonymous.get(sub("einvoice", link, invoice)).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete", "post"])
def test_pages_only_answer_reading(billing, anonymous, method):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    for url in (home(link), sub("invoice", link, invoice), sub("pdf", link, invoice)):
        assert getattr(anonymous, method)(url).status_code == 405


# Who viewed it ---------------------------------------------------------------------------


def test_the_clients_first_view_records_viewed_then_at_most_daily(billing, anonymous, clock):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    viewed = invoice.events.filter(kind=EventKind.VIEWED)

    anonymous.get(home(link))
    assert viewed.count() == 1
    assert viewed.get().at == clock.at
    assert viewed.get().by is None
    assert viewed.get().detail == {"portal_link": link.pk}
    link.refresh_from_db()
    assert link.last_viewed_at == clock.at
    assert balance_of(invoice, clock.at.date()).state == State.VIEWED

    clock.at += timedelta(hours=23)
    anonymous.get(home(link))
    anonymous.get(sub("pdf", link, invoice))
    assert viewed.count() == 1
    link.refresh_from_db()
    assert link.last_viewed_at == clock.at, "the link still notes every visit"

    clock.at += timedelta(hours=2)
    anonymous.get(sub("pdf", link, invoice))
    assert viewed.count() == 2


def test_members_checking_the_link_do_not_count_as_the_client(billing, outsider):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    for membership in (billing.owner, billing.member):
        assert login(membership).get(home(link)).status_code == 200
    assert not invoice.events.filter(kind=EventKind.VIEWED).exists()
    link.refresh_from_db()
    assert link.last_viewed_at is None
    # Someone signed in elsewhere who holds the link is a client viewing it.
    login(outsider).get(home(link))
    assert invoice.events.filter(kind=EventKind.VIEWED).count() == 1


# Paying online ---------------------------------------------------------------------------


def test_pay_online_goes_to_stripe_checkout_and_comes_back(billing, anonymous, online):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    html = text(anonymous.get(home(link)))
    assert "Pay €119.00 online" in html
    assert f'action="{sub("pay", link, invoice)}"' in html

    response = anonymous.post(sub("pay", link, invoice))
    assert response.status_code == 303
    assert response["Location"] == online.url
    page = f"http://127.0.0.1:8000{home(link)}"
    assert online.calls == [
        {
            "invoice": invoice,
            "success": f"{page}?payment=success",
            "cancel": f"{page}?payment=cancelled",
        }
    ]
    back = text(anonymous.get(home(link), {"payment": "success"}))
    assert "Thank you — your payment is being confirmed." in back
    assert "nothing was charged" in text(anonymous.get(home(link), {"payment": "cancelled"}))
    assert not invoice.allocations.exists(), "the webhook records the payment, not the redirect"


def test_the_pay_form_keeps_csrf_protection(billing, online):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    browser = HttpClient(enforce_csrf_checks=True)
    assert browser.post(sub("pay", link, invoice)).status_code == 403
    assert online.calls == []
    html = text(browser.get(home(link)))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf
    response = browser.post(sub("pay", link, invoice), {"csrfmiddlewaretoken": csrf[1]})
    assert response.status_code == 303
    assert len(online.calls) == 1


def test_nothing_to_pay_or_a_refusal_comes_back_with_a_note(
    billing, anonymous, online, monkeypatch
):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    services.record_payment(invoice, paid("119.00"), by=billing.owner)
    response = anonymous.post(sub("pay", link, invoice))
    assert response.status_code == 303
    assert response["Location"].endswith("?payment=unavailable")
    assert online.calls == []
    assert "Pay €" not in text(anonymous.get(home(link)))

    other = issued(billing)
    other_link = portal.link_for(other)

    def refuse(invoice, **urls):
        raise ValidationError("Stripe is down.")

    monkeypatch.setattr(stripe_payments, "start_checkout", refuse)
    response = anonymous.post(sub("pay", other_link, other))
    assert response["Location"].endswith("?payment=unavailable")
    note = text(anonymous.get(response["Location"]))
    assert "Online payment is not available right now" in note


def test_credit_notes_cannot_be_paid(billing, anonymous, online):
    invoice = issued(billing)
    note = invoicing.credit_invoice(invoice, by=billing.owner)
    link = portal.link_for(invoice)
    assert "Pay €" not in text(anonymous.get(sub("invoice", link, note)))
    assert anonymous.post(sub("pay", link, note)).status_code == 303
    assert online.calls == []


def test_paying_needs_a_post(billing, anonymous, online):
    invoice = issued(billing)
    assert anonymous.get(sub("pay", portal.link_for(invoice), invoice)).status_code == 405
    assert online.calls == []


# The client-wide link --------------------------------------------------------------------


def test_a_client_link_shows_every_document_payment_and_what_is_open(billing, anonymous, rival):
    first, second, third = issued(billing), issued(billing, "200.00"), issued(billing, "50.00")
    services.record_payment(first, paid("119.00", reference="TX-1"), by=billing.owner)
    note = invoicing.credit_invoice(second, by=billing.owner)
    draft = free_draft(billing, ("Draft work", "1", "999"))
    link = portal.client_link(billing.client, by=billing.owner)

    response = anonymous.get(home(link))
    assert response.status_code == 200
    html = text(response)
    for document in (first, second, note, third):
        assert sub("invoice", link, document) in html
        assert sub("pdf", link, document) in html
    assert "Draft work" not in html
    assert f"/{draft.pk}/" not in html
    assert "Initech" not in html
    assert f"/invoices/{rival.invoice.pk}/" not in html
    assert "€59.50" in html  # third: 50.00 + 19 %, the only open one
    assert "TX-1" in html
    assert ">Paid</span>" in html
    assert ">Credited</span>" in html

    opened = anonymous.get(sub("invoice", link, third))
    assert opened.status_code == 200
    assert "← All documents" in text(opened)
    assert third.events.filter(kind=EventKind.VIEWED).count() == 1
    assert not first.events.filter(kind=EventKind.VIEWED).exists(), "the list is no view"


# Never anybody else's data ---------------------------------------------------------------


def _forged_page(anonymous) -> bytes:
    response = anonymous.get(reverse("portal:home", args=["1.forged"]))
    assert response.status_code == 404
    return response.content


def test_a_client_link_never_opens_other_clients_or_organizations_documents(
    billing, anonymous, rival
):
    own = issued(billing)
    other_client = factories.make_client(billing.organization, "Umbrella", code="umbrella")
    stranger = issued(SimpleNamespace(client=other_client, owner=billing.owner))
    draft = free_draft(billing, ("Consulting", "1", "100"))
    link = portal.client_link(billing.client, by=billing.owner)
    forged = _forged_page(anonymous)

    assert anonymous.get(sub("invoice", link, own)).status_code == 200
    for outside in (stranger, rival.invoice, draft):
        for name in ("invoice", "pdf", "einvoice", "pay"):
            method = anonymous.post if name == "pay" else anonymous.get
            response = method(sub(name, link, outside))
            assert response.status_code == 404, (name, outside)
            assert response.content == forged, "the same answer as a forged link"
    for missing in (0, 10**20):
        url = reverse("portal:invoice", args=[portal.token_for(link), missing])
        assert anonymous.get(url).status_code == 404


def test_an_invoice_link_never_opens_other_documents(billing, anonymous, rival):
    invoice, sibling = issued(billing), issued(billing)
    link = portal.link_for(invoice)
    forged = _forged_page(anonymous)
    for outside in (sibling, rival.invoice):
        for name in ("invoice", "pdf", "einvoice"):
            response = anonymous.get(sub(name, link, outside))
            assert (response.status_code, response.content) == (404, forged)
    # Organization B's link with organization A's ids.
    rival_link = portal.link_for(rival.invoice)
    assert anonymous.get(sub("pdf", rival_link, invoice)).content == forged
    assert anonymous.get(sub("pdf", rival_link, rival.invoice)).status_code == 200


def test_forged_and_tampered_links_get_the_friendly_404(billing, anonymous, rival):
    invoice = issued(billing)
    link, other = portal.link_for(invoice), portal.link_for(rival.invoice)
    token = portal.token_for(link)
    signature = token.split(".")[1]
    for bad in (
        _forge(token),
        f"{other.pk}.{signature}",  # a valid signature, for another link's id
        f"{link.pk + 1}.{signature}",
        token[:-2],
        "nonsense",
    ):
        for url in (
            reverse("portal:home", args=[bad]),
            reverse("portal:invoice", args=[bad, invoice.pk]),
            reverse("portal:pdf", args=[bad, invoice.pk]),
        ):
            response = anonymous.get(url)
            assert response.status_code == 404, (bad, url)
            html = text(response)
            assert "This link does not open anything" in html
            assert "Acme Agency" not in html
            assert "Rival" not in html
            assert "Globex" not in html
            assert "%PDF" not in html


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_revoked_and_expired_links_get_the_friendly_410(billing, anonymous, clock, ending):
    invoice = issued(billing)
    if ending == "revoked":
        link = portal.link_for(invoice)
        portal.revoke(link, by=billing.owner)
        title = "This link was withdrawn"
    else:
        link = portal.client_link(billing.client, by=billing.owner)
        clock.at += timedelta(days=portal.CLIENT_LINK_DAYS, seconds=1)
        title = "This link has expired"
    for name in ("invoice", "pdf", "einvoice"):
        response = anonymous.get(sub(name, link, invoice))
        assert response.status_code == 410
        assert title in text(response)
        assert invoice.number not in text(response)
    response = anonymous.get(home(link))
    assert response.status_code == 410
    assert "Acme Agency" in text(response), "the client learns whom to ask for a new link"
    assert not invoice.events.filter(kind=EventKind.VIEWED).exists()


def test_every_portal_answer_is_private(billing, anonymous, online):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    revoked = portal.link_for(issued(billing))
    portal.revoke(revoked, by=billing.owner)
    answers = [
        anonymous.get(home(link)),
        anonymous.get(sub("pdf", link, invoice)),
        anonymous.get(sub("einvoice", link, invoice)),
        anonymous.post(sub("pay", link, invoice)),
        anonymous.get(home(revoked)),
        anonymous.get(reverse("portal:home", args=["1.forged"])),
        anonymous.delete(home(link)),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 303, 410, 404, 405]
    for answer in answers:
        for header, value in PORTAL_HEADERS.items():
            assert answer[header] == value, (answer.status_code, header)


@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s))
def test_garbage_tokens_get_404_never_500(billing, garbage):
    http = HttpClient(raise_request_exception=False)
    token = quote(garbage, safe="")
    for url in (f"/portal/{token}/", f"/portal/{token}/invoices/1/pdf/"):
        assert http.get(url).status_code == 404, url
    assert http.post(f"/portal/{token}/invoices/1/pay/").status_code == 404


def test_the_statement_costs_the_same_queries_for_any_number_of_documents(billing, anonymous):
    link = portal.client_link(billing.client, by=billing.owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert anonymous.get(home(link)).status_code == 200
        return len(captured)

    for _ in range(2):
        services.record_payment(issued(billing), paid("50.00"), by=billing.owner)
    few = queries()
    for _ in range(3):
        services.record_payment(issued(billing), paid("50.00"), by=billing.owner)
    assert queries() == few
