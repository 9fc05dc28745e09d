"""API for projects, their members and tasks, and versioned bill and cost rates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, field_validator

from punchclock.accounts.models import Membership, Role
from punchclock.accounts.permissions import can, require, visible_projects
from punchclock.accounts.services import get_membership_for
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, QuerySchema, amount_text, referenced
from punchclock.clients.models import Client
from punchclock.core.services import field_error
from punchclock.core.timeutil import now
from punchclock.projects import services
from punchclock.projects.models import (
    BillingMethod,
    BudgetKind,
    Project,
    ProjectMember,
    ProjectStatus,
    Rate,
    RateKind,
    RateScope,
    RoundingDirection,
    RoundingScope,
    Task,
)

router = Router()

PROJECTS = ["Projects"]
TASKS = ["Tasks"]
RATES = ["Rates"]


# Schemas -------------------------------------------------------------------------------


class ProjectOut(Schema):
    id: int
    client_id: int
    name: str
    code: str
    full_code: str
    description: str
    currency: str
    billing_method: str
    fixed_fee: str | None
    budget_kind: str
    budget_hours: str | None
    budget_amount: str | None
    budget_alert_percent: int
    billable_default: bool
    rounding_minutes: int
    rounding_direction: str
    rounding_scope: str
    status: str
    created_at: datetime

    @staticmethod
    def resolve_currency(obj: Project) -> str:
        return obj.client.currency

    @staticmethod
    def resolve_fixed_fee(obj: Project) -> str | None:
        return amount_text(obj.fixed_fee, obj.client.currency)

    @staticmethod
    def resolve_budget_amount(obj: Project) -> str | None:
        return amount_text(obj.budget_amount, obj.client.currency)

    @staticmethod
    def resolve_budget_hours(obj: Project) -> str | None:
        return amount_text(obj.budget_hours)


class ProjectPatch(InputSchema):
    """Only the fields sent are changed; money and hours as decimal strings or numbers."""

    nullable = frozenset({"fixed_fee", "budget_hours", "budget_amount"})

    name: str | None = None
    code: str | None = None
    description: str | None = None
    billing_method: BillingMethod | None = None
    fixed_fee: Decimal | None = None
    budget_kind: BudgetKind | None = None
    budget_hours: Decimal | None = None
    budget_amount: Decimal | None = None
    budget_alert_percent: int | None = None
    billable_default: bool | None = None
    rounding_minutes: int | None = None
    rounding_direction: RoundingDirection | None = None
    rounding_scope: RoundingScope | None = None


class ProjectIn(ProjectPatch):
    client_id: Id
    name: str


class ProjectQuery(PageQuery):
    client_id: Id | None = None
    status: ProjectStatus | None = None
    billing_method: BillingMethod | None = None
    search: str | None = None


class StatusIn(InputSchema):
    status: ProjectStatus


class AssignmentOut(Schema):
    membership_id: int
    email: str
    name: str
    role: str
    is_manager: bool

    @staticmethod
    def resolve_email(obj: ProjectMember) -> str:
        return obj.membership.user.email

    @staticmethod
    def resolve_name(obj: ProjectMember) -> str:
        return obj.membership.user.name

    @staticmethod
    def resolve_role(obj: ProjectMember) -> str:
        return obj.membership.role


class AssignmentIn(InputSchema):
    membership_id: Id
    is_manager: bool = False


class TaskOut(Schema):
    id: int
    project_id: int
    name: str
    billable_default: bool
    is_archived: bool


class TaskIn(InputSchema):
    name: str
    billable_default: bool | None = None


class TaskPatch(InputSchema):
    name: str | None = None
    billable_default: bool | None = None
    is_archived: bool | None = None


class TaskQuery(PageQuery):
    archived: bool | None = None


class RateOut(Schema):
    id: int
    kind: str
    scope: str
    amount: str
    currency: str
    effective_from: date
    client_id: int | None
    project_id: int | None
    task_id: int | None
    membership_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: Rate) -> str | None:
        return amount_text(obj.amount, obj.currency)


class RateIn(InputSchema):
    """The targets given decide the scope: task > person on project > project > client >
    person default > organization default. Cost rates name a membership only."""

    nullable = frozenset({"client_id", "project_id", "task_id", "membership_id", "currency"})

    kind: RateKind
    amount: Decimal
    effective_from: date
    client_id: Id | None = None
    project_id: Id | None = None
    task_id: Id | None = None
    membership_id: Id | None = None
    currency: str | None = None


class RateQuery(PageQuery):
    kind: RateKind | None = None
    scope: RateScope | None = None
    project_id: Id | None = None
    client_id: Id | None = None
    membership_id: Id | None = None


class ResolveQuery(QuerySchema):
    project_id: Id
    task_id: Id | None = None
    membership_id: Id | None = None
    at: AwareDatetime | None = None

    @field_validator("at")
    @classmethod
    def _within_calendar(cls, value: datetime | None) -> datetime | None:
        # Years near 1 or 9999 cannot be moved between zones without overflowing.
        if value is None:
            return value
        try:
            year = value.astimezone(UTC).year
        except OverflowError:
            year = 0
        if not 1900 <= year <= 2999:
            raise ValueError("Give an instant between the years 1900 and 2999.")
        return value


class BillRateOut(Schema):
    amount: str
    currency: str
    scope: str


class CostRateOut(Schema):
    amount: str
    currency: str


class RateQuoteOut(Schema):
    project_id: int
    task_id: int | None
    membership_id: int
    at: datetime
    billable: bool
    bill: BillRateOut | None
    cost: CostRateOut | None


# Projects ------------------------------------------------------------------------------


def _projects(by: Membership) -> QuerySet[Project]:
    return visible_projects(by).select_related("client")


def _org_clients(by: Membership) -> QuerySet[Client]:
    return Client.objects.filter(organization_id=by.organization_id)


def _org_members(by: Membership) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(organization_id=by.organization_id)


@router.get(
    "/projects",
    response=responses(page_of(ProjectOut)),
    tags=PROJECTS,
    summary="List projects (filter by client, status, billing method, name or code)",
)
def list_projects(request: HttpRequest, query: Query[ProjectQuery]) -> dict[str, Any]:
    projects = _projects(acting(request))
    if query.client_id:
        projects = projects.filter(client_id=query.client_id)
    if query.status:
        projects = projects.filter(status=query.status)
    if query.billing_method:
        projects = projects.filter(billing_method=query.billing_method)
    if query.search:
        projects = projects.filter(
            Q(name__icontains=query.search) | Q(code__icontains=query.search)
        )
    return paginate(projects.order_by("client__name", "name", "pk"), query)


@router.post(
    "/projects", response=responses(ProjectOut, 201), tags=PROJECTS, summary="Create a project"
)
def create_project(request: HttpRequest, payload: ProjectIn) -> Status[Project]:
    by = acting(request)
    fields = payload.model_dump(exclude_unset=True, exclude={"client_id"})
    client = referenced(_org_clients(by), payload.client_id, "client_id", "client")
    assert client is not None  # client_id is required by the schema
    project = services.create_project(by=by, client=client, **fields)
    return Status(201, project)


@router.get(
    "/projects/{id:project_id}",
    response=responses(ProjectOut),
    tags=PROJECTS,
    summary="Get a project",
)
def get_project(request: HttpRequest, project_id: int) -> Project:
    return services.get_project_for(acting(request), project_id)


@router.patch(
    "/projects/{id:project_id}",
    response=responses(ProjectOut),
    tags=PROJECTS,
    summary="Change a project's fields",
)
def update_project(request: HttpRequest, project_id: int, payload: ProjectPatch) -> Project:
    by = acting(request)
    project = services.get_project_for(by, project_id)
    return services.update_project(project, by=by, **payload.model_dump(exclude_unset=True))


@router.post(
    "/projects/{id:project_id}/status",
    response=responses(ProjectOut),
    tags=PROJECTS,
    summary="Archive or reactivate a project",
)
def set_project_status(request: HttpRequest, project_id: int, payload: StatusIn) -> Project:
    by = acting(request)
    project = services.get_project_for(by, project_id)
    return services.set_project_status(project, by=by, status=payload.status)


@router.get(
    "/projects/{id:project_id}/members",
    response=responses(page_of(AssignmentOut)),
    tags=PROJECTS,
    summary="List the people assigned to a project",
)
def list_project_members(
    request: HttpRequest, project_id: int, query: Query[PageQuery]
) -> dict[str, Any]:
    project = services.get_project_for(acting(request), project_id)
    assignments = project.assignments.select_related("membership__user")
    return paginate(assignments.order_by("membership__user__email", "pk"), query)


@router.post(
    "/projects/{id:project_id}/members",
    response=responses(AssignmentOut, 201),
    tags=PROJECTS,
    summary="Assign a person to a project (again to change is_manager)",
)
def assign_project_member(
    request: HttpRequest, project_id: int, payload: AssignmentIn
) -> Status[ProjectMember]:
    by = acting(request)
    project = services.get_project_for(by, project_id)
    membership = referenced(_org_members(by), payload.membership_id, "membership_id", "member")
    assert membership is not None
    assignment = services.assign_member(
        project, by=by, membership=membership, is_manager=payload.is_manager
    )
    return Status(201, assignment)


@router.delete(
    "/projects/{id:project_id}/members/{id:membership_id}",
    response=responses(None, 204),
    tags=PROJECTS,
    summary="Take a person off a project",
)
def unassign_project_member(
    request: HttpRequest, project_id: int, membership_id: int
) -> Status[None]:
    by = acting(request)
    project = services.get_project_for(by, project_id)
    assignment = (
        project.assignments.select_related("membership").filter(membership_id=membership_id).first()
    )
    if assignment is None:
        raise Http404("That person is not on this project.")
    services.unassign_member(project, by=by, membership=assignment.membership)
    return Status(204, None)


# Tasks ---------------------------------------------------------------------------------


@router.get(
    "/projects/{id:project_id}/tasks",
    response=responses(page_of(TaskOut)),
    tags=TASKS,
    summary="List a project's tasks",
)
def list_tasks(request: HttpRequest, project_id: int, query: Query[TaskQuery]) -> dict[str, Any]:
    project = services.get_project_for(acting(request), project_id)
    tasks = project.tasks.all()
    if query.archived is not None:
        tasks = tasks.filter(is_archived=query.archived)
    return paginate(tasks.order_by("name", "pk"), query)


@router.post(
    "/projects/{id:project_id}/tasks",
    response=responses(TaskOut, 201),
    tags=TASKS,
    summary="Add a task to a project",
)
def create_task(request: HttpRequest, project_id: int, payload: TaskIn) -> Status[Task]:
    by = acting(request)
    project = services.get_project_for(by, project_id)
    task = services.create_task(project, by=by, **payload.model_dump(exclude_unset=True))
    return Status(201, task)


@router.get("/tasks/{id:task_id}", response=responses(TaskOut), tags=TASKS, summary="Get a task")
def get_task(request: HttpRequest, task_id: int) -> Task:
    return services.get_task_for(acting(request), task_id)


@router.patch(
    "/tasks/{id:task_id}",
    response=responses(TaskOut),
    tags=TASKS,
    summary="Rename, archive or change a task's billable default",
)
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> Task:
    by = acting(request)
    task = services.get_task_for(by, task_id)
    return services.update_task(task, by=by, **payload.model_dump(exclude_unset=True))


# Rates ---------------------------------------------------------------------------------


def _rates(by: Membership) -> QuerySet[Rate]:
    """The rates a member may read: all for rates.view, else those of projects they manage."""
    rates = Rate.objects.filter(organization_id=by.organization_id)
    if not can(by, "cost_rates.view"):
        rates = rates.exclude(kind=RateKind.COST)
    if can(by, "rates.view"):
        return rates
    # permissions.is_project_manager as a query: a manager reads their projects' rates.
    managed = ProjectMember.objects.filter(membership=by, is_manager=True).values("project_id")
    if by.role != Role.MANAGER or not managed.exists():
        require(by, "rates.view")
    return rates.filter(project_id__in=managed)


@router.get(
    "/rates",
    response=responses(page_of(RateOut)),
    tags=RATES,
    summary="List rates (filter by kind, scope, project, client, person)",
)
def list_rates(request: HttpRequest, query: Query[RateQuery]) -> dict[str, Any]:
    rates = _rates(acting(request))
    if query.kind:
        rates = rates.filter(kind=query.kind)
    if query.scope:
        rates = rates.filter(scope=query.scope)
    if query.project_id:
        rates = rates.filter(project_id=query.project_id)
    if query.client_id:
        rates = rates.filter(Q(client_id=query.client_id) | Q(project__client_id=query.client_id))
    if query.membership_id:
        rates = rates.filter(membership_id=query.membership_id)
    return paginate(rates.order_by("kind", "scope", "scope_key", "-effective_from", "pk"), query)


@router.post(
    "/rates", response=responses(RateOut, 201), tags=RATES, summary="Add a rate from a date on"
)
def create_rate(request: HttpRequest, payload: RateIn) -> Status[Rate]:
    by = acting(request)
    organization_id = by.organization_id
    tasks = Task.objects.select_related("project__client").filter(
        project__organization_id=organization_id
    )
    projects = Project.objects.select_related("client").filter(organization_id=organization_id)
    rate = services.set_rate(
        by=by,
        kind=payload.kind,
        amount=payload.amount,
        effective_from=payload.effective_from,
        client=referenced(_org_clients(by), payload.client_id, "client_id", "client"),
        project=referenced(projects, payload.project_id, "project_id", "project"),
        task=referenced(tasks, payload.task_id, "task_id", "task"),
        membership=referenced(_org_members(by), payload.membership_id, "membership_id", "member"),
        currency=payload.currency,
    )
    return Status(201, rate)


@router.get(
    "/rates/resolve",
    response=responses(RateQuoteOut),
    tags=RATES,
    summary="The bill and cost rate of a person on a project (and task) at an instant",
)
def resolve_rate(request: HttpRequest, query: Query[ResolveQuery]) -> dict[str, Any]:
    """Defaults: the token's own membership, and now. Cost is shown to cost_rates.view only."""
    by = acting(request)
    project = services.get_project_for(by, query.project_id)
    require(by, "rates.view", project)
    task = services.get_task_for(by, query.task_id) if query.task_id else None
    if task is not None and task.project_id != project.pk:
        raise field_error("task_id", "That task belongs to another project.")
    membership = get_membership_for(by, query.membership_id) if query.membership_id else by
    at = (query.at or now()).astimezone(UTC)
    quote = services.resolve_rates(membership=membership, project=project, task=task, at=at)
    bill = quote.bill
    cost = quote.cost if can(by, "cost_rates.view") else None
    return {
        "project_id": project.pk,
        "task_id": task.pk if task else None,
        "membership_id": membership.pk,
        "at": at,
        "billable": quote.billable,
        "bill": {
            "amount": amount_text(bill.amount, bill.currency),
            "currency": bill.currency,
            "scope": quote.bill_scope,
        }
        if bill
        else None,
        "cost": {"amount": amount_text(cost.amount, cost.currency), "currency": cost.currency}
        if cost
        else None,
    }


@router.get("/rates/{id:rate_id}", response=responses(RateOut), tags=RATES, summary="Get a rate")
def get_rate(request: HttpRequest, rate_id: int) -> Rate:
    return services.get_rate_for(acting(request), rate_id)


@router.delete(
    "/rates/{id:rate_id}",
    response=responses(None, 204),
    tags=RATES,
    summary="Delete a rate that has not started yet",
)
def delete_rate(request: HttpRequest, rate_id: int) -> Status[None]:
    by = acting(request)
    services.delete_rate(services.get_rate_for(by, rate_id), by=by)
    return Status(204, None)
