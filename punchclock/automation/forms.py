"""Web forms for billing schedules: they parse input; services.save_schedule decides."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from punchclock.accounts.models import Membership
from punchclock.automation.models import Action, BillingSchedule, Frequency
from punchclock.clients.models import Client
from punchclock.invoicing.forms import DATE
from punchclock.invoicing.services import GROUPINGS
from punchclock.projects.models import Project

GROUP_LABELS = {
    "project": "Project",
    "task": "Task",
    "person": "Person",
    "day": "Day",
    "entry": "Time entry",
    "summary": "One line for everything",
}
# The fields the form hands to save_schedule (the client only when creating).
SCHEDULE_FIELDS = [
    "project",
    "frequency",
    "day_of_month",
    "interval_weeks",
    "ends_on",
    "starts_on",
    "include_time",
    "include_expenses",
    "include_fixed_fees",
    "group_by",
    "action",
]
# The form's parts, as the page shows them.
GROUPS = [
    ("Whom to bill", ["client", "project"]),
    ("When", ["frequency", "day_of_month", "interval_weeks", "ends_on", "starts_on"]),
    ("What to bill", ["include_time", "include_expenses", "include_fixed_fees", "group_by"]),
    ("What to do with the invoice", ["action"]),
]


def _whole(low: int, high: int, what: str) -> dict[str, str]:
    message = f"{what} from {low} to {high}."
    return {"min_value": message, "max_value": message, "invalid": message}


def _choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """A model choice field of a form, typed as one: the stubs only know fields as Field."""
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


class ProjectChoice(forms.ModelChoiceField[Project]):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.client.name} · {obj.name}"


class ScheduleForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client…")
    project = ProjectChoice(
        queryset=Project.objects.none(),
        required=False,
        empty_label="All of the client's projects",
        help_text="Bill only this project's work; it must be one of the client's.",
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Frequency.choices,
        initial=Frequency.MONTHLY,
        widget=forms.RadioSelect,
    )
    day_of_month = forms.IntegerField(
        label="Day of the month",
        required=False,
        initial=1,
        min_value=1,
        max_value=31,
        error_messages=_whole(1, 31, "Choose a day"),
        help_text="Monthly and quarterly: the invoice is made on this day for the period "
        "before it. 29, 30 and 31 mean the last day in shorter months.",
    )
    interval_weeks = forms.IntegerField(
        label="Every how many weeks",
        required=False,
        initial=2,
        min_value=1,
        max_value=52,
        error_messages=_whole(1, 52, "Choose every"),
    )
    ends_on = forms.DateField(
        label="The project's last day",
        required=False,
        widget=DATE,
        help_text="Once, when the project ends: its work is billed the day after.",
    )
    starts_on = forms.DateField(
        label="First day",
        widget=DATE,
        help_text="The first period starts on this day; work before it is not billed.",
    )
    include_time = forms.BooleanField(label="Tracked time", required=False, initial=True)
    include_expenses = forms.BooleanField(label="Approved expenses", required=False, initial=True)
    include_fixed_fees = forms.BooleanField(label="Fixed fees", required=False, initial=True)
    group_by = forms.ChoiceField(
        label="One invoice line per",
        choices=[(g, GROUP_LABELS[g]) for g in GROUPINGS],
        initial="project",
    )
    action = forms.ChoiceField(
        label="Then",
        choices=Action.choices,
        initial=Action.DRAFT,
        widget=forms.RadioSelect,
        help_text="A draft waits for you; an issued invoice is numbered and final. "
        "Sending needs the client's billing email.",
    )

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        schedule: BillingSchedule | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        org = membership.organization_id
        clients = Client.objects.filter(organization_id=org).order_by("name", "pk")
        projects = Project.objects.filter(organization_id=org).select_related("client")
        if schedule is None:
            clients = clients.filter(is_archived=False)
        else:
            # A schedule keeps its client; the field shows whose schedule it is.
            self.fields["client"].disabled = True
        _choice(self, "client").queryset = clients
        _choice(self, "project").queryset = projects.order_by("client__name", "name", "pk")

    @staticmethod
    def initial_for(schedule: BillingSchedule) -> dict[str, Any]:
        initial = {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
        return {**initial, "client": schedule.client_id, "project": schedule.project_id}

    def schedule_fields(self) -> dict[str, Any]:
        """The cleaned values for save_schedule; a blank day or interval keeps the current one."""
        data = self.cleaned_data
        fields = {name: data[name] for name in SCHEDULE_FIELDS}
        for name in ("day_of_month", "interval_weeks"):
            if fields[name] is None:
                del fields[name]
        return fields


class ScheduleFilterForm(forms.Form):
    """The list's client filter; an unknown client is simply ignored."""

    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.filter(
            organization_id=membership.organization_id, schedules__isnull=False
        )
        _choice(self, "client").queryset = clients.distinct().order_by("name", "pk")
