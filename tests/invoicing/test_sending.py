"""Invoices go out by email with the stored PDF, in the client's language, to the right people."""

from __future__ import annotations

import email
import email.policy
import hashlib
import socket
from datetime import date
from email.message import EmailMessage as ParsedMessage

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from punchclock.clients.models import Contact
from punchclock.invoicing import preferences, sending, services
from punchclock.invoicing.models import EventKind, InvoiceDocument
from tests.conftest import login
from tests.invoicing.conftest import free_draft


def _issued(agency, language: str = "en"):
    agency.client.email = "billing@globex.test"
    agency.client.language = language
    agency.client.save()
    draft = free_draft(agency, ("Consulting", "3", "120.00"))
    return services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 11, 20))


class _Inbox:
    """An SMTP server's mailbox: every message it accepted, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], ParsedMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _smtp_mailer(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


def test_a_real_smtp_server_receives_the_invoice_with_the_stored_pdf(billing, smtp_server):
    inbox, port = smtp_server
    invoice = _issued(billing)
    stored = bytes(InvoiceDocument.objects.get(invoice=invoice).content)
    with override_settings(MAILERS=_smtp_mailer(port), DEFAULT_FROM_EMAIL="bills@punch.test"):
        event = sending.send_invoice(
            invoice, by=billing.owner, cc=["pm@globex.test"], bcc=["books@acme.test"]
        )

    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert sender == "bills@punch.test"
    assert sorted(recipients) == ["billing@globex.test", "books@acme.test", "pm@globex.test"]
    assert message["To"] == "billing@globex.test"
    assert message["Cc"] == "pm@globex.test"
    assert message["Bcc"] is None, "a blind copy must not show in the headers"
    assert message["Subject"] == f"Invoice {invoice.number} from Acme Agency"
    assert message["From"] == "Acme Agency <bills@punch.test>"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"invoice {invoice.number}" in body
    assert "€428.40" in body  # 360.00 + 19 % VAT
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{invoice.number}.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == stored

    assert event.kind == EventKind.SENT
    assert event.detail["to"] == ["billing@globex.test"]
    assert event.detail["cc"] == ["pm@globex.test"]
    assert event.detail["bcc"] == ["books@acme.test"]
    assert event.detail["pdf_sha256"] == hashlib.sha256(stored).hexdigest()
    assert event.detail["message_id"] == message["Message-ID"]
    assert sending.last_sent(invoice) == event


def test_a_refusing_mail_server_records_nothing(billing):
    invoice = _issued(billing)
    # Nothing listens on port 1: the connection is refused.
    with (
        override_settings(MAILERS=_smtp_mailer(1)),
        pytest.raises(ValidationError, match="mail server did not take"),
    ):
        sending.send_invoice(invoice, by=billing.owner)
    assert not invoice.events.filter(kind=EventKind.SENT).exists()


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("de", "Rechnung {number} von Acme Agency", "428,40\N{NO-BREAK SPACE}€"),
        ("fr", "Facture {number} de Acme Agency", "votre facture {number} du 20 novembre 2026"),
    ],
)
def test_the_default_wording_follows_the_clients_language(billing, language, subject, phrase):
    invoice = _issued(billing, language)
    got_subject, body = sending.wording(invoice)
    assert got_subject == subject.format(number=invoice.number)
    assert phrase.format(number=invoice.number) in body
    assert "428,40\N{NO-BREAK SPACE}€" in body
    assert "{" not in body


def test_the_organizations_template_and_the_invoice_message_fill_the_email(billing):
    billing.client.invoice_message = "Thanks for another great month."
    billing.client.save()
    preferences.save_email_template(
        billing.organization,
        by=billing.owner,
        language="en",
        subject="{client}: {document} {number}",
        body="Dear {client},\n\n{message}\n\nTotal {total}, due {due_date}.",
    )
    invoice = _issued(billing)
    assert invoice.message == "Thanks for another great month."
    subject, body = sending.wording(invoice)
    assert subject == f"Globex: invoice {invoice.number}"
    assert body == (
        "Dear Globex,\n\nThanks for another great month.\n\nTotal €428.40, due December 20, 2026.\n"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Invoice {numbr}", "“{numbr}” is not a placeholder"),
        ("Invoice {number", "Unbalanced braces"),
        ("Invoice {number!r}", "is not a placeholder"),
        ("Invoice {total:>10}", "is not a placeholder"),
        ("{0}", "is not a placeholder"),
    ],
)
def test_a_template_with_unknown_placeholders_is_refused(billing, text, error):
    with pytest.raises(ValidationError, match=error):
        preferences.save_email_template(
            billing.organization, by=billing.owner, language="en", subject=text, body="Hello"
        )
    assert not billing.organization.email_templates.exists()


def test_defaults_send_to_the_client_its_copy_list_billing_contacts_and_the_books(billing):
    billing.client.invoice_cc = "ceo@globex.test, pm@globex.test"
    billing.client.save()
    Contact.objects.create(
        client=billing.client, name="Ann", email="ann@globex.test", is_billing_contact=True
    )
    Contact.objects.create(client=billing.client, name="Bob", email="bob@globex.test")
    preferences.save_settings(
        billing.organization, by=billing.owner, footer_text="", bcc="books@acme.test"
    )
    invoice = _issued(billing)
    sending.send_invoice(invoice, by=billing.owner)
    sent = mail.outbox[-1]
    assert sent.to == ["billing@globex.test"]
    assert sent.cc == ["ceo@globex.test", "pm@globex.test", "ann@globex.test"]
    assert sent.bcc == ["books@acme.test"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"to": []}, "to", "has no billing email"),
        ({"to": ["not-an-address"]}, "to", "is not an email address"),
        ({"cc": ["a@b.test, nope"]}, "cc", "“nope” is not an email address"),
        ({"subject": "two\nlines"}, "subject", "single, non-empty line"),
        ({"body": "   "}, "body", "Write a message"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(billing, fields, field, message):
    invoice = _issued(billing)
    with pytest.raises(ValidationError) as caught:
        sending.send_invoice(invoice, by=billing.owner, **fields)
    assert message in " ".join(caught.value.message_dict[field])
    assert mail.outbox == []
    assert not invoice.events.filter(kind=EventKind.SENT).exists()


def test_drafts_cannot_be_sent_and_members_cannot_send(billing):
    draft = free_draft(billing, ("Consulting", "1", "10"))
    with pytest.raises(ValidationError, match="issue the draft first"):
        sending.send_invoice(draft, by=billing.owner, to=["x@y.test"])
    invoice = _issued(billing)
    with pytest.raises(PermissionDenied):
        sending.send_invoice(invoice, by=billing.member)
    assert mail.outbox == []


def test_the_send_page_prefills_sends_and_shows_the_sent_time(billing):
    invoice = _issued(billing)
    http = login(billing.owner)
    url = reverse("invoicing:send", args=[invoice.pk])
    page = http.get(url).content.decode()
    assert "billing@globex.test" in page
    assert f"Invoice {invoice.number} from Acme Agency" in page

    response = http.post(
        url,
        {
            "to": "billing@globex.test, ap@globex.test",
            "cc": "",
            "bcc": "",
            "subject": "Your invoice",
            "body": "Hello, here it is.",
        },
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["billing@globex.test", "ap@globex.test"]
    assert mail.outbox[-1].subject == "Your invoice"
    detail = http.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert "Sent</span>" in detail
    assert "to billing@globex.test, ap@globex.test" in detail
    listing = http.get(reverse("invoicing:list")).content.decode()
    assert "Sent</span>" in listing


def test_the_send_page_shows_errors_without_sending(billing):
    invoice = _issued(billing)
    response = login(billing.owner).post(
        reverse("invoicing:send", args=[invoice.pk]),
        {"to": "nobody", "subject": "S", "body": "B"},
    )
    assert response.status_code == 400
    assert "is not an email address" in response.content.decode()
    assert mail.outbox == []
