"""Web forms for projects, tasks, assignments and rates: they parse; services decide."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from punchclock.accounts.models import Membership, Organization
from punchclock.clients.forms import (
    FieldGroup,
    QuickSelect,
    choice_field,
    currency_choices,
    field_groups,
)
from punchclock.clients.models import Client
from punchclock.projects.models import (
    BillingMethod,
    BudgetKind,
    Project,
    RoundingDirection,
    RoundingScope,
    Task,
)

ROUNDING_CHOICES = [
    (0, "No rounding"),
    (1, "1 minute"),
    (5, "5 minutes"),
    (6, "6 minutes (a tenth of an hour)"),
    (10, "10 minutes"),
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
]
PROJECT_FIELDS = [
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
]


class AmountField(forms.DecimalField):
    """A decimal that also accepts a decimal comma (95,50) as people in Europe type it."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace(" ", "").replace("\u00a0", "")
            if "," in value and "." not in value:
                value = value.replace(",", ".")
        return super().to_python(value)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client…")
    name = forms.CharField(max_length=200)
    code = forms.SlugField(
        max_length=40,
        required=False,
        help_text="Short code for the command line: punch start client/code. "
        "Leave empty to derive it from the name.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    billing_method = forms.ChoiceField(
        choices=BillingMethod.choices,
        help_text="Hourly projects bill tracked time at the rate that applies "
        "(project, task or person rate); fixed-fee projects bill the fee.",
    )
    fixed_fee = AmountField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Only for fixed-fee projects, in the client's currency.",
    )
    budget_kind = forms.ChoiceField(
        label="Budget", choices=BudgetKind.choices, help_text="Track time or money against a limit."
    )
    budget_hours = AmountField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="For an hours budget.",
    )
    budget_amount = AmountField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="For an amount budget, in the client's currency.",
    )
    budget_alert_percent = forms.IntegerField(
        label="Budget alert at (%)",
        min_value=1,
        max_value=100,
        initial=80,
        help_text="Warn when this share of the budget is used.",
    )
    billable_default = forms.BooleanField(
        label="New time is billable by default", required=False, initial=True
    )
    rounding_minutes = forms.TypedChoiceField(
        label="Round billed time to",
        choices=ROUNDING_CHOICES,
        coerce=int,
        initial=0,
        help_text="Rounding applies when invoicing; tracked time is never changed.",
    )
    rounding_direction = forms.ChoiceField(
        label="Rounding direction",
        choices=RoundingDirection.choices,
        help_text="Up bills every started increment; nearest rounds half up.",
    )
    rounding_scope = forms.ChoiceField(
        label="Round",
        choices=RoundingScope.choices,
        required=False,
        initial=RoundingScope.ENTRY,
        help_text="Per day and task: a person's entries of one task on one day are added up "
        "and rounded once.",
    )

    def clean_rounding_scope(self) -> str:
        return self.cleaned_data.get("rounding_scope") or RoundingScope.ENTRY

    def __init__(
        self, *args: Any, organization_id: int, project: Project | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].wide = True  # type: ignore[attr-defined]
        if project is None:
            self.fields["client"].queryset = Client.objects.filter(  # type: ignore[attr-defined]
                organization_id=organization_id, is_archived=False
            ).order_by("name")
            self.fields["name"].widget.attrs["autofocus"] = True
            self.fields["code"].widget.attrs["placeholder"] = "derived from the name"
        else:
            # A project stays with its client: invoices and rates depend on the client.
            del self.fields["client"]
            self.fields["code"].required = True
            self.fields[
                "code"
            ].help_text = (
                f"Short code for the command line: punch start {project.client.code}/code."
            )
            minutes = project.rounding_minutes
            if minutes not in dict(ROUNDING_CHOICES):
                field = self.fields["rounding_minutes"]
                field.choices = [*ROUNDING_CHOICES, (minutes, f"{minutes} minutes")]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(project: Project) -> dict[str, Any]:
        return {name: getattr(project, name) for name in PROJECT_FIELDS}

    def groups(self) -> list[FieldGroup]:
        return field_groups(
            self,
            [
                ("Project", ["client", "name", "code", "description"]),
                ("Billing", ["billing_method", "fixed_fee", "billable_default"]),
                (
                    "Budget",
                    ["budget_kind", "budget_hours", "budget_amount", "budget_alert_percent"],
                ),
                ("Rounding", ["rounding_minutes", "rounding_direction", "rounding_scope"]),
            ],
        )


class ProjectFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or code", "type": "search"}),
    )
    client = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=())
    status = forms.ChoiceField(
        required=False,
        choices=[("active", "Active"), ("archived", "Archived"), ("all", "All statuses")],
    )
    billing_method = forms.ChoiceField(
        required=False, choices=[("", "All billing methods"), *BillingMethod.choices]
    )

    def __init__(self, *args: Any, clients: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "client").choices = [("", "All clients"), *clients]

    def value(self, name: str) -> Any:
        """A cleaned filter value, or empty when the input was not valid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)


class TaskForm(forms.Form):
    name = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Task name"})
    )
    billable_default = forms.BooleanField(label="Billable", required=False, initial=True)


class AssignForm(forms.Form):
    membership = forms.ModelChoiceField(
        label="Person", queryset=Membership.objects.none(), empty_label="Choose a person…"
    )
    is_manager = forms.BooleanField(label="Project manager", required=False)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        field.queryset = (  # type: ignore[attr-defined]
            Membership.objects.filter(organization_id=project.organization_id, is_active=True)
            .exclude(assignments__project=project)
            .select_related("user")
            .order_by("user__name", "user__email")
        )
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.user.display_name} ({m.get_role_display()})"
        )


# Rates ---------------------------------------------------------------------------------


class RateForm(forms.Form):
    """An hourly rate from a date on; the currency is the client's where one applies."""

    amount = AmountField(
        label="Hourly rate", widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    effective_from = forms.DateField(
        label="Effective from",
        widget=_date_input(),
        help_text="Applies to work from this day on.",
    )

    def __init__(self, *args: Any, today: date, currency: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = today
        if currency:
            self.fields["amount"].label = f"Hourly rate ({currency})"


class CurrencyRateForm(RateForm):
    """A rate not tied to a client, so its currency is chosen (organization default rates)."""

    currency = forms.ChoiceField(choices=(), widget=QuickSelect)

    def __init__(self, *args: Any, default_currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "currency").choices = currency_choices()
        self.fields["currency"].initial = default_currency


def _people(organization_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id=organization_id, is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


class PersonRateForm(CurrencyRateForm):
    membership = forms.ModelChoiceField(
        label="Person", queryset=Membership.objects.none(), empty_label="Choose a person…"
    )
    field_order = ["membership", "amount", "currency", "effective_from"]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        field.queryset = _people(organization_id)  # type: ignore[attr-defined]
        field.label_from_instance = lambda m: m.user.display_name  # type: ignore[attr-defined]


class CostRateForm(RateForm):
    """What an hour of a person costs the organization, in its own currency."""

    membership = forms.ModelChoiceField(
        label="Person", queryset=Membership.objects.none(), empty_label="Choose a person…"
    )
    field_order = ["membership", "amount", "effective_from"]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        field.queryset = _people(organization_id)  # type: ignore[attr-defined]
        field.label_from_instance = lambda m: m.user.display_name  # type: ignore[attr-defined]
        self.fields["amount"].label = "Hourly cost"


class ClientRateForm(RateForm):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client…")
    currency = forms.ChoiceField(
        required=False,
        choices=(),
        widget=QuickSelect,
        help_text="Client rates are in the client's currency.",
    )
    field_order = ["client", "amount", "currency", "effective_from"]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id, is_archived=False
        ).order_by("name")
        choice_field(self, "currency").choices = [
            ("", "The client's currency"),
            *currency_choices(),
        ]


class ProjectRateForm(RateForm):
    """A rate on a project: for everyone, for one person on it, or for one task."""

    applies_to = forms.ChoiceField(label="Applies to", choices=())
    field_order = ["applies_to", "amount", "effective_from"]

    def __init__(
        self, *args: Any, people: list[Membership], tasks: list[Task], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._people = {f"member:{m.pk}": m for m in people}
        self._tasks = {f"task:{t.pk}": t for t in tasks}
        choice_field(self, "applies_to").choices = [
            ("project", "Everyone on the project"),
            *((key, f"{m.user.display_name} on this project") for key, m in self._people.items()),
            *((key, f"Task: {t.name}") for key, t in self._tasks.items()),
        ]

    def targets(self) -> dict[str, Any]:
        """The set_rate arguments naming what the rate applies to."""
        choice = self.cleaned_data["applies_to"]
        if choice in self._people:
            return {"membership": self._people[choice]}
        if choice in self._tasks:
            return {"task": self._tasks[choice]}
        return {}


def organization_rate_form(
    scope: str, organization: Organization, *, today: date, data: Any = None
) -> RateForm:
    """The add form of one section of the rates page: organization, member, cost or client."""
    auto_id = f"id_{scope}_%s"
    if scope == "organization":
        return CurrencyRateForm(
            data, today=today, default_currency=organization.default_currency, auto_id=auto_id
        )
    if scope == "member":
        return PersonRateForm(
            data,
            today=today,
            default_currency=organization.default_currency,
            organization_id=organization.pk,
            auto_id=auto_id,
        )
    if scope == "cost":
        return CostRateForm(data, today=today, organization_id=organization.pk, auto_id=auto_id)
    return ClientRateForm(data, today=today, organization_id=organization.pk, auto_id=auto_id)
