"""Every change to projects, tasks, assignments and rates, and the rate resolver."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import require
from punchclock.clients.models import Client
from punchclock.core.money import Money, is_currency
from punchclock.core.services import apply_fields, clean_and_save, field_error
from punchclock.core.timeutil import local_date, now
from punchclock.projects.models import (
    BillingMethod,
    BudgetKind,
    Project,
    ProjectMember,
    ProjectStatus,
    Rate,
    RateKind,
    RateScope,
    Task,
)

PROJECT_FIELDS = {
    "name",
    "code",
    "description",
    "billing_method",
    "fixed_fee",
    "budget_kind",
    "budget_hours",
    "budget_amount",
    "budget_alert_percent",
    "billable_default",
    "rounding_minutes",
    "rounding_direction",
    "rounding_scope",
}
TASK_FIELDS = {"name", "billable_default"}
MAX_RATE = Decimal("1000000")


def _same_org(organization_id: int, by: Membership) -> None:
    if organization_id != by.organization_id:
        raise PermissionDenied("That belongs to another organization.")


# Projects ------------------------------------------------------------------------------


def _check_project(project: Project) -> None:
    errors: dict[str, list[str]] = {}
    project.code = (project.code or "").lower()
    if project.billing_method != BillingMethod.FIXED_FEE:
        project.fixed_fee = None
    elif project.fixed_fee is None:
        errors["fixed_fee"] = ["A fixed-fee project needs its fee."]
    elif project.fixed_fee < 0:
        errors["fixed_fee"] = ["The fixed fee cannot be negative."]
    hours, amount = project.budget_hours, project.budget_amount
    if project.budget_kind == BudgetKind.HOURS and hours is None:
        errors["budget_hours"] = ["An hours budget needs the number of hours."]
    elif project.budget_kind == BudgetKind.HOURS and hours is not None and hours <= 0:
        errors["budget_hours"] = ["The hours budget must be more than zero."]
    if project.budget_kind == BudgetKind.MONEY and amount is None:
        errors["budget_amount"] = ["A money budget needs an amount."]
    elif project.budget_kind == BudgetKind.MONEY and amount is not None and amount <= 0:
        errors["budget_amount"] = ["The budget amount must be more than zero."]
    if not 1 <= (project.budget_alert_percent or 0) <= 100:
        errors["budget_alert_percent"] = ["The alert threshold is a percentage from 1 to 100."]
    if project.budget_kind != BudgetKind.HOURS:
        project.budget_hours = None
    if project.budget_kind != BudgetKind.MONEY:
        project.budget_amount = None
    if project.billing_method == BillingMethod.NON_BILLABLE:
        project.billable_default = False
    if project.rounding_minutes and 1440 % project.rounding_minutes:
        errors["rounding_minutes"] = ["The rounding increment must divide a day (e.g. 6, 15, 30)."]
    if errors:
        raise ValidationError(errors)
    clash = Project.objects.filter(client_id=project.client_id, code=project.code)
    if clash.exclude(pk=project.pk).exists():
        raise field_error(
            "code", f"This client already has a project with the code “{project.code}”."
        )


@transaction.atomic
def create_project(*, by: Membership, client: Client, name: str, **fields: Any) -> Project:
    require(by, "projects.create")
    _same_org(client.organization_id, by)
    if client.is_archived:
        raise field_error("client", "The client is archived; restore it first.")
    project = Project(organization_id=by.organization_id, client=client, name=name.strip())
    apply_fields(project, fields, PROJECT_FIELDS)
    if not project.code:
        project.code = _free_code(client, slugify(project.name)[:40] or "project")
    _check_project(project)
    clean_and_save(project)
    return project


def _free_code(client: Client, base: str) -> str:
    code, n = base, 1
    while Project.objects.filter(client=client, code=code).exists():
        n += 1
        code = f"{base[:36]}{n}"
    return code


@transaction.atomic
def update_project(project: Project, *, by: Membership, **fields: Any) -> Project:
    _same_org(project.organization_id, by)
    require(by, "projects.manage", project)
    apply_fields(project, fields, PROJECT_FIELDS)
    _check_project(project)
    clean_and_save(project)
    return project


@transaction.atomic
def set_project_status(project: Project, *, by: Membership, status: str) -> Project:
    _same_org(project.organization_id, by)
    require(by, "projects.manage", project)
    if status not in ProjectStatus.values:
        raise field_error("status", f"“{status}” is not a project status.")
    if status == ProjectStatus.ACTIVE and project.client.is_archived:
        raise field_error("status", "The client is archived; restore the client first.")
    project.status = status
    project.save(update_fields=["status"])
    return project


@transaction.atomic
def assign_member(
    project: Project, *, by: Membership, membership: Membership, is_manager: bool = False
) -> ProjectMember:
    _same_org(project.organization_id, by)
    require(by, "projects.manage", project)
    _same_org(membership.organization_id, by)
    if not membership.is_active:
        raise field_error("membership", "That person is no longer in the organization.")
    if is_manager and not _may_set_managers(by):
        raise field_error("is_manager", "Only admins and owners choose project managers.")
    if not _may_set_managers(by):
        # A project manager may add people but never change who manages the project:
        # re-assigning an existing project manager keeps their flag.
        assignment, _ = ProjectMember.objects.get_or_create(project=project, membership=membership)
        return assignment
    assignment, _ = ProjectMember.objects.update_or_create(
        project=project, membership=membership, defaults={"is_manager": is_manager}
    )
    return assignment


def _may_set_managers(by: Membership) -> bool:
    from punchclock.accounts.permissions import can

    return can(by, "projects.create")


@transaction.atomic
def unassign_member(project: Project, *, by: Membership, membership: Membership) -> None:
    _same_org(project.organization_id, by)
    require(by, "projects.manage", project)
    assignment = ProjectMember.objects.filter(project=project, membership=membership)
    if not _may_set_managers(by) and assignment.filter(is_manager=True).exists():
        raise field_error("membership", "Only admins and owners remove a project manager.")
    assignment.delete()


# Tasks ---------------------------------------------------------------------------------


@transaction.atomic
def create_task(project: Project, *, by: Membership, name: str, **fields: Any) -> Task:
    _same_org(project.organization_id, by)
    require(by, "projects.manage", project)
    if project.status == ProjectStatus.ARCHIVED:
        raise field_error("project", "The project is archived; restore it before adding tasks.")
    task = Task(project=project, name=name.strip())
    apply_fields(task, fields, TASK_FIELDS)
    if project.billing_method == BillingMethod.NON_BILLABLE:
        task.billable_default = False
    _check_task_name(task)
    clean_and_save(task)
    return task


@transaction.atomic
def update_task(task: Task, *, by: Membership, **fields: Any) -> Task:
    _same_org(task.project.organization_id, by)
    require(by, "projects.manage", task.project)
    apply_fields(task, fields, TASK_FIELDS | {"is_archived"})
    task.name = (task.name or "").strip()
    _check_task_name(task)
    clean_and_save(task)
    return task


def _check_task_name(task: Task) -> None:
    # Checked here for a message naming the field; the database constraint would only
    # say that "project and name" clash.
    clash = Task.objects.filter(project_id=task.project_id, name__iexact=task.name)
    if task.name and clash.exclude(pk=task.pk).exists():
        raise field_error("name", f"This project already has a task called “{task.name}”.")


# Rates ---------------------------------------------------------------------------------


def _rate_currency(
    organization: Organization, kind: str, client: Client | None, currency: str | None
) -> str:
    if kind == RateKind.COST:
        # Cost is accounted in the organization's own currency.
        return organization.default_currency
    if client is not None:
        if currency and currency.upper() != client.currency:
            raise field_error(
                "currency", f"Rates for {client.name} are in its currency, {client.currency}."
            )
        return client.currency
    code = (currency or organization.default_currency).upper()
    if not is_currency(code):
        raise field_error("currency", f"“{code}” is not an ISO 4217 currency code.")
    return code


@transaction.atomic
def set_rate(
    *,
    by: Membership,
    kind: str,
    amount: Decimal,
    effective_from: date,
    client: Client | None = None,
    project: Project | None = None,
    task: Task | None = None,
    membership: Membership | None = None,
    currency: str | None = None,
) -> Rate:
    """Add a rate valid from a date on; earlier periods and the work in them are untouched."""
    scope = _scope_of(kind, client=client, project=project, task=task, membership=membership)
    if task is not None:
        project = task.project
    if project is not None:
        client = project.client
    targets = [t.organization_id for t in (client, project, membership) if t is not None]
    for organization_id in targets:
        _same_org(organization_id, by)
    if kind == RateKind.COST:
        require(by, "cost_rates.manage")
    elif scope in (RateScope.TASK, RateScope.PROJECT, RateScope.PROJECT_MEMBER):
        require(by, "rates.manage", project)
    else:
        require(by, "rates.manage")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise field_error("amount", "The rate must be a number.")
    if amount < 0:
        raise field_error("amount", "A rate cannot be negative.")
    if amount > MAX_RATE:
        raise field_error("amount", f"A rate above {MAX_RATE:,} per hour is surely a typo.")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise field_error("amount", "A rate has at most 4 decimal places.")
    organization = by.organization
    code = _rate_currency(organization, kind, client, currency)
    key = Rate.key_for(
        scope,
        client_id=client.pk if client else None,
        project_id=project.pk if project else None,
        task_id=task.pk if task else None,
        membership_id=membership.pk if membership else None,
    )
    if kind == RateKind.BILL and scope in (RateScope.MEMBER, RateScope.ORGANIZATION):
        # Defaults may exist once per currency, so a USD client finds its USD default.
        key = f"{key}:{code}"
    clash = Rate.objects.filter(
        organization=organization, kind=kind, scope_key=key, effective_from=effective_from
    )
    if clash.exists():
        raise field_error(
            "effective_from",
            f"A {RateKind(kind).label.lower()} for this already starts on {effective_from}; "
            "change that one or pick another date.",
        )
    rate = Rate(
        organization=organization,
        kind=kind,
        scope=scope,
        client=client if scope == RateScope.CLIENT else None,
        project=project
        if scope in (RateScope.TASK, RateScope.PROJECT, RateScope.PROJECT_MEMBER)
        else None,
        task=task,
        membership=membership,
        scope_key=key,
        amount=amount,
        currency=code,
        effective_from=effective_from,
        created_by=by.user,
    )
    clean_and_save(rate, exclude=["scope_key"])
    return rate


def _scope_of(
    kind: str,
    *,
    client: Client | None,
    project: Project | None,
    task: Task | None,
    membership: Membership | None,
) -> str:
    if kind not in RateKind.values:
        raise field_error("kind", f"“{kind}” is not a rate kind (bill or cost).")
    if kind == RateKind.COST:
        if membership is None or client or project or task:
            raise field_error("membership", "A cost rate belongs to one person only.")
        return RateScope.MEMBER
    if task is not None:
        if membership is not None:
            raise field_error("membership", "A task rate applies to everyone on the task.")
        return RateScope.TASK
    if project is not None:
        return RateScope.PROJECT_MEMBER if membership is not None else RateScope.PROJECT
    if client is not None:
        if membership is not None:
            raise field_error("membership", "Person rates are set per project, not per client.")
        return RateScope.CLIENT
    if membership is not None:
        return RateScope.MEMBER
    return RateScope.ORGANIZATION


@transaction.atomic
def delete_rate(rate: Rate, *, by: Membership) -> None:
    """Remove a rate that has not started yet; past rates are history and stay."""
    _same_org(rate.organization_id, by)
    if rate.kind == RateKind.COST:
        require(by, "cost_rates.manage")
    else:
        require(by, "rates.manage", rate.project)
    today = local_date(now(), by.organization.timezone)
    if rate.effective_from <= today:
        raise field_error(
            "effective_from",
            "This rate is already in force; add a new rate from a later date instead.",
        )
    rate.delete()


@dataclass(frozen=True)
class RateQuote:
    """What a person's hour on a project costs and is billed at an instant."""

    bill: Money | None
    bill_scope: str | None
    cost: Money | None
    billable: bool


def resolve_rates(
    *, membership: Membership, project: Project, at: datetime, task: Task | None = None
) -> RateQuote:
    """The bill and cost rate of a person on a project (and task) at an instant.

    One query for the candidate scopes only; the order of resolution lives in RateBook
    (docs/decisions/0002-rates.md), which reports use for many groups at once.
    """
    from punchclock.projects.ratebook import RateBook, candidate_keys, cost_key

    organization = project.organization
    if membership.organization_id != organization.pk or (task and task.project_id != project.pk):
        raise ValueError("person, project and task must belong together")
    keys = [k for k in candidate_keys(membership, project, task).values() if k]
    book = RateBook.load(organization, keys=[*keys, cost_key(membership)])
    bill, scope = book.bill(membership, project, task, at)
    return RateQuote(
        bill=bill, bill_scope=scope, cost=book.cost(membership, at), billable=project.is_hourly
    )


# Rate history --------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """A rate with its period: in force until the day before the next one starts."""

    rate: Rate
    state: str  # "scheduled", "current" or "past"
    until: date | None

    @property
    def deletable(self) -> bool:
        return self.state == "scheduled"


def rate_histories(rates: Iterable[Rate], *, today: date) -> dict[str, list[RateRow]]:
    """Rates grouped by kind and scope key, newest first, marked scheduled, current or past."""
    by_key: dict[str, list[Rate]] = {}
    for rate in sorted(rates, key=lambda r: r.effective_from):
        by_key.setdefault(f"{rate.kind}:{rate.scope_key}", []).append(rate)
    histories: dict[str, list[RateRow]] = {}
    for key, ordered in by_key.items():
        rows: list[RateRow] = []
        current_seen = False
        for index in range(len(ordered) - 1, -1, -1):
            rate = ordered[index]
            following = ordered[index + 1] if index + 1 < len(ordered) else None
            until = following.effective_from - timedelta(days=1) if following else None
            if rate.effective_from > today:
                state = "scheduled"
            elif not current_seen:
                state, current_seen = "current", True
            else:
                state = "past"
            rows.append(RateRow(rate, state, until))
        histories[key] = rows
    return histories


def organization_today(organization: Organization) -> date:
    """Today's date where the organization is; rates switch at its local midnight."""
    return local_date(now(), organization.timezone)


# Lookups -------------------------------------------------------------------------------


def get_project_for(membership: Membership, pk: int) -> Project:
    """A project the member may see, or 404 (also for other organizations' projects)."""
    from django.shortcuts import get_object_or_404

    from punchclock.accounts.permissions import visible_projects

    return get_object_or_404(
        visible_projects(membership).select_related("client", "organization"), pk=pk
    )


def get_task_for(membership: Membership, pk: int) -> Task:
    from django.shortcuts import get_object_or_404

    from punchclock.accounts.permissions import visible_projects

    return get_object_or_404(
        Task.objects.select_related("project__client", "project__organization"),
        pk=pk,
        project__in=visible_projects(membership),
    )


def get_rate_for(membership: Membership, pk: int) -> Rate:
    """A rate of the member's organization that their role lets them see, or 404."""
    from django.http import Http404

    from punchclock.accounts.permissions import can

    rate = (
        Rate.objects.select_related("project", "client", "task", "membership__user")
        .filter(organization_id=membership.organization_id, pk=pk)
        .first()
    )
    if rate is None:
        raise Http404("No such rate.")
    allowed = (
        can(membership, "cost_rates.view")
        if rate.kind == RateKind.COST
        else can(membership, "rates.view", rate.project)
    )
    if not allowed:
        raise Http404("No such rate.")
    return rate
