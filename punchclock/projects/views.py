"""Project pages: list, create and edit, detail with tasks, people and rates; the rates page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require, visible_clients, visible_projects
from punchclock.automation.retainers import project_balances
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import now
from punchclock.projects import services
from punchclock.projects.forms import (
    AssignForm,
    ProjectFilterForm,
    ProjectForm,
    ProjectRateForm,
    RateForm,
    TaskForm,
    organization_rate_form,
)
from punchclock.projects.models import Project, ProjectStatus, Rate, RateKind, RateScope

PAGE_SIZE = 25
SECTIONS = ("tasks", "members", "rates")


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, even when empty: an empty POST must fail validation, not pass."""
    return request.POST if request.method == "POST" else None


# List ----------------------------------------------------------------------------------


@member_required
def project_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    projects = visible_projects(membership).select_related("client")
    clients = list(visible_clients(membership).order_by("name").values_list("pk", "name"))
    filters = ProjectFilterForm(request.GET, clients=clients)
    if query := (filters.value("q") or "").strip():
        projects = projects.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(client__name__icontains=query)
        )
    if client_id := filters.value("client"):
        projects = projects.filter(client_id=client_id)
    status = filters.value("status") or ProjectStatus.ACTIVE
    if status != "all":
        projects = projects.filter(status=status)
    if billing_method := filters.value("billing_method"):
        projects = projects.filter(billing_method=billing_method)
    page = Paginator(projects.order_by("client__name", "name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "filters": filters,
        "page": page,
        "filtered": bool(query or client_id or billing_method or status != "active"),
        # Amounts (fixed fees, money budgets) are for those who see all projects.
        "show_money": can(membership, "projects.view_all"),
    }
    template = "projects/list.html#results" if is_htmx(request) else "projects/list.html"
    return render(request, template, context)


# Create and edit -----------------------------------------------------------------------


@member_required
def project_new(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "projects.create")
    initial = (
        {"client": request.GET.get("client")} if request.GET.get("client", "").isdigit() else {}
    )
    form = ProjectForm(
        _posted(request), initial=initial, organization_id=membership.organization_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("projects:detail", pk=project.pk)
    status = 400 if form.errors else 200
    return render(request, "projects/form.html", {"form": form, "project": None}, status=status)


@member_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    require(membership, "projects.manage", project)
    form = ProjectForm(
        _posted(request),
        initial=ProjectForm.initial_for(project),
        organization_id=membership.organization_id,
        project=project,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(project, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            project.refresh_from_db()
        else:
            messages.success(request, "Project saved.")
            return redirect("projects:detail", pk=project.pk)
    status = 400 if form.errors else 200
    return render(request, "projects/form.html", {"form": form, "project": project}, status=status)


@member_required
@require_POST
def project_status(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    status = request.POST.get("status", "")
    try:
        services.set_project_status(project, by=membership, status=status)
    except ValidationError as exc:
        return _refused(request, exc, back=reverse("projects:detail", args=[project.pk]))
    label = "archived" if status == ProjectStatus.ARCHIVED else "active again"
    messages.success(request, f"“{project.name}” is {label}.")
    return redirect("projects:detail", pk=project.pk)


def _refused(request: HttpRequest, exc: ValidationError, *, back: str) -> HttpResponse:
    context = {"message": " ".join(exc.messages), "back": back}
    return render(request, "projects/refused.html", context, status=400)


# Detail --------------------------------------------------------------------------------


@member_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = services.get_project_for(_membership(request), pk)
    return _detail(request, project)


def _detail(
    request: HttpRequest,
    project: Project,
    *,
    section: str | None = None,
    status: int = 200,
    **overrides: Any,
) -> HttpResponse:
    """The detail page; with htmx one section, the others swapped out of band with it."""
    context = _detail_context(request, project) | overrides
    if section is None or not is_htmx(request):
        return render(request, "projects/detail.html", context, status=status)
    parts = [render_to_string(f"projects/detail.html#{section}", context, request)]
    # Tasks and people feed the rate forms and the rate check, so every section is fresh.
    parts += [
        render_to_string(f"projects/detail.html#{other}", {**context, "oob": True}, request)
        for other in SECTIONS
        if other != section
    ]
    return HttpResponse("".join(parts), status=status)


def _detail_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    membership = _membership(request)
    may_manage = can(membership, "projects.manage", project)
    may_set_managers = can(membership, "projects.create")
    tasks = sorted(project.tasks.all(), key=lambda t: (t.is_archived, t.name.lower()))
    assignments = list(
        project.assignments.select_related("membership__user").order_by(
            "-is_manager", "membership__user__name", "membership__user__email"
        )
    )
    is_active = project.status == ProjectStatus.ACTIVE
    context: dict[str, Any] = {
        "project": project,
        "retainer_balances": project_balances(project),
        "tasks": tasks,
        "assignments": assignments,
        "is_active": is_active,
        "may_manage": may_manage,
        "may_set_managers": may_set_managers,
        "may_see_rates": can(membership, "rates.view", project),
        "task_form": TaskForm(auto_id="id_new_task_%s") if may_manage and is_active else None,
        "assign_form": (
            AssignForm(project=project, auto_id="id_assign_%s") if may_manage else None
        ),
        "editing_task_id": None,
        "edit_task_form": None,
    }
    if context["may_see_rates"]:
        context |= _project_rates_context(membership, project, tasks, assignments)
    return context


def _project_rates_context(
    membership: Membership, project: Project, tasks: list[Any], assignments: list[Any]
) -> dict[str, Any]:
    today = services.organization_today(project.organization)
    rates = Rate.objects.filter(project=project, kind=RateKind.BILL).select_related(
        "task", "membership__user"
    )
    histories = services.rate_histories(rates, today=today)
    # The project's own rate first, then people on it, then tasks.
    order: dict[str, int] = {RateScope.PROJECT: 0, RateScope.PROJECT_MEMBER: 1, RateScope.TASK: 2}
    ordered = sorted(
        histories.values(),
        key=lambda rows: (order.get(rows[0].rate.scope, 3), _rate_group_label(rows[0].rate)),
    )
    groups = [{"label": _rate_group_label(rows[0].rate), "rows": rows} for rows in ordered]
    at = now()
    checks = []
    for assignment in assignments:
        quote = services.resolve_rates(membership=assignment.membership, project=project, at=at)
        label = RateScope(quote.bill_scope).label if quote.bill_scope else None
        checks.append({"assignment": assignment, "quote": quote, "scope_label": label})
    may_manage_rates = can(membership, "rates.manage", project)
    return {
        "rate_groups": groups,
        "rate_checks": checks,
        "may_manage_rates": may_manage_rates,
        "may_see_costs": can(membership, "cost_rates.view"),
        "rate_form": ProjectRateForm(
            people=[a.membership for a in assignments],
            tasks=[t for t in tasks if not t.is_archived],
            today=today,
            currency=project.client.currency,
            auto_id="id_rate_%s",
        )
        if may_manage_rates
        else None,
    }


def _rate_group_label(rate: Rate) -> str:
    if rate.scope == RateScope.TASK and rate.task is not None:
        return f"Task: {rate.task.name}"
    if rate.membership is not None:
        return f"{rate.membership.user.display_name} on this project"
    return "Project rate (everyone)"


def _saved(request: HttpRequest, project: Project, section: str, message: str) -> HttpResponse:
    """After a change: the refreshed section for htmx, else back to the page (PRG)."""
    if is_htmx(request):
        overrides: dict[str, Any] = {f"{section}_message": message}
        return _detail(request, project, section=section, **overrides)
    messages.success(request, message)
    return redirect("projects:detail", pk=project.pk)


# Tasks ---------------------------------------------------------------------------------


@member_required
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    require(membership, "projects.manage", project)
    form = TaskForm(request.POST, auto_id="id_new_task_%s")
    if form.is_valid():
        try:
            task = services.create_task(project, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _saved(request, project, "tasks", f"Task “{task.name}” added.")
    return _detail(request, project, section="tasks", status=400, task_form=form)


@member_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    task = services.get_task_for(membership, pk)
    project = task.project
    require(membership, "projects.manage", project)
    initial = {"name": task.name, "billable_default": task.billable_default}
    form = TaskForm(_posted(request), initial=initial, auto_id="id_task_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.update_task(task, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _saved(request, project, "tasks", f"Task “{task.name}” saved.")
    return _detail(
        request,
        project,
        section="tasks",
        status=400 if form.errors else 200,
        editing_task_id=task.pk,
        edit_task_form=form,
    )


@member_required
@require_POST
def task_archive(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    task = services.get_task_for(membership, pk)
    archived = request.POST.get("archived") != "0"
    services.update_task(task, by=membership, is_archived=archived)
    verb = "archived" if archived else "restored"
    return _saved(request, task.project, "tasks", f"Task “{task.name}” {verb}.")


# People --------------------------------------------------------------------------------


@member_required
@require_POST
def member_assign(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    require(membership, "projects.manage", project)
    form = AssignForm(request.POST, project=project, auto_id="id_assign_%s")
    if form.is_valid():
        person = form.cleaned_data["membership"]
        try:
            services.assign_member(
                project,
                by=membership,
                membership=person,
                is_manager=form.cleaned_data["is_manager"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            message = f"{person.user.display_name} is on the project."
            return _saved(request, project, "members", message)
    return _detail(request, project, section="members", status=400, assign_form=form)


def _person(project: Project, membership_pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"),
        pk=membership_pk,
        organization_id=project.organization_id,
    )


@member_required
@require_POST
def member_manager(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    require(membership, "projects.create")  # choosing project managers
    person = _person(project, membership_pk)
    is_manager = request.POST.get("is_manager") == "1"
    try:
        services.assign_member(project, by=membership, membership=person, is_manager=is_manager)
    except ValidationError as exc:
        return _detail(request, project, section="members", status=400, members_error=_text(exc))
    role = "a project manager" if is_manager else "no longer a project manager"
    return _saved(request, project, "members", f"{person.user.display_name} is {role}.")


@member_required
@require_POST
def member_unassign(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    person = _person(project, membership_pk)
    try:
        services.unassign_member(project, by=membership, membership=person)
    except ValidationError as exc:
        return _detail(request, project, section="members", status=400, members_error=_text(exc))
    message = f"{person.user.display_name} is off the project."
    return _saved(request, project, "members", message)


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# Project rates -------------------------------------------------------------------------


@member_required
@require_POST
def project_rate_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    project = services.get_project_for(membership, pk)
    require(membership, "rates.manage", project)
    assignments = project.assignments.select_related("membership__user")
    form = ProjectRateForm(
        request.POST,
        people=[a.membership for a in assignments],
        tasks=list(project.tasks.filter(is_archived=False)),
        today=services.organization_today(project.organization),
        currency=project.client.currency,
        auto_id="id_rate_%s",
    )
    if form.is_valid():
        try:
            services.set_rate(
                by=membership,
                kind=RateKind.BILL,
                project=project,
                amount=form.cleaned_data["amount"],
                effective_from=form.cleaned_data["effective_from"],
                **form.targets(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _saved(request, project, "rates", "Rate added.")
    return _detail(request, project, section="rates", status=400, rate_form=form)


@member_required
@require_POST
def rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    rate = services.get_rate_for(membership, pk)
    back = _back(request, rate)
    try:
        services.delete_rate(rate, by=membership)
    except ValidationError as exc:
        return _refused(request, exc, back=back)
    messages.success(request, "The scheduled rate was removed.")
    return redirect(back)


def _back(request: HttpRequest, rate: Rate) -> str:
    """Where to go after deleting a rate: the page it was shown on, if that is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    if rate.project_id:
        return reverse("projects:detail", args=[rate.project_id])
    if rate.client_id:
        return reverse("clients:detail", args=[rate.client_id])
    return reverse("projects:rates")


# The rates page ------------------------------------------------------------------------

RATE_SECTIONS = ("organization", "member", "cost", "client")


@member_required
def rates(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "rates.view")
    return render(request, "projects/rates.html", _rates_context(membership))


def _rates_context(membership: Membership, **forms: RateForm) -> dict[str, Any]:
    organization = membership.organization
    today = services.organization_today(organization)
    may_see_costs = can(membership, "cost_rates.view")
    kinds = [RateKind.BILL, RateKind.COST] if may_see_costs else [RateKind.BILL]
    scopes = [RateScope.ORGANIZATION, RateScope.MEMBER, RateScope.CLIENT]
    all_rates = Rate.objects.filter(
        organization=organization, kind__in=kinds, scope__in=scopes
    ).select_related("client", "membership__user")
    histories = services.rate_histories(all_rates, today=today)
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in RATE_SECTIONS}
    for rows in histories.values():
        rate = rows[0].rate
        if rate.kind == RateKind.COST:
            groups["cost"].append({"label": rate.membership.user.display_name, "rows": rows})  # type: ignore[union-attr]
        elif rate.scope == RateScope.ORGANIZATION:
            groups["organization"].append({"label": rate.currency, "rows": rows})
        elif rate.scope == RateScope.MEMBER:
            label = f"{rate.membership.user.display_name} · {rate.currency}"  # type: ignore[union-attr]
            groups["member"].append({"label": label, "rows": rows})
        else:
            groups["client"].append({"label": rate.client.name, "rows": rows})  # type: ignore[union-attr]
    for group in groups.values():
        group.sort(key=lambda g: g["label"].lower())
    return {
        "groups": groups,
        "today": today,
        "may_manage": can(membership, "rates.manage"),
        "may_see_costs": may_see_costs,
        "may_manage_costs": can(membership, "cost_rates.manage"),
        "forms": {
            name: forms.get(name) or organization_rate_form(name, organization, today=today)
            for name in RATE_SECTIONS
        },
    }


@member_required
@require_POST
def rate_add(request: HttpRequest, scope: str) -> HttpResponse:
    membership = _membership(request)
    if scope not in RATE_SECTIONS:
        raise Http404("No such kind of rate.")
    require(membership, "cost_rates.manage" if scope == "cost" else "rates.manage")
    organization = membership.organization
    today = services.organization_today(organization)
    form = organization_rate_form(scope, organization, today=today, data=request.POST)
    if form.is_valid():
        data = form.cleaned_data
        targets: dict[str, Any] = {
            "membership": data.get("membership"),
            "client": data.get("client"),
            "currency": data.get("currency") or None,
        }
        kind = RateKind.COST if scope == "cost" else RateKind.BILL
        try:
            services.set_rate(
                by=membership,
                kind=kind,
                amount=data["amount"],
                effective_from=data["effective_from"],
                **targets,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, "Rate added.")
                return redirect("projects:rates")
            context = _rates_context(membership) | {f"{scope}_message": "Rate added."}
            return render(request, f"projects/rates.html#{scope}", context)
    context = _rates_context(membership, **{scope: form})
    template = f"projects/rates.html#{scope}" if is_htmx(request) else "projects/rates.html"
    return render(request, template, context, status=400)
