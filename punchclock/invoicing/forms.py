"""Web forms for invoices: they parse input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from punchclock.accounts.models import Membership
from punchclock.clients.models import Client
from punchclock.invoicing.models import InvoiceKind, InvoiceStatus, TaxCategory, Unit
from punchclock.invoicing.services import GROUPINGS
from punchclock.projects.models import Project

DATE = forms.DateInput(attrs={"type": "date"})


def _model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


class PeriodFilterForm(forms.Form):
    """The period the unbilled page looks at; invalid input falls back to the defaults."""

    start = forms.DateField(label="From", widget=DATE)
    end = forms.DateField(label="To", widget=DATE)


class DraftForm(forms.Form):
    """Create a draft for one client from its unbilled work in a period."""

    client = forms.ModelChoiceField(queryset=Client.objects.none(), widget=forms.HiddenInput)
    period_start = forms.DateField(label="From", widget=DATE)
    period_end = forms.DateField(label="To", widget=DATE)
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All projects"
    )
    group_by = forms.ChoiceField(
        label="One line per", choices=[(g, g.capitalize()) for g in GROUPINGS], initial="project"
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = membership.organization_id
        _model_choice(self, "client").queryset = Client.objects.filter(organization_id=org)
        _model_choice(self, "project").queryset = Project.objects.filter(organization_id=org)


class InvoiceFilterForm(forms.Form):
    """The filters of the invoice list; invalid values are simply ignored."""

    status = forms.ChoiceField(choices=[("", "Any status"), *InvoiceStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *InvoiceKind.choices], required=False)
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "client").queryset = Client.objects.filter(
            organization_id=membership.organization_id
        ).order_by("name")

    def value(self, name: str) -> Any:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)

    def is_filtered(self) -> bool:
        return any(self.value(name) not in (None, "") for name in self.fields)


class LineForm(forms.Form):
    """A draft's line, edited inline or added as a free line."""

    description = forms.CharField(max_length=500)
    quantity = forms.DecimalField(max_digits=12, decimal_places=4)
    unit_price = forms.DecimalField(label="Unit price", max_digits=14, decimal_places=4)
    discount_percent = forms.DecimalField(
        label="Discount %", max_digits=7, decimal_places=4, min_value=0, max_value=100, initial=0
    )
    tax_rate = forms.DecimalField(
        label="Tax %", max_digits=6, decimal_places=3, min_value=0, max_value=100
    )

    EDITABLE = ("description", "quantity", "unit_price", "discount_percent", "tax_rate")


class AddLineForm(LineForm):
    """A free line: tax category and rate follow the client unless given."""

    unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.PIECE)

    tax_category = forms.ChoiceField(
        label="Tax", choices=[("", "As the client"), *TaxCategory.choices], required=False
    )
    tax_rate = forms.DecimalField(
        label="Tax %", max_digits=6, decimal_places=3, min_value=0, max_value=100, required=False
    )


class DiscountForm(forms.Form):
    discount_percent = forms.DecimalField(
        label="Invoice discount %", max_digits=7, decimal_places=4, min_value=0, max_value=100
    )
