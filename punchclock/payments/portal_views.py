"""The client portal (no account needed) and the owner's pages that make and end its links.

Portal answers carry headers that keep the token, which is in the address, out of other
sites' referrers, search engines and shared caches. A bad token and a document outside the
link get the same friendly 404; a revoked or expired link a friendly 410. Pages speak the
document's language, or the client's (portal_text.py).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import require
from punchclock.automation import retainer_portal
from punchclock.clients.models import Client
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice
from punchclock.payments import portal, portal_text
from punchclock.payments.balances import balance_of
from punchclock.payments.models import PortalLink

READ = ("GET", "HEAD")
LOGO_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


# The client's side ---------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    # "same-origin", not "no-referrer": other sites (Stripe, the seller's website) never see
    # the address and its token, while the pay form still sends its Origin header; under
    # "no-referrer" browsers send "Origin: null" and Django's CSRF check refuses the POST.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def _logo(organization: Organization) -> str:
    """The organization's logo as a data URI: the client has no session to fetch it with."""
    name = organization.logo.name or ""
    kind = LOGO_TYPES.get(name.rsplit(".", 1)[-1].lower())
    if not kind:
        return ""
    try:
        with organization.logo.storage.open(name, "rb") as handle:
            data = handle.read(settings.LOGO_MAX_BYTES + 1)
    except OSError:
        return ""
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _render(
    request: HttpRequest,
    template: str,
    organization: Organization | None,
    text: portal_text.Text,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    common = {
        "organization": organization,
        "logo": _logo(organization) if organization else "",
        "lang": text.lang,
        "t": text.labels,
    }
    return render(request, template, common | context, status=status)


def _problem(request: HttpRequest, error: portal.LinkError) -> HttpResponse:
    text = portal_text.for_error(error)
    title, message = portal_text.problem(text, error)
    organization = error.link.organization if error.link else None
    context = {
        "title": title,
        "message": message,
        "write_to": text.say("write_to", organization=organization.name) if organization else "",
    }
    return _render(
        request, "payments/portal/problem.html", organization, text, context, error.status
    )


def portal_page(
    *methods: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Resolve the token before anything else, so a bad token gets the same answer to any
    method; then allow only `methods`, answer link errors with the friendly page, and make
    every answer private."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            try:
                link = portal.resolve(token)
                if request.method in methods:
                    response = view(request, link, **kwargs)
                else:
                    response = HttpResponseNotAllowed(methods)
            except portal.LinkError as error:
                response = _problem(request, error)
            return _private(response)

        return wrapper

    return decorate


def _note_view(request: HttpRequest, link: PortalLink, invoice: Invoice | None) -> None:
    """Record the client's visit; members of the organization checking the link are not
    the client viewing it."""
    user = request.user
    member = (
        user.is_authenticated
        and Membership.objects.filter(
            user_id=user.pk, organization_id=link.organization_id
        ).exists()
    )
    if not member:
        portal.record_view(link, invoice)


def _page_path(link: PortalLink, invoice: Invoice) -> str:
    token = portal.token_for(link)
    if link.invoice_id == invoice.pk:
        return reverse("portal:home", args=[token])
    return reverse("portal:invoice", args=[token, invoice.pk])


def _document(request: HttpRequest, link: PortalLink, pk: int) -> HttpResponse:
    invoice = portal.document(link, pk)
    _note_view(request, link, invoice)
    token = portal.token_for(link)
    page = portal.document_page(invoice, portal.today_for(link))
    # The document speaks its own language, even when reached from the client's list.
    text = portal_text.text_in(invoice.language)
    context = {
        "link": link,
        "token": token,
        "page": page,
        "shown": portal_text.document_text(text, page, link),
        "note": portal_text.payment_note(text, request.GET.get("payment", "")),
        # A client-wide link leads back to the list of documents.
        "account_url": None if link.invoice_id else reverse("portal:home", args=[token]),
    }
    return _render(request, "payments/portal/document.html", link.organization, text, context)


@portal_page(*READ)
def home(request: HttpRequest, link: PortalLink) -> HttpResponse:
    """An invoice link shows its invoice; a client link the client's statement."""
    if link.invoice_id is not None:
        return _document(request, link, link.invoice_id)
    _note_view(request, link, None)
    text = portal_text.text_in(link.client.language)
    page = portal.account_page(link, portal.today_for(link))
    context = {
        "link": link,
        "token": portal.token_for(link),
        "shown": portal_text.account_text(text, page, link),
        "retainers": retainer_portal.lines(text, link.client),
    }
    return _render(request, "payments/portal/account.html", link.organization, text, context)


@portal_page(*READ)
def invoice(request: HttpRequest, link: PortalLink, pk: int) -> HttpResponse:
    return _document(request, link, pk)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_page(*READ)
def pdf(request: HttpRequest, link: PortalLink, pk: int) -> HttpResponse:
    """The exact bytes issued."""
    document = portal.document(link, pk)
    stored = invoicing.stored_pdf(document)
    if stored is None:
        raise portal.UnknownLink
    _note_view(request, link, document)
    return _download(bytes(stored.content), "application/pdf", f"{document.number}.pdf")


@portal_page(*READ)
def einvoice(request: HttpRequest, link: PortalLink, pk: int) -> HttpResponse:
    """The document as XML in the client's e-invoice format."""
    from punchclock.invoicing.documents.einvoice import formats
    from punchclock.invoicing.documents.einvoice.model import EInvoiceError

    document = portal.document(link, pk)
    code = portal.einvoice_code(document)
    if code is None:
        raise portal.UnknownLink
    try:
        content = formats.write(document, code)
    except EInvoiceError as exc:
        raise portal.UnknownLink from exc
    return _download(content, "application/xml", formats.filename(document, code))


@portal_page("POST")
def pay(request: HttpRequest, link: PortalLink, pk: int) -> HttpResponse:
    """POST: open a Stripe Checkout session for the open balance and go there.

    Stripe's webhook records the payment; coming back here only shows a note."""
    from punchclock.payments import stripe_payments

    document = portal.document(link, pk)
    page = _page_path(link, document)
    unavailable = HttpResponseRedirect(f"{page}?payment=unavailable", status=303)
    if not portal.payable(document, balance_of(document, portal.today_for(link))):
        return unavailable
    # Stripe sends the client back to absolute addresses.
    back = settings.SITE_URL + page
    try:
        session = stripe_payments.start_checkout(
            document, success_url=f"{back}?payment=success", cancel_url=f"{back}?payment=cancelled"
        )
    except ValidationError:
        return unavailable
    return HttpResponseRedirect(session.url, status=303) if session.url else unavailable


# The owner's side ----------------------------------------------------------------------


def _manager(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "payments.manage")
    return membership


def _links_page(
    request: HttpRequest,
    *,
    invoice: Invoice | None,
    client: Client,
    links: QuerySet[PortalLink],
) -> HttpResponse:
    current = portal.active_link(links)
    rows = [
        {"link": link, "live": portal.is_live(link)}
        for link in links.select_related("created_by").order_by("-created_at", "-pk")
    ]
    context = {
        "invoice": invoice,
        "client": client,
        "current": current,
        "url": portal.url_for(current) if current else "",
        "rows": rows,
        "client_link_days": portal.CLIENT_LINK_DAYS,
    }
    return render(request, "payments/links/show.html", context)


@member_required
def invoice_link(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the invoice's portal link (if any); POST: make one."""
    membership = _manager(request)
    invoice = (
        Invoice.objects.filter(organization_id=membership.organization_id, pk=pk)
        .select_related("client")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    if request.method == "POST":
        try:
            portal.link_for(invoice, by=membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "The link is ready to share.")
        return redirect("payments:link_invoice", pk=invoice.pk)
    links = PortalLink.objects.filter(invoice=invoice)
    return _links_page(request, invoice=invoice, client=invoice.client, links=links)


@member_required
def client_link(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the client's link to all its documents (if any); POST: make one."""
    membership = _manager(request)
    client = Client.objects.filter(organization_id=membership.organization_id, pk=pk).first()
    if client is None:
        raise Http404("No such client.")
    if request.method == "POST":
        portal.client_link(client, by=membership)
        messages.success(request, "The link is ready to share.")
        return redirect("payments:link_client", pk=client.pk)
    links = PortalLink.objects.filter(client=client, invoice=None)
    return _links_page(request, invoice=None, client=client, links=links)


@member_required
@require_POST
def revoke_link(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    link = PortalLink.objects.filter(organization_id=membership.organization_id, pk=pk).first()
    if link is None:
        raise Http404("No such link.")
    portal.revoke(link, by=membership)
    messages.success(request, "The link is revoked: it no longer opens anything.")
    if link.invoice_id is not None:
        return redirect("payments:link_invoice", pk=link.invoice_id)
    return redirect("payments:link_client", pk=link.client_id)
