"""An organization's invoice preferences: footer, blind copy, own template, email wording."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from django.db import transaction

from punchclock.accounts.models import Membership, Organization
from punchclock.clients.models import Client
from punchclock.core.services import field_error
from punchclock.core.timeutil import now
from punchclock.invoicing import services
from punchclock.invoicing.models import (
    EmailTemplate,
    FontStyle,
    Invoice,
    InvoiceLine,
    InvoiceSettings,
)
from punchclock.invoicing.sending import check_wording

MAX_TEMPLATE_BYTES = 256 * 1024


def _settings_for_update(organization: Organization) -> InvoiceSettings:
    found, _ = InvoiceSettings.objects.select_for_update().get_or_create(organization=organization)
    return found


def save_settings(
    organization: Organization,
    *,
    by: Membership,
    footer_text: str,
    bcc: str,
    font: str = FontStyle.SANS,
) -> InvoiceSettings:
    services._require_biller(by, organization.pk)
    with transaction.atomic():
        found = _settings_for_update(organization)
        found.footer_text = footer_text.strip()
        found.bcc = bcc.strip()
        found.font = font
        found.full_clean(exclude=["organization"])
        found.save()
    return found


def sample_render(organization: Organization, source: str) -> bytes:
    """Render a two-line sample invoice with `source`; writes nothing.

    Raises DocumentError with Typst's message when the template does not compile."""
    from punchclock.invoicing.documents.pdf import render_pdf

    with transaction.atomic():
        client = Client.objects.create(
            organization=organization,
            name="Sample Client Ltd",
            code=f"sample-{uuid4().hex[:12]}",
            address_line1="1 Example Street",
            postal_code="10115",
            city="Berlin",
            country=organization.country or "DE",
            currency=organization.default_currency,
            language=organization.locale,
        )
        invoice = Invoice.objects.create(
            organization=organization,
            client=client,
            currency=client.currency,
            language=client.language,
            message="Thank you for your business.",
        )
        for position, (text, quantity, price) in enumerate(
            [("Development", "12.5", "95"), ("Hosting", "1", "40")], 1
        ):
            InvoiceLine.objects.create(
                invoice=invoice,
                position=position,
                description=text,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                tax_rate=Decimal(19),
                net_amount=Decimal(quantity) * Decimal(price),
            )
        pdf = render_pdf(invoice, template=source)
        # Nothing of the sample stays, whatever happens.
        transaction.set_rollback(True)
    return pdf


def upload_template(
    organization: Organization, *, by: Membership, content: bytes, name: str
) -> InvoiceSettings:
    """Replace the default design with the organization's own Typst file, if it compiles."""
    from punchclock.invoicing.documents.pdf import DocumentError

    services._require_biller(by, organization.pk)
    if not content.strip():
        raise field_error("template", "The file is empty.")
    if len(content) > MAX_TEMPLATE_BYTES:
        raise field_error("template", f"A template is at most {MAX_TEMPLATE_BYTES // 1024} KB.")
    try:
        source = content.decode("utf-8")
    except UnicodeDecodeError:
        raise field_error("template", "A Typst template is a UTF-8 text file.") from None
    try:
        sample_render(organization, source)
    except DocumentError as exc:
        raise field_error("template", f"The template does not work: {exc}") from exc
    with transaction.atomic():
        found = _settings_for_update(organization)
        found.template_source = source
        found.template_name = name[:200]
        found.template_uploaded_at = now()
        found.save()
    return found


def remove_template(organization: Organization, *, by: Membership) -> None:
    """Back to the default design for documents issued from now on."""
    services._require_biller(by, organization.pk)
    with transaction.atomic():
        found = _settings_for_update(organization)
        found.template_source = ""
        found.template_name = ""
        found.template_uploaded_at = None
        found.save()


def save_email_template(
    organization: Organization, *, by: Membership, language: str, subject: str, body: str
) -> EmailTemplate:
    """Set the organization's email wording for one language."""
    services._require_biller(by, organization.pk)
    check_wording(subject, "subject")
    check_wording(body, "body")
    if "\n" in subject.strip() or "\r" in subject.strip():
        raise field_error("subject", "The subject is a single line.")
    with transaction.atomic():
        template = EmailTemplate.objects.filter(
            organization=organization, language=language
        ).first() or EmailTemplate(organization=organization, language=language)
        template.subject, template.body = subject.strip(), body.strip()
        template.full_clean(exclude=["organization"])
        template.save()
    return template


def reset_email_template(organization: Organization, *, by: Membership, language: str) -> None:
    services._require_biller(by, organization.pk)
    EmailTemplate.objects.filter(organization=organization, language=language).delete()
