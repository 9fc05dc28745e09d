"""Invoices by email: wording per organization and language, copies, and the sent record.

The stored PDF is attached, so the client receives exactly the bytes that were issued.
Nothing is recorded unless the mail server accepted the message.
"""

from __future__ import annotations

import smtplib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from babel.dates import format_date
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction

from punchclock.accounts.models import Membership, Organization
from punchclock.core.money import Money
from punchclock.core.services import field_error
from punchclock.core.timeutil import now
from punchclock.core.validators import split_emails
from punchclock.invoicing import services
from punchclock.invoicing.models import (
    EmailTemplate,
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceSettings,
    InvoiceStatus,
)

PLACEHOLDERS = {
    "document": "“Invoice” or “Credit note” in the client's language",
    "number": "the document number",
    "organization": "your organization's name",
    "client": "the client's name",
    "total": "the total with currency",
    "issue_date": "the issue date",
    "due_date": "the due date",
    "message": "the invoice's personal message",
    "link": "the client's own link to view the document online (and pay, when offered)",
    "link_text": "“View the invoice and its payment status online” in the client's language "
    "(“…and pay online” when online payment is offered)",
}
DEFAULT_WORDING: dict[str, tuple[str, str]] = {
    "en": (
        "{document} {number} from {organization}",
        "Hello,\n\nplease find attached {document} {number} of {issue_date} "
        "for {total}, due on {due_date}.\n\n{link_text}:\n{link}\n\n{message}\n\n"
        "Kind regards,\n{organization}",
    ),
    "de": (
        "{document} {number} von {organization}",
        "Guten Tag,\n\nanbei erhalten Sie {document} {number} vom {issue_date} "
        "über {total}, fällig am {due_date}.\n\n{link_text}:\n{link}\n\n{message}\n\n"
        "Mit freundlichen Grüßen\n{organization}",
    ),
    "fr": (
        "{document} {number} de {organization}",
        "Bonjour,\n\nveuillez trouver ci-joint votre {document} {number} du {issue_date} "
        "d'un montant de {total}, à régler avant le {due_date}.\n\n"
        "{link_text}\N{NO-BREAK SPACE}:\n{link}\n\n"
        "{message}\n\nCordialement,\n{organization}",
    ),
}
DOCUMENT_WORDS = {
    "en": {InvoiceKind.INVOICE: "invoice", InvoiceKind.CREDIT_NOTE: "credit note"},
    "de": {InvoiceKind.INVOICE: "Rechnung", InvoiceKind.CREDIT_NOTE: "Gutschrift"},
    "fr": {InvoiceKind.INVOICE: "facture", InvoiceKind.CREDIT_NOTE: "avoir"},
}
# {link_text}: (document kind, can pay online) -> the words before the portal link.
LINK_WORDS = {
    "en": {
        (InvoiceKind.INVOICE, False): "View the invoice and its payment status online",
        (InvoiceKind.INVOICE, True): "View the invoice and its payment status, and pay online",
        (InvoiceKind.CREDIT_NOTE, False): "View the credit note online",
    },
    "de": {
        (InvoiceKind.INVOICE, False): "Rechnung und Zahlungsstand online ansehen",
        (InvoiceKind.INVOICE, True): "Rechnung und Zahlungsstand online ansehen und bezahlen",
        (InvoiceKind.CREDIT_NOTE, False): "Gutschrift online ansehen",
    },
    "fr": {
        (InvoiceKind.INVOICE, False): "Consultez la facture et l'état de son paiement en ligne",
        (InvoiceKind.INVOICE, True): (
            "Consultez la facture et l'état de son paiement, et payez en ligne"
        ),
        (InvoiceKind.CREDIT_NOTE, False): "Consultez l'avoir en ligne",
    },
}
LINK_PLACEHOLDERS = {"link", "link_text"}
MAX_RECIPIENTS = 20


def check_wording(text: str, field: str, placeholders: Mapping[str, str] = PLACEHOLDERS) -> None:
    """A subject or body may use only the known placeholders, written as {name}."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise field_error(
            field, "Unbalanced braces: write placeholders as {number}, a brace as {{."
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in placeholders or spec or conversion:
            known = ", ".join("{" + key + "}" for key in placeholders)
            raise field_error(field, f"“{{{name}}}” is not a placeholder; use one of {known}.")


def invoice_settings(organization: Organization) -> InvoiceSettings:
    return InvoiceSettings.of(organization.pk)


def _language(invoice: Invoice) -> str:
    base = invoice.language.split("-")[0].lower()
    return base if base in DEFAULT_WORDING else "en"


def _values(invoice: Invoice) -> dict[str, str]:
    lang = _language(invoice)
    locale = invoice.language.replace("-", "_")
    buyer = invoice.snapshot.get("buyer", {})
    seller = invoice.snapshot.get("seller", {})

    def day(value: Any) -> str:
        return format_date(value, format="long", locale=locale) if value else ""

    return {
        "document": DOCUMENT_WORDS[lang][InvoiceKind(invoice.kind)],
        "number": invoice.number or "",
        "organization": seller.get("name") or invoice.organization.name,
        "client": buyer.get("name") or invoice.client.name,
        "total": Money(invoice.gross_total, invoice.currency).format(locale),
        "issue_date": day(invoice.issue_date),
        "due_date": day(invoice.due_date),
        "message": invoice.message,
    }


def _portal_values(invoice: Invoice) -> dict[str, str]:
    """The client's portal link and the words before it (makes the link when missing)."""
    from punchclock.payments import portal

    link = portal.link_for(invoice)
    kind = InvoiceKind(invoice.kind)
    pays = kind == InvoiceKind.INVOICE and portal.can_pay_online(invoice)
    return {"link": portal.url_for(link), "link_text": LINK_WORDS[_language(invoice)][kind, pays]}


def _uses(text: str, names: set[str]) -> bool:
    return any(name in names for _literal, name, _spec, _conv in string.Formatter().parse(text))


def wording(invoice: Invoice) -> tuple[str, str]:
    """The subject and body the organization's template gives for this invoice."""
    lang = _language(invoice)
    template = EmailTemplate.objects.filter(
        organization_id=invoice.organization_id, language=lang
    ).first()
    subject, body = (template.subject, template.body) if template else DEFAULT_WORDING[lang]
    values = _values(invoice)
    # Only a wording that shows the link makes one, so a template without it leaves no trace.
    if _uses(subject + body, LINK_PLACEHOLDERS):
        values |= _portal_values(invoice)
    filled_subject = subject.format_map(values)
    filled_body = body.format_map(values)
    # An empty message leaves no hole of blank lines.
    while "\n\n\n" in filled_body:
        filled_body = filled_body.replace("\n\n\n", "\n\n")
    return filled_subject[:1].upper() + filled_subject[1:], filled_body.strip() + "\n"


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]
    bcc: list[str]


def default_recipients(invoice: Invoice) -> Recipients:
    """The client's billing address, its copy list and the organization's blind copy."""
    client = invoice.client
    to = [client.email] if client.email else []
    contacts = client.contacts.filter(is_billing_contact=True).exclude(email="")
    cc = split_emails(client.invoice_cc) + [c.email for c in contacts if c.email not in to]
    blind = invoice_settings(invoice.organization).bcc
    return Recipients(to=to, cc=list(dict.fromkeys(cc)), bcc=[blind] if blind else [])


def _addresses(values: list[str], field: str) -> list[str]:
    clean = []
    for value in values:
        for address in split_emails(value):
            try:
                validate_email(address)
            except ValidationError:
                raise field_error(field, f"“{address}” is not an email address.") from None
            clean.append(address)
    return list(dict.fromkeys(clean))


def _sender(organization: Organization) -> str:
    """The organization's name on the site's sending address (mail servers check the domain)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((organization.name, address or "punchclock@localhost"))


def send_invoice(
    invoice: Invoice,
    *,
    by: Membership,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> InvoiceEvent:
    """Email an issued document with its stored PDF; the sent event records who got it."""
    services._require_biller(by, invoice.organization_id)
    invoice = Invoice.objects.select_related("organization", "client").get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ValidationError("Only issued documents can be sent; issue the draft first.")
    defaults = default_recipients(invoice)
    to_list = _addresses(defaults.to if to is None else to, "to")
    cc_list = _addresses(defaults.cc if cc is None else cc, "cc")
    bcc_list = _addresses(defaults.bcc if bcc is None else bcc, "bcc")
    if not to_list:
        raise field_error("to", f"{invoice.client.name} has no billing email; give an address.")
    if len(to_list) + len(cc_list) + len(bcc_list) > MAX_RECIPIENTS:
        raise field_error("to", f"At most {MAX_RECIPIENTS} recipients.")
    default_subject, default_body = wording(invoice)
    subject = default_subject if subject is None else subject.strip()
    body = default_body if body is None else body
    if not subject or "\n" in subject or "\r" in subject:
        raise field_error("subject", "The subject is a single, non-empty line.")
    if not body.strip():
        raise field_error("body", "Write a message.")
    pdf = services.stored_pdf(invoice)
    if pdf is None:
        raise ValidationError(f"{invoice.number} has no stored PDF to send.")
    organization = invoice.organization
    message_id = make_msgid(domain=parseaddr(settings.DEFAULT_FROM_EMAIL)[1].split("@")[-1])
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=_sender(organization),
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        reply_to=[organization.email] if organization.email else None,
        headers={"Message-ID": message_id},
    )
    message.attach(f"{invoice.number}.pdf", bytes(pdf.content), "application/pdf")
    attachments = [f"{invoice.number}.pdf"]
    xml = _client_xml(invoice)
    if xml is not None:
        message.attach(xml[0], xml[1], "application/xml")
        attachments.append(xml[0])
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError(f"The mail server did not take the email: {exc}") from exc
    with transaction.atomic():
        return InvoiceEvent.objects.create(
            invoice=invoice,
            kind=EventKind.SENT,
            at=now(),
            by=by.user,
            detail={
                "to": to_list,
                "cc": cc_list,
                "bcc": bcc_list,
                "subject": subject,
                "message_id": message_id,
                "attachment": f"{invoice.number}.pdf",
                "attachments": attachments,
                "pdf_sha256": pdf.sha256,
            },
        )


def _client_xml(invoice: Invoice) -> tuple[str, bytes] | None:
    """The XML the client asked for beside the PDF; none for Factur-X, which is the PDF."""
    from punchclock.invoicing.documents.einvoice import formats
    from punchclock.invoicing.documents.einvoice.model import EInvoiceError

    code = invoice.snapshot.get("einvoice_format", "")
    if code not in formats.FORMATS:
        return None
    try:
        return formats.filename(invoice, code), formats.write(invoice, code)
    except EInvoiceError:
        # Issuing checked the client's format; a document EN 16931 cannot express at all
        # (a second tax) goes as PDF only.
        return None


def last_sent(invoice: Invoice) -> InvoiceEvent | None:
    return invoice.events.filter(kind=EventKind.SENT).order_by("-at", "-pk").first()
