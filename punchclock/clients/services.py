"""Every change to clients and contacts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.clients.models import Client, Contact, TaxTreatment
from punchclock.core.services import apply_fields, clean_and_save, field_error
from punchclock.core.validators import (
    check_electronic_address,
    normalize_vat_id,
    split_emails,
    validate_country,
    validate_email_list,
)

CLIENT_FIELDS = {
    "name",
    "code",
    "email",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "vat_id",
    "currency",
    "language",
    "payment_terms_days",
    "tax_treatment",
    "notes",
    "invoice_message",
    "invoice_cc",
    "einvoice_format",
    "buyer_reference",
    "electronic_address",
    "electronic_address_scheme",
    "requires_purchase_order",
    "online_payment",
}
CONTACT_FIELDS = {"name", "email", "role", "phone", "is_billing_contact"}


def suggest_code(name: str) -> str:
    return slugify(name.split()[0] if name.split() else name)[:40] or "client"


def _check_client(client: Client) -> None:
    errors: dict[str, list[str]] = {}
    client.country = (client.country or "").upper()
    client.currency = (client.currency or "").upper()
    client.code = (client.code or "").lower()
    try:
        validate_country(client.country)
    except ValidationError as exc:
        errors["country"] = exc.messages
    try:
        client.vat_id = normalize_vat_id(client.vat_id or "")
    except ValidationError as exc:
        errors["vat_id"] = exc.messages
    if (
        client.tax_treatment == TaxTreatment.REVERSE_CHARGE
        and not client.vat_id
        and "vat_id" not in errors
    ):
        errors["vat_id"] = ["EU reverse charge needs the client's VAT ID."]
    try:
        validate_email_list(client.invoice_cc or "")
    except ValidationError as exc:
        errors["invoice_cc"] = exc.messages
    else:
        client.invoice_cc = ", ".join(split_emails(client.invoice_cc or ""))
    try:
        client.electronic_address, client.electronic_address_scheme = check_electronic_address(
            client.electronic_address or "", client.electronic_address_scheme or ""
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    client.buyer_reference = (client.buyer_reference or "").strip()
    terms = client.payment_terms_days
    if isinstance(terms, int) and not 0 <= terms <= 365:
        errors["payment_terms_days"] = ["Payment terms are between 0 and 365 days."]
    if errors:
        raise ValidationError(errors)
    duplicate = Client.objects.filter(organization_id=client.organization_id, code=client.code)
    if client.code and duplicate.exclude(pk=client.pk).exists():
        raise field_error("code", f"Another client already uses the code “{client.code}”.")


@transaction.atomic
def create_client(*, by: Membership, name: str, **fields: Any) -> Client:
    require(by, "clients.manage")
    organization = by.organization
    client = Client(
        organization=organization,
        name=name.strip(),
        currency=organization.default_currency,
        language=organization.locale,
        country=organization.country,
    )
    apply_fields(client, fields, CLIENT_FIELDS)
    if not client.code:
        client.code = _free_code(organization.pk, suggest_code(client.name))
    _check_client(client)
    clean_and_save(client)
    return client


def _free_code(organization_id: int, base: str) -> str:
    code, n = base, 1
    while Client.objects.filter(organization_id=organization_id, code=code).exists():
        n += 1
        code = f"{base[:36]}{n}"
    return code


@transaction.atomic
def update_client(client: Client, *, by: Membership, **fields: Any) -> Client:
    require(by, "clients.manage")
    _same_org(client, by)
    apply_fields(client, fields, CLIENT_FIELDS)
    _check_client(client)
    clean_and_save(client)
    return client


@transaction.atomic
def archive_client(client: Client, *, by: Membership, archived: bool = True) -> Client:
    """Archive (or restore) a client; its projects are archived with it."""
    require(by, "clients.manage")
    _same_org(client, by)
    client.is_archived = archived
    client.save(update_fields=["is_archived"])
    if archived:
        from punchclock.projects.models import ProjectStatus

        client.projects.update(status=ProjectStatus.ARCHIVED)
    return client


@transaction.atomic
def delete_client(client: Client, *, by: Membership) -> None:
    """Delete a client that has no history; one with projects is archived instead."""
    require(by, "clients.manage")
    _same_org(client, by)
    if client.projects.exists():
        raise field_error(
            "client", "This client has projects, so it can only be archived, not deleted."
        )
    client.delete()


def _same_org(client: Client, by: Membership) -> None:
    if client.organization_id != by.organization_id:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("That client belongs to another organization.")


@transaction.atomic
def add_contact(client: Client, *, by: Membership, name: str, **fields: Any) -> Contact:
    require(by, "clients.manage")
    _same_org(client, by)
    contact = Contact(client=client, name=name.strip())
    apply_fields(contact, fields, CONTACT_FIELDS)
    clean_and_save(contact)
    return contact


@transaction.atomic
def update_contact(contact: Contact, *, by: Membership, **fields: Any) -> Contact:
    require(by, "clients.manage")
    _same_org(contact.client, by)
    apply_fields(contact, fields, CONTACT_FIELDS)
    clean_and_save(contact)
    return contact


@transaction.atomic
def delete_contact(contact: Contact, *, by: Membership) -> None:
    require(by, "clients.manage")
    _same_org(contact.client, by)
    contact.delete()


# Lookups -------------------------------------------------------------------------------


def get_client_for(membership: Membership, pk: int) -> Client:
    """A client the member may see, or 404 (also for other organizations' clients)."""
    from django.shortcuts import get_object_or_404

    from punchclock.accounts.permissions import visible_clients

    return get_object_or_404(visible_clients(membership), pk=pk)


def get_contact_for(membership: Membership, pk: int) -> Contact:
    from django.shortcuts import get_object_or_404

    from punchclock.accounts.permissions import visible_clients

    return get_object_or_404(
        Contact.objects.select_related("client"), pk=pk, client__in=visible_clients(membership)
    )
