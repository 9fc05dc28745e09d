"""API for clients and their contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.permissions import visible_clients
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import InputSchema
from punchclock.clients import services
from punchclock.clients.models import Client, Contact, EInvoiceFormat, TaxTreatment

router = Router(tags=["Clients"])


# Schemas -------------------------------------------------------------------------------


class ClientOut(Schema):
    id: int
    name: str
    code: str
    email: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_id: str
    currency: str
    language: str
    payment_terms_days: int
    tax_treatment: str
    notes: str
    invoice_message: str
    invoice_cc: str
    einvoice_format: str
    buyer_reference: str
    electronic_address: str
    electronic_address_scheme: str
    requires_purchase_order: bool
    online_payment: bool
    is_archived: bool
    created_at: datetime


class ClientPatch(InputSchema):
    """Only the fields sent are changed."""

    name: str | None = None
    code: str | None = None
    email: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    vat_id: str | None = None
    currency: str | None = None
    language: str | None = None
    payment_terms_days: int | None = None
    tax_treatment: TaxTreatment | None = None
    notes: str | None = None
    invoice_message: str | None = None
    invoice_cc: str | None = None
    einvoice_format: EInvoiceFormat | None = None
    buyer_reference: str | None = Field(None, max_length=100)
    electronic_address: str | None = Field(None, max_length=200)
    electronic_address_scheme: str | None = Field(None, max_length=4)
    requires_purchase_order: bool | None = None
    online_payment: bool | None = Field(None, description="Offer card payment through Stripe")


class ClientIn(ClientPatch):
    """Currency, language and country default to the organization's; a code is suggested."""

    name: str


class ClientQuery(PageQuery):
    search: str | None = None
    archived: bool | None = None
    currency: str | None = None


class ContactOut(Schema):
    id: int
    client_id: int
    name: str
    email: str
    role: str
    phone: str
    is_billing_contact: bool


class ContactPatch(InputSchema):
    name: str | None = None
    email: str | None = None
    role: str | None = None
    phone: str | None = None
    is_billing_contact: bool | None = None


class ContactIn(ContactPatch):
    name: str


# Clients -------------------------------------------------------------------------------


@router.get(
    "/clients",
    response=responses(page_of(ClientOut)),
    summary="List clients (filter by name or code, archived, currency)",
)
def list_clients(request: HttpRequest, query: Query[ClientQuery]) -> dict[str, Any]:
    clients = visible_clients(acting(request))
    if query.search:
        clients = clients.filter(Q(name__icontains=query.search) | Q(code__icontains=query.search))
    if query.archived is not None:
        clients = clients.filter(is_archived=query.archived)
    if query.currency:
        clients = clients.filter(currency=query.currency.upper())
    return paginate(clients.order_by("name", "pk"), query)


@router.post("/clients", response=responses(ClientOut, 201), summary="Create a client")
def create_client(request: HttpRequest, payload: ClientIn) -> Status[Client]:
    fields = payload.model_dump(exclude_unset=True)
    client = services.create_client(by=acting(request), **fields)
    return Status(201, client)


@router.get("/clients/{id:client_id}", response=responses(ClientOut), summary="Get a client")
def get_client(request: HttpRequest, client_id: int) -> Client:
    return services.get_client_for(acting(request), client_id)


@router.patch(
    "/clients/{id:client_id}", response=responses(ClientOut), summary="Change a client's fields"
)
def update_client(request: HttpRequest, client_id: int, payload: ClientPatch) -> Client:
    by = acting(request)
    client = services.get_client_for(by, client_id)
    return services.update_client(client, by=by, **payload.model_dump(exclude_unset=True))


@router.post(
    "/clients/{id:client_id}/archive",
    response=responses(ClientOut),
    summary="Archive a client and its projects",
)
def archive_client(request: HttpRequest, client_id: int) -> Client:
    by = acting(request)
    return services.archive_client(services.get_client_for(by, client_id), by=by)


@router.post(
    "/clients/{id:client_id}/restore",
    response=responses(ClientOut),
    summary="Restore an archived client (its projects stay archived)",
)
def restore_client(request: HttpRequest, client_id: int) -> Client:
    by = acting(request)
    return services.archive_client(services.get_client_for(by, client_id), by=by, archived=False)


@router.delete(
    "/clients/{id:client_id}",
    response=responses(None, 204),
    summary="Delete a client without projects (archive one that has them)",
)
def delete_client(request: HttpRequest, client_id: int) -> Status[None]:
    by = acting(request)
    services.delete_client(services.get_client_for(by, client_id), by=by)
    return Status(204, None)


# Contacts ------------------------------------------------------------------------------


@router.get(
    "/clients/{id:client_id}/contacts",
    response=responses(page_of(ContactOut)),
    summary="List a client's contacts, billing contact first",
)
def list_contacts(request: HttpRequest, client_id: int, query: Query[PageQuery]) -> dict[str, Any]:
    client = services.get_client_for(acting(request), client_id)
    return paginate(client.contacts.order_by("-is_billing_contact", "name", "pk"), query)


@router.post(
    "/clients/{id:client_id}/contacts",
    response=responses(ContactOut, 201),
    summary="Add a contact to a client",
)
def create_contact(request: HttpRequest, client_id: int, payload: ContactIn) -> Status[Contact]:
    by = acting(request)
    client = services.get_client_for(by, client_id)
    contact = services.add_contact(client, by=by, **payload.model_dump(exclude_unset=True))
    return Status(201, contact)


@router.get("/contacts/{id:contact_id}", response=responses(ContactOut), summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return services.get_contact_for(acting(request), contact_id)


@router.patch(
    "/contacts/{id:contact_id}", response=responses(ContactOut), summary="Change a contact"
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    by = acting(request)
    contact = services.get_contact_for(by, contact_id)
    return services.update_contact(contact, by=by, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/contacts/{id:contact_id}", response=responses(None, 204), summary="Delete a contact"
)
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    by = acting(request)
    services.delete_contact(services.get_contact_for(by, contact_id), by=by)
    return Status(204, None)
