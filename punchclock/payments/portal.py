"""The client portal: signed links to one invoice, or to everything a client was billed.

A link's token is "<link id>.<signature>", the signature an HMAC-SHA256 of the id and the
link's random nonce under SECRET_KEY (salt "punchclock.portal"). Nothing secret is stored:
a database dump alone opens no link, and the same token can be shown again in every email
and on every page. Revoking a link or its expiry ends it.

Expiry by default: an invoice link never expires. It goes out with a document the client
keeps for years (to pay late, fetch the PDF again, answer an audit) and shows only that
document and its credit notes; when it leaks, revoking ends it. A client-wide link shows
every document and payment of the client, so it ends after CLIENT_LINK_DAYS; a new one
is one click away.
"""

from __future__ import annotations

import re
import secrets
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from punchclock.accounts.models import Membership, User
from punchclock.accounts.permissions import require
from punchclock.clients.models import Client
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import (
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from punchclock.invoicing.totals import Totals
from punchclock.payments.balances import (
    Balance,
    balance_of,
    client_credit,
    with_balances,
)
from punchclock.payments.models import Allocation, Payment, PortalLink

SALT = "punchclock.portal"
CLIENT_LINK_DAYS = 90
# A client opening the page again and again records "viewed" at most this often.
VIEW_EVERY = timedelta(hours=24)
# An id of up to 18 digits (always within a 64-bit integer) and 32 bytes of base64url.
TOKEN = re.compile(r"([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{43})")


class LinkError(Exception):
    """A token that opens nothing; `status` is what the portal answers."""

    status = 404

    def __init__(self, link: PortalLink | None = None) -> None:
        super().__init__(type(self).__name__)
        self.link = link


class UnknownLink(LinkError):
    """Forged, mistyped, or asking for a document the link does not cover."""


class RevokedLink(LinkError):
    status = 410


class ExpiredLink(LinkError):
    status = 410


# Tokens --------------------------------------------------------------------------------


def _signature(link_id: int, nonce: str, secret: str | bytes) -> str:
    mac = salted_hmac(SALT, f"{link_id}.{nonce}", secret=secret, algorithm="sha256")
    return urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def token_for(link: PortalLink) -> str:
    return f"{link.pk}.{_signature(link.pk, link.nonce, settings.SECRET_KEY)}"


def url_for(link: PortalLink) -> str:
    """The absolute address to give the client."""
    return settings.SITE_URL + reverse("portal:home", args=[token_for(link)])


def _genuine(link: PortalLink, signature: str) -> bool:
    # Fallback keys keep links working through a SECRET_KEY rotation, as Django's own do.
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(signature, _signature(link.pk, link.nonce, k)) for k in keys)


def resolve(token: str) -> PortalLink:
    """The live link a token names; UnknownLink, RevokedLink or ExpiredLink otherwise."""
    parsed = TOKEN.fullmatch(token)
    if parsed is None:
        raise UnknownLink
    link = (
        PortalLink.objects.select_related("organization", "client", "invoice")
        .filter(pk=int(parsed[1]))
        .first()
    )
    if link is None or not _genuine(link, parsed[2]):
        raise UnknownLink
    # Only a genuine token learns that its link ended (and whose it was).
    if link.revoked_at is not None:
        raise RevokedLink(link)
    if link.expires_at is not None and link.expires_at <= now():
        raise ExpiredLink(link)
    return link


# Making and ending links ---------------------------------------------------------------


def _check(by: Membership | None, organization_id: int) -> None:
    if by is not None:
        require(by, "payments.manage")
        if by.organization_id != organization_id:
            raise ValidationError("This belongs to another organization.")


def _user(by: Membership | None) -> User | None:
    return by.user if by is not None else None


def is_live(link: PortalLink) -> bool:
    return link.revoked_at is None and (link.expires_at is None or link.expires_at > now())


def active_link(links: QuerySet[PortalLink]) -> PortalLink | None:
    """The newest link of `links` that still opens."""
    live = links.filter(revoked_at=None).filter(Q(expires_at=None) | Q(expires_at__gt=now()))
    return live.order_by("-created_at", "-pk").first()


def link_for(invoice: Invoice, *, by: Membership | None = None) -> PortalLink:
    """The issued document's live link, made when it has none.

    `by` is None when the system acts for a caller that checked its own permission (the
    invoice email)."""
    _check(by, invoice.organization_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ValidationError("A draft has no portal link: issue it first.")
    with transaction.atomic():
        # The document's row lock makes two requests at once find or make the same link.
        list(Invoice.objects.select_for_update(no_key=True).filter(pk=invoice.pk).values("pk"))
        found = active_link(PortalLink.objects.filter(invoice=invoice))
        return found or PortalLink.objects.create(
            organization_id=invoice.organization_id,
            client_id=invoice.client_id,
            invoice=invoice,
            nonce=secrets.token_hex(16),
            created_by=_user(by),
        )


def client_link(client: Client, *, by: Membership | None) -> PortalLink:
    """The client's live link to all its documents, made when it has none."""
    _check(by, client.organization_id)
    with transaction.atomic():
        list(Client.objects.select_for_update(no_key=True).filter(pk=client.pk).values("pk"))
        found = active_link(PortalLink.objects.filter(client=client, invoice=None))
        return found or PortalLink.objects.create(
            organization_id=client.organization_id,
            client=client,
            nonce=secrets.token_hex(16),
            created_by=_user(by),
            expires_at=now() + timedelta(days=CLIENT_LINK_DAYS),
        )


def revoke(link: PortalLink, *, by: Membership) -> PortalLink:
    """End a link for good; revoking it again changes nothing."""
    _check(by, link.organization_id)
    PortalLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=now())
    link.refresh_from_db(fields=["revoked_at"])
    return link


def record_view(link: PortalLink, invoice: Invoice | None) -> bool:
    """The client opened the link: note when, and "viewed" on the document at most daily.

    Returns whether a viewed event was written."""
    at = now()
    with transaction.atomic():
        PortalLink.objects.filter(pk=link.pk).update(last_viewed_at=at)
        if invoice is None:
            return False
        # Locked, so two tabs opened at once record one event.
        list(Invoice.objects.select_for_update(no_key=True).filter(pk=invoice.pk).values("pk"))
        recent = invoice.events.filter(kind=EventKind.VIEWED, at__gt=at - VIEW_EVERY)
        if recent.exists():
            return False
        InvoiceEvent.objects.create(
            invoice=invoice, kind=EventKind.VIEWED, at=at, by=None, detail={"portal_link": link.pk}
        )
    return True


# What a link shows ---------------------------------------------------------------------


def documents(link: PortalLink) -> QuerySet[Invoice]:
    """The issued documents a link covers: its invoice and that invoice's credit notes, or
    everything of its client; always within the link's organization and client."""
    found = Invoice.objects.filter(
        organization_id=link.organization_id,
        client_id=link.client_id,
        status=InvoiceStatus.ISSUED,
    )
    if link.invoice_id is not None:
        found = found.filter(Q(pk=link.invoice_id) | Q(credits_id=link.invoice_id))
    return found


def document(link: PortalLink, pk: int) -> Invoice:
    """One document the link covers, with its balance; UnknownLink for any other id."""
    found = (
        with_balances(documents(link))
        .select_related("organization", "client")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise UnknownLink
    return found


def today_for(link: PortalLink) -> date:
    return local_date(now(), link.organization.timezone)


def can_pay_online(invoice: Invoice) -> bool:
    """Stripe Checkout is on offer for this invoice (the organization's and client's choice)."""
    from punchclock.payments import stripe_payments

    return invoice.kind == InvoiceKind.INVOICE and stripe_payments.online_payment_available(invoice)


def payable(invoice: Invoice, balance: Balance) -> bool:
    """Something is owed and the client may pay it online."""
    return balance.is_open and can_pay_online(invoice)


def einvoice_code(invoice: Invoice) -> str | None:
    """The e-invoice XML to offer: the client's format at issue, else CII (the XML inside
    the Factur-X PDF); None when EN 16931 cannot express the document."""
    from punchclock.invoicing.documents.einvoice import formats

    if formats.not_applicable(invoice):
        return None
    wanted = invoice.snapshot.get("einvoice_format", "")
    return wanted if wanted in formats.FORMATS else "cii"


@dataclass(frozen=True)
class DocumentPage:
    invoice: Invoice
    lines: list[InvoiceLine]
    totals: Totals
    balance: Balance
    payments: list[Allocation]  # refunds are negative
    credit_notes: list[Invoice]
    einvoice: str | None
    payable: bool


def document_page(invoice: Invoice, today: date) -> DocumentPage:
    """Everything the client sees of one document annotated by `with_balances`."""
    lines = list(invoice.lines.order_by("position"))
    balance = balance_of(invoice, today)
    credit_notes = invoice.credit_notes.filter(status=InvoiceStatus.ISSUED).order_by("pk")
    return DocumentPage(
        invoice=invoice,
        lines=lines,
        totals=invoicing.invoice_totals(invoice, lines),
        balance=balance,
        payments=list(
            invoice.allocations.select_related("payment").order_by("payment__received_on", "pk")
        ),
        credit_notes=list(credit_notes),
        einvoice=einvoice_code(invoice),
        payable=payable(invoice, balance),
    )


@dataclass(frozen=True)
class Row:
    invoice: Invoice
    balance: Balance


@dataclass(frozen=True)
class AccountPage:
    rows: list[Row]
    payments: list[Payment]
    open_totals: list[tuple[str, Decimal]]  # (currency, still owed), open invoices only
    credit: list[tuple[str, Decimal]]  # money paid that no invoice took


def account_page(link: PortalLink, today: date) -> AccountPage:
    """The client's statement: every issued document, payment and what is still owed."""
    invoices = with_balances(documents(link)).order_by("-issue_date", "-pk")
    rows = []
    owed: dict[str, Decimal] = {}
    for invoice in invoices:
        balance = balance_of(invoice, today)
        rows.append(Row(invoice, balance))
        if balance.is_open and invoice.kind == InvoiceKind.INVOICE:
            owed[balance.currency] = owed.get(balance.currency, Decimal(0)) + balance.balance
    payments = Payment.objects.filter(
        organization_id=link.organization_id, client_id=link.client_id
    ).prefetch_related(Prefetch("allocations", Allocation.objects.select_related("invoice")))
    return AccountPage(
        rows=rows,
        payments=list(payments),
        open_totals=sorted(owed.items()),
        credit=sorted(client_credit(link.client_id).items()),
    )
