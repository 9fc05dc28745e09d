"""Projects, tasks, assignments and versioned bill and cost rates."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from punchclock.accounts.models import Membership, Organization, User
from punchclock.clients.models import Client
from punchclock.core.validators import validate_currency


class BillingMethod(models.TextChoices):
    HOURLY_PROJECT = "hourly_project", "Hourly, project rate"
    HOURLY_TASK = "hourly_task", "Hourly, task rate"
    HOURLY_PERSON = "hourly_person", "Hourly, person rate"
    FIXED_FEE = "fixed_fee", "Fixed fee"
    NON_BILLABLE = "non_billable", "Non-billable"


# The methods that price time by the hour (plain strings, so SQL can take them as parameters).
HOURLY_METHODS: tuple[str, ...] = (
    BillingMethod.HOURLY_PROJECT.value,
    BillingMethod.HOURLY_TASK.value,
    BillingMethod.HOURLY_PERSON.value,
)


class BudgetKind(models.TextChoices):
    NONE = "none", "No budget"
    HOURS = "hours", "Hours"
    MONEY = "money", "Amount"


class RoundingDirection(models.TextChoices):
    UP = "up", "Up"
    NEAREST = "nearest", "Nearest"
    DOWN = "down", "Down"


class RoundingScope(models.TextChoices):
    """What the rounding rule applies to: each entry, or a person's day on one task."""

    ENTRY = "entry", "each entry"
    DAY_TASK = "day_task", "each person's day per task"


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Project(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, help_text="Short code, e.g. api in acme/api")
    description = models.TextField(blank=True)
    billing_method = models.CharField(
        max_length=20, choices=BillingMethod.choices, default=BillingMethod.HOURLY_PROJECT
    )
    fixed_fee = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_kind = models.CharField(
        max_length=5, choices=BudgetKind.choices, default=BudgetKind.NONE
    )
    budget_hours = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    budget_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_alert_percent = models.PositiveSmallIntegerField(default=80)
    billable_default = models.BooleanField(default=True)
    # Rounding is a billing rule applied when invoicing; tracked time is never rewritten.
    rounding_minutes = models.PositiveSmallIntegerField(default=0)
    rounding_direction = models.CharField(
        max_length=7, choices=RoundingDirection.choices, default=RoundingDirection.UP
    )
    rounding_scope = models.CharField(
        max_length=8, choices=RoundingScope.choices, default=RoundingScope.ENTRY
    )
    status = models.CharField(
        max_length=8, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    members = models.ManyToManyField(
        Membership, through="ProjectMember", related_name="projects", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="project_code_per_client"),
            models.CheckConstraint(
                condition=models.Q(fixed_fee__isnull=True) | models.Q(fixed_fee__gte=0),
                name="project_fixed_fee_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_hours__isnull=True) | models.Q(budget_hours__gt=0),
                name="project_budget_hours_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | models.Q(budget_amount__gt=0),
                name="project_budget_amount_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_alert_percent__gte=1)
                & models.Q(budget_alert_percent__lte=100),
                name="project_alert_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(rounding_minutes__lte=1440), name="project_rounding_within_day"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="project_org_status")]

    def __str__(self) -> str:
        return f"{self.client.code}/{self.code}"

    @property
    def full_code(self) -> str:
        return f"{self.client.code}/{self.code}"

    @property
    def is_billable_method(self) -> bool:
        return self.billing_method != BillingMethod.NON_BILLABLE

    @property
    def is_hourly(self) -> bool:
        return self.billing_method in HOURLY_METHODS


class ProjectMember(models.Model):
    """A person assigned to a project; project managers may edit it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="assignments")
    is_manager = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "membership"], name="one_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} on {self.project}"


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    name = models.CharField(max_length=200)
    billable_default = models.BooleanField(default=True)
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="task_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class RateKind(models.TextChoices):
    BILL = "bill", "Bill rate"
    COST = "cost", "Cost rate"


class RateScope(models.TextChoices):
    """Where a rate applies, most specific first: resolution walks this order."""

    TASK = "task", "Task"
    PROJECT_MEMBER = "project_member", "Person on project"
    PROJECT = "project", "Project"
    CLIENT = "client", "Client"
    MEMBER = "member", "Person default"
    ORGANIZATION = "organization", "Organization default"


class Rate(models.Model):
    """An hourly rate valid from a date until the next rate of the same scope.

    Periods never overlap by construction: a scope's rates are ordered by effective date and
    each one ends where the next begins, so adding a rate never rewrites earlier work.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rates")
    kind = models.CharField(max_length=4, choices=RateKind.choices)
    scope = models.CharField(max_length=14, choices=RateScope.choices)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, null=True, blank=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, blank=True)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, null=True, blank=True)
    # A text key of the scope's target lets one unique constraint cover every scope; a
    # constraint over the nullable foreign keys would treat NULLs as distinct.
    scope_key = models.CharField(max_length=60, editable=False)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["scope", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "scope_key", "effective_from"],
                name="one_rate_per_scope_and_day",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="rate_not_negative"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        scope="task",
                        task__isnull=False,
                        project__isnull=False,
                        membership__isnull=True,
                    )
                    | models.Q(
                        scope="project_member",
                        project__isnull=False,
                        membership__isnull=False,
                        task__isnull=True,
                    )
                    | models.Q(
                        scope="project",
                        project__isnull=False,
                        task__isnull=True,
                        membership__isnull=True,
                    )
                    | models.Q(
                        scope="client",
                        client__isnull=False,
                        project__isnull=True,
                        task__isnull=True,
                        membership__isnull=True,
                    )
                    | models.Q(
                        scope="member",
                        membership__isnull=False,
                        client__isnull=True,
                        project__isnull=True,
                        task__isnull=True,
                    )
                    | models.Q(
                        scope="organization",
                        client__isnull=True,
                        project__isnull=True,
                        task__isnull=True,
                        membership__isnull=True,
                    )
                ),
                name="rate_scope_matches_targets",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="bill") | models.Q(scope="member"),
                name="cost_rates_are_per_member",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "kind", "scope_key", "effective_from"], name="rate_lookup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} from {self.effective_from}"

    @staticmethod
    def key_for(
        scope: str,
        *,
        client_id: int | None = None,
        project_id: int | None = None,
        task_id: int | None = None,
        membership_id: int | None = None,
    ) -> str:
        match scope:
            case RateScope.TASK:
                return f"task:{task_id}"
            case RateScope.PROJECT_MEMBER:
                return f"project_member:{project_id}:{membership_id}"
            case RateScope.PROJECT:
                return f"project:{project_id}"
            case RateScope.CLIENT:
                return f"client:{client_id}"
            case RateScope.MEMBER:
                return f"member:{membership_id}"
            case _:
                return "organization"

    @property
    def amount_display(self) -> Decimal:
        return self.amount.normalize() if self.amount == self.amount.to_integral() else self.amount
