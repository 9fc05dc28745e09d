"""The retainer form: it parses input; retainers.save_retainer decides."""

from __future__ import annotations

from typing import Any

from django import forms

from punchclock.accounts.models import Membership
from punchclock.automation.forms import ProjectChoice, _choice
from punchclock.automation.models import (
    Action,
    OveragePolicy,
    Retainer,
    RetainerFrequency,
    RetainerKind,
    UnusedPolicy,
)
from punchclock.clients.models import Client
from punchclock.invoicing.forms import DATE
from punchclock.projects.models import Project

RETAINER_FIELDS = [
    "name",
    "project",
    "kind",
    "included",
    "fee",
    "frequency",
    "starts_on",
    "ends_on",
    "overage",
    "overage_rate",
    "unused",
    "rollover_cap",
    "action",
]
GROUPS = [
    ("Whom and what", ["client", "project", "name"]),
    ("What the client buys", ["kind", "included", "fee", "frequency", "starts_on", "ends_on"]),
    ("At the period's close", ["overage", "overage_rate", "unused", "rollover_cap", "action"]),
]


class RetainerForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client…")
    project = ProjectChoice(
        queryset=Project.objects.none(),
        required=False,
        empty_label="All of the client's hourly projects",
        help_text="Draw down only this project's time.",
    )
    name = forms.CharField(max_length=100, required=False, help_text="e.g. Support retainer")
    kind = forms.ChoiceField(
        label="The client buys", choices=RetainerKind.choices, widget=forms.RadioSelect
    )
    included = forms.DecimalField(
        label="Included per period",
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Hours, or an amount of work in the client's currency.",
    )
    fee = forms.DecimalField(label="Fee per period", min_value=0, max_digits=12, decimal_places=2)
    frequency = forms.ChoiceField(
        label="Period", choices=RetainerFrequency.choices, widget=forms.RadioSelect
    )
    starts_on = forms.DateField(
        label="First day", widget=DATE, help_text="The first of a month (quarterly: of a quarter)."
    )
    ends_on = forms.DateField(
        label="Last day",
        required=False,
        widget=DATE,
        help_text="Optional: the last day of a period. Later time is billed as usual.",
    )
    overage = forms.ChoiceField(
        label="Time beyond the allowance", choices=OveragePolicy.choices, widget=forms.RadioSelect
    )
    overage_rate = forms.DecimalField(
        label="Overage rate per hour",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Hours retainers; empty: the project's or client's bill rate. "
        "Amount retainers bill overage at the work's own rates.",
    )
    unused = forms.ChoiceField(
        label="Unused allowance", choices=UnusedPolicy.choices, widget=forms.RadioSelect
    )
    rollover_cap = forms.DecimalField(
        label="Roll over at most",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="Empty: all of it.",
    )
    action = forms.ChoiceField(
        label="Then", choices=Action.choices, widget=forms.RadioSelect, initial=Action.DRAFT
    )

    def __init__(
        self, *args: Any, membership: Membership, retainer: Retainer | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {})
        for name, value in (
            ("kind", RetainerKind.HOURS),
            ("frequency", RetainerFrequency.MONTHLY),
            ("overage", OveragePolicy.BILL),
            ("unused", UnusedPolicy.EXPIRE),
        ):
            kwargs["initial"].setdefault(name, value)
        super().__init__(*args, **kwargs)
        org = membership.organization_id
        clients = Client.objects.filter(organization_id=org).order_by("name", "pk")
        if retainer is None:
            clients = clients.filter(is_archived=False)
        else:
            self.fields["client"].disabled = True
        _choice(self, "client").queryset = clients
        projects = Project.objects.filter(organization_id=org).select_related("client")
        _choice(self, "project").queryset = projects.order_by("client__name", "name", "pk")

    @staticmethod
    def initial_for(retainer: Retainer) -> dict[str, Any]:
        initial = {name: getattr(retainer, name) for name in RETAINER_FIELDS}
        return {**initial, "client": retainer.client_id, "project": retainer.project_id}

    def retainer_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in RETAINER_FIELDS}
