"""Client pages: list, create and edit, detail with contacts and client rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require, visible_clients, visible_projects
from punchclock.automation.retainers import client_balances
from punchclock.clients import services
from punchclock.clients.forms import ClientFilterForm, ClientForm, ContactForm
from punchclock.clients.models import Client
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.projects import services as project_services
from punchclock.projects.forms import RateForm
from punchclock.projects.models import Project, ProjectStatus, Rate, RateKind, RateScope

PAGE_SIZE = 25


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, even when empty: an empty POST must fail validation, not pass."""
    return request.POST if request.method == "POST" else None


@member_required
def client_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    clients = visible_clients(membership)
    currencies = sorted(set(clients.values_list("currency", flat=True)))
    filters = ClientFilterForm(request.GET, currencies=currencies)
    if query := filters.value("q"):
        clients = clients.filter(Q(name__icontains=query) | Q(code__icontains=query.strip()))
    if currency := filters.value("currency"):
        clients = clients.filter(currency=currency)
    if not filters.value("archived"):
        clients = clients.filter(is_archived=False)
    # A subquery rather than a join: visible_clients may already join projects for members.
    active = Project.objects.filter(client=OuterRef("pk"), status=ProjectStatus.ACTIVE)
    if not can(membership, "projects.view_all"):
        active = active.filter(assignments__membership=membership)
    counted = active.order_by().values("client").annotate(n=Count("pk")).values("n")
    clients = clients.annotate(
        active_projects=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    ).order_by("name", "pk")
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "filtered": _is_filtered(filters)}
    template = "clients/list.html#results" if is_htmx(request) else "clients/list.html"
    return render(request, template, context)


def _is_filtered(filters: ClientFilterForm) -> bool:
    return bool(filters.value("q") or filters.value("currency") or filters.value("archived"))


@member_required
def client_new(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "clients.manage")
    organization = membership.organization
    initial = {
        "country": organization.country,
        "currency": organization.default_currency,
        "language": organization.locale,
    }
    form = ClientForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Client “{client.name}” created.")
            return redirect("clients:detail", pk=client.pk)
    return _form_page(request, form, client=None)


@member_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    client = services.get_client_for(membership, pk)
    require(membership, "clients.manage")
    form = ClientForm(_posted(request), initial=ClientForm.initial_for(client), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_client(client, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            client.refresh_from_db()
        else:
            messages.success(request, "Client saved.")
            return redirect("clients:detail", pk=client.pk)
    return _form_page(request, form, client=client)


def _form_page(request: HttpRequest, form: ClientForm, *, client: Client | None) -> HttpResponse:
    status = 400 if form.errors else 200
    return render(request, "clients/form.html", {"form": form, "client": client}, status=status)


@member_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = services.get_client_for(_membership(request), pk)
    return _detail(request, client)


def _detail(
    request: HttpRequest,
    client: Client,
    *,
    section: str | None = None,
    status: int = 200,
    **overrides: Any,
) -> HttpResponse:
    """The detail page, or with htmx only one of its sections (contacts or rates)."""
    context = _detail_context(request, client) | overrides
    if section and is_htmx(request):
        return render(request, f"clients/detail.html#{section}", context, status=status)
    return render(request, "clients/detail.html", context, status=status)


def _detail_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    membership = _membership(request)
    may_see_rates = can(membership, "rates.view")
    projects = visible_projects(membership).filter(client=client).order_by("status", "name")
    context: dict[str, Any] = {
        "client": client,
        "contacts": list(client.contacts.all()),
        "projects": list(projects),
        "may_manage": can(membership, "clients.manage"),
        "may_create_project": can(membership, "projects.create") and not client.is_archived,
        "may_see_rates": may_see_rates,
        "contact_form": ContactForm(auto_id="id_new_contact_%s"),
        "editing_contact_id": None,
        "edit_contact_form": None,
    }
    if may_see_rates:
        rates = Rate.objects.filter(
            organization_id=client.organization_id,
            kind=RateKind.BILL,
            scope_key=Rate.key_for(RateScope.CLIENT, client_id=client.pk),
        )
        today = project_services.organization_today(membership.organization)
        histories = project_services.rate_histories(rates, today=today)
        context["rate_groups"] = [{"label": None, "rows": rows} for rows in histories.values()]
        context["rate_form"] = RateForm(today=today, currency=client.currency, auto_id="id_rate_%s")
        context["may_manage_rates"] = can(membership, "rates.manage")
    if can(membership, "expenses.view_all"):
        from punchclock.expenses.services import unbilled_expenses

        unbilled = list(
            unbilled_expenses(membership.organization)
            .filter(client=client)
            .select_related("project", "category")
            .order_by("-spent_on")
        )
        context["unbilled_expenses"] = unbilled
        # Summed in Python: decimals are REAL on SQLite, so SUM() would not be exact.
        context["unbilled_expense_total"] = sum((e.billable_amount for e in unbilled), Decimal(0))
    context["retainer_balances"] = client_balances(client)
    return context


@member_required
@require_POST
def client_archive(request: HttpRequest, pk: int) -> HttpResponse:
    client = services.get_client_for(_membership(request), pk)
    services.archive_client(client, by=_membership(request), archived=True)
    messages.success(request, f"“{client.name}” and its projects are archived.")
    return redirect("clients:detail", pk=client.pk)


@member_required
@require_POST
def client_restore(request: HttpRequest, pk: int) -> HttpResponse:
    client = services.get_client_for(_membership(request), pk)
    services.archive_client(client, by=_membership(request), archived=False)
    messages.success(
        request, f"“{client.name}” is active again. Its projects stay archived until restored."
    )
    return redirect("clients:detail", pk=client.pk)


@member_required
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    client = services.get_client_for(membership, pk)
    require(membership, "clients.manage")
    error = None
    if request.method == "POST":
        try:
            services.delete_client(client, by=membership)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Client “{client.name}” deleted.")
            return redirect("clients:list")
    context = {"client": client, "project_count": client.projects.count(), "error": error}
    return render(request, "clients/delete.html", context, status=400 if error else 200)


# Contacts ------------------------------------------------------------------------------


@member_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    client = services.get_client_for(membership, pk)
    require(membership, "clients.manage")
    form = ContactForm(request.POST, auto_id="id_new_contact_%s")
    if form.is_valid():
        try:
            contact = services.add_contact(client, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _contact_saved(request, client, f"{contact.name} added.")
    return _detail(request, client, section="contacts", status=400, contact_form=form)


@member_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    contact = services.get_contact_for(membership, pk)
    require(membership, "clients.manage")
    form = ContactForm(
        _posted(request), initial=ContactForm.initial_for(contact), auto_id="id_contact_%s"
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(contact, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _contact_saved(request, contact.client, f"{contact.name} saved.")
    return _detail(
        request,
        contact.client,
        section="contacts",
        status=400 if form.errors else 200,
        editing_contact_id=contact.pk,
        edit_contact_form=form,
    )


@member_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    contact = services.get_contact_for(membership, pk)
    services.delete_contact(contact, by=membership)
    return _contact_saved(request, contact.client, f"{contact.name} removed.")


def _contact_saved(request: HttpRequest, client: Client, message: str) -> HttpResponse:
    if is_htmx(request):
        return _detail(request, client, section="contacts", contacts_message=message)
    messages.success(request, message)
    return redirect("clients:detail", pk=client.pk)


# Client rates --------------------------------------------------------------------------


@member_required
@require_POST
def rate_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    client = services.get_client_for(membership, pk)
    require(membership, "rates.manage")
    form = RateForm(
        request.POST,
        today=project_services.organization_today(membership.organization),
        currency=client.currency,
        auto_id="id_rate_%s",
    )
    if form.is_valid():
        try:
            project_services.set_rate(
                by=membership,
                kind=RateKind.BILL,
                client=client,
                amount=form.cleaned_data["amount"],
                effective_from=form.cleaned_data["effective_from"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, "Client rate added.")
                return redirect("clients:detail", pk=client.pk)
            return _detail(request, client, section="rates", rates_message="Client rate added.")
    return _detail(request, client, section="rates", status=400, rate_form=form)
