"""Clients and their contacts, tax identity, currency and terms."""

from __future__ import annotations

from django.db import models

from punchclock.accounts.models import Organization
from punchclock.core.validators import validate_currency, validate_email_list, validate_locale


class TaxTreatment(models.TextChoices):
    DOMESTIC = "domestic", "Domestic (standard VAT)"
    REVERSE_CHARGE = "reverse_charge", "EU reverse charge"
    EXPORT = "export", "Export outside the EU"
    EXEMPT = "exempt", "Exempt from VAT"


class EInvoiceFormat(models.TextChoices):
    """What a client's invoice emails carry besides the PDF."""

    FACTURX = "facturx", "Factur-X / ZUGFeRD (PDF with embedded XML)"
    UBL = "ubl", "UBL 2.1 (EN 16931)"
    CII = "cii", "UN/CEFACT CII (EN 16931)"
    XRECHNUNG_UBL = "xrechnung-ubl", "XRechnung 3.0, UBL"
    XRECHNUNG_CII = "xrechnung-cii", "XRechnung 3.0, CII"
    PEPPOL = "peppol", "Peppol BIS Billing 3.0"


class Client(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    code = models.SlugField(
        max_length=40, help_text="Short code used on the command line, e.g. acme in acme/api"
    )
    email = models.EmailField("billing email", blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166 code, e.g. FR")
    vat_id = models.CharField("VAT ID", max_length=20, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    language = models.CharField(max_length=8, default="en", validators=[validate_locale])
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    tax_treatment = models.CharField(
        max_length=20, choices=TaxTreatment.choices, default=TaxTreatment.DOMESTIC
    )
    notes = models.TextField(blank=True)
    # Invoicing defaults: the message printed on new invoices, and who gets copies.
    invoice_message = models.TextField(
        blank=True, help_text="Printed on every new invoice for this client; editable per invoice"
    )
    invoice_cc = models.CharField(
        "invoice copies to",
        max_length=500,
        blank=True,
        validators=[validate_email_list],
        help_text="Addresses, separated by commas, copied on every invoice email",
    )
    # E-invoicing (EN 16931).
    einvoice_format = models.CharField(
        "e-invoice format",
        max_length=14,
        choices=EInvoiceFormat.choices,
        default=EInvoiceFormat.FACTURX,
    )
    buyer_reference = models.CharField(
        "buyer reference / Leitweg-ID",
        max_length=100,
        blank=True,
        help_text="BT-10; German public clients give a Leitweg-ID, e.g. 991-12345-67",
    )
    electronic_address = models.CharField(
        max_length=200,
        blank=True,
        help_text="BT-49, e.g. the client's e-invoice email or Peppol ID",
    )
    electronic_address_scheme = models.CharField(
        max_length=4,
        blank=True,
        help_text="EAS code of the address: EM (email), 0088 (GLN), 9930 (German VAT ID), 0204 "
        "(Leitweg-ID) …",
    )
    requires_purchase_order = models.BooleanField(
        "needs a purchase order number", default=False, help_text="BT-13 on every invoice"
    )
    online_payment = models.BooleanField(
        "may pay online",
        default=True,
        help_text="Offer card payment through Stripe when your organization has it enabled",
    )
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="client_code_per_org"),
            models.CheckConstraint(
                condition=models.Q(payment_terms_days__lte=365), name="client_terms_within_year"
            ),
        ]
        indexes = [models.Index(fields=["organization", "is_archived", "name"], name="client_list")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_billing_contact = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_billing_contact", "name"]

    def __str__(self) -> str:
        return self.name
