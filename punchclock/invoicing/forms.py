"""Web forms for invoices: they parse input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms

from punchclock.accounts.models import Membership
from punchclock.clients.models import Client
from punchclock.invoicing.models import FontStyle, InvoiceKind, InvoiceStatus, TaxCategory, Unit
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
    fee_percent = forms.DecimalField(
        label="Milestone % of the fixed fee",
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=100,
        help_text="Fixed-fee project only; empty bills what is left of the fee.",
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
    surcharge_percent = forms.DecimalField(
        label="Surcharge %",
        max_digits=7,
        decimal_places=4,
        min_value=0,
        max_value=1000,
        initial=0,
        required=False,
        help_text="e.g. 50 for weekend work",
    )
    tax_rate = forms.DecimalField(
        label="Tax %", max_digits=6, decimal_places=3, min_value=0, max_value=100
    )

    def clean_surcharge_percent(self) -> Decimal:
        return self.cleaned_data.get("surcharge_percent") or Decimal(0)

    EDITABLE = (
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "surcharge_percent",
        "tax_rate",
    )


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
    """Discount and surcharge on the whole invoice (document allowance and charge)."""

    discount_percent = forms.DecimalField(
        label="Invoice discount %", max_digits=7, decimal_places=4, min_value=0, max_value=100
    )
    surcharge_percent = forms.DecimalField(
        label="Surcharge %",
        max_digits=7,
        decimal_places=4,
        min_value=0,
        max_value=1000,
        initial=0,
        required=False,
    )
    surcharge_reason = forms.CharField(
        label="Surcharge for",
        max_length=100,
        required=False,
        help_text="Printed on the invoice, e.g. “Rush delivery”",
    )


def _wide(field: forms.Field) -> forms.Field:
    field.wide = True  # type: ignore[attr-defined]
    return field


class DetailsForm(forms.Form):
    """What a draft says besides its lines."""

    message = _wide(
        forms.CharField(
            label="Personal message",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Printed above the lines; the client's default message fills it in.",
        )
    )
    tax_note = forms.CharField(
        label="Exemption reason",
        max_length=300,
        required=False,
        help_text="Required for VAT-exempt lines, e.g. “Exempt under § 4 Nr. 14 UStG”.",
    )
    time_appendix = forms.BooleanField(
        label="Add the time record (billed entries) as an appendix", required=False
    )
    purchase_order_reference = forms.CharField(
        label="Purchase order number", max_length=100, required=False
    )
    contract_reference = forms.CharField(label="Contract reference", max_length=100, required=False)
    project_reference = forms.CharField(label="Project reference", max_length=100, required=False)


class SendForm(forms.Form):
    to = forms.CharField(label="To", max_length=1000, help_text="Separate addresses by commas.")
    cc = forms.CharField(label="Cc", max_length=1000, required=False)
    bcc = forms.CharField(label="Bcc", max_length=1000, required=False)
    subject = _wide(forms.CharField(max_length=200))
    body = _wide(forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 10})))


class CreditForm(forms.Form):
    """A credit note for some or all remaining lines, dated today unless given."""

    lines = _wide(
        forms.MultipleChoiceField(
            label="Lines to credit", widget=forms.CheckboxSelectMultiple, required=False
        )
    )
    issue_date = forms.DateField(label="Date of the credit note", widget=DATE, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.MultipleChoiceField", self.fields["lines"]).choices = choices


class InvoiceSettingsForm(forms.Form):
    footer_text = _wide(
        forms.CharField(
            label="Footer text",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="Printed at the end of every document, e.g. registration details.",
        )
    )
    font = forms.ChoiceField(
        label="Typeface", choices=FontStyle.choices, initial=FontStyle.SANS, required=False
    )
    bcc = forms.EmailField(
        label="Always copy to",
        required=False,
        help_text="A blind copy of every invoice email, e.g. for your bookkeeping.",
    )

    def clean_font(self) -> str:
        return self.cleaned_data.get("font") or FontStyle.SANS


class TemplateUploadForm(forms.Form):
    template = forms.FileField(
        label="Typst template (.typ)",
        help_text="Start from the default template; it reads the invoice from sys.inputs.",
    )


class EmailTemplateForm(forms.Form):
    subject = _wide(forms.CharField(max_length=200))
    body = _wide(forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 9})))
