"""Web forms for expenses: they parse input; the services decide (and price)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, visible_clients, visible_projects
from punchclock.clients.forms import FieldGroup, QuickSelect, currency_choices, field_groups
from punchclock.clients.models import Client
from punchclock.core.money import round_money
from punchclock.expenses.models import Expense, ExpenseCategory, ExpenseStatus
from punchclock.expenses.services import ExpenseInput
from punchclock.projects.models import Project, ProjectStatus

RECEIPT_ACCEPT = "application/pdf,image/png,image/jpeg,image/webp"
YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
BILLABLE_CHOICES = [("", "As the category says"), ("yes", "Billable"), ("no", "Not billable")]


def _model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the service, not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": RECEIPT_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def read_uploads(files: list[UploadedFile]) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes), which is what the services take."""
    return [(upload.name or "receipt", upload.read()) for upload in files]


def _plain(number: Decimal) -> str:
    """19.000 as 19 and 0.250 as 0.25, never 1E+2."""
    return format(number.normalize(), "f")


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ExpenseCategory) -> str:
        if obj.is_unit_based:
            return f"{obj.name} ({obj.unit} × {obj.unit_price:.2f})"
        return obj.name


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.client.name} · {obj.name}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.display_name


class ExpenseForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="Choose a client…"
    )
    project = ProjectChoiceField(
        queryset=Project.objects.none(),
        required=False,
        empty_label="No project",
        help_text="The project decides the client when both are given.",
    )
    category = CategoryChoiceField(
        queryset=ExpenseCategory.objects.none(), empty_label="Choose a category…"
    )
    spent_on = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(max_length=300)
    vendor = forms.CharField(max_length=200, required=False, help_text="Who was paid.")
    amount = forms.CharField(
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
        help_text="As on the receipt.",
    )
    currency = forms.ChoiceField(choices=(), widget=QuickSelect, required=False)
    quantity = forms.CharField(
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    tax_rate = forms.CharField(
        label="Tax rate %",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    amount_includes_tax = forms.BooleanField(label="Amount includes tax", required=False)
    billable = forms.ChoiceField(choices=BILLABLE_CHOICES, required=False)
    markup_percent = forms.CharField(
        label="Markup %",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    reimbursable = forms.BooleanField(
        label="Paid personally (reimburse me)",
        required=False,
    )
    exchange_rate = forms.CharField(
        label="Exchange rate",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "from the rates"}),
        help_text="Only to override the stored rate: client-currency units for one unit "
        "of the expense currency.",
    )
    receipts = MultipleFileField(
        label="Receipts",
        required=False,
        help_text="PDF, PNG, JPEG or WebP; you can pick several files.",
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization = membership.organization
        _model_choice(self, "client").queryset = visible_clients(membership).filter(
            is_archived=False
        )
        _model_choice(self, "project").queryset = (
            visible_projects(membership)
            .filter(status=ProjectStatus.ACTIVE)
            .select_related("client")
            .order_by("client__name", "name")
        )
        categories = ExpenseCategory.objects.filter(organization=organization, is_archived=False)
        _model_choice(self, "category").queryset = categories
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = currency_choices()
        units = [c for c in categories if c.is_unit_based]
        self.fields["quantity"].help_text = (
            "Only for "
            + ", ".join(
                f"{c.name}: {c.unit} × {c.unit_price:.2f} {organization.default_currency}"
                for c in units
            )
            + "; the amount is then computed."
            if units
            else "Only for per-unit categories."
        )
        self.fields["tax_rate"].widget.attrs["placeholder"] = "category default"
        self.fields["markup_percent"].widget.attrs["placeholder"] = "category default"
        self.fields["description"].widget.attrs["autofocus"] = True
        self.fields["description"].wide = True  # type: ignore[attr-defined]
        self.fields["receipts"].wide = True  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(expense: Expense) -> dict[str, Any]:
        return {
            "client": expense.client_id,
            "project": expense.project_id,
            "category": expense.category_id,
            "spent_on": expense.spent_on,
            "description": expense.description,
            "vendor": expense.vendor,
            "amount": ""
            if expense.quantity is not None
            else round_money(expense.amount, expense.currency),
            "currency": expense.currency,
            "quantity": _plain(expense.quantity) if expense.quantity is not None else "",
            "tax_rate": _plain(expense.tax_rate),
            "amount_includes_tax": expense.amount_includes_tax,
            "billable": "yes" if expense.billable else "no",
            "markup_percent": _plain(expense.markup_percent),
            "reimbursable": expense.reimbursable,
            "exchange_rate": expense.exchange_rate if expense.rate_source == "manual" else "",
        }

    def groups(self) -> list[FieldGroup]:
        layout = [
            ("What", ["description", "vendor", "spent_on", "category"]),
            ("For", ["client", "project", "billable", "reimbursable"]),
            (
                "Amount",
                ["amount", "currency", "quantity", "tax_rate", "amount_includes_tax"],
            ),
            ("Billing", ["markup_percent", "exchange_rate"]),
            ("Receipts", ["receipts"]),
        ]
        return field_groups(self, layout)

    def to_input(self) -> ExpenseInput:
        """What the service needs; fields that did not parse are simply left out."""
        data = getattr(self, "cleaned_data", {})
        billable = data.get("billable")
        return ExpenseInput(
            client=data.get("client"),
            project=data.get("project"),
            category=data.get("category"),
            spent_on=data.get("spent_on"),
            description=data.get("description", ""),
            vendor=data.get("vendor", ""),
            amount=data.get("amount") or None,
            quantity=data.get("quantity") or None,
            currency=data.get("currency", ""),
            tax_rate=data.get("tax_rate") or None,
            amount_includes_tax=bool(data.get("amount_includes_tax")),
            billable=None if not billable else billable == "yes",
            markup_percent=data.get("markup_percent") or None,
            reimbursable=bool(data.get("reimbursable")),
            exchange_rate=data.get("exchange_rate") or None,
        )


class ExpenseFilterForm(forms.Form):
    """The filters of the expense list; invalid values are simply ignored."""

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )
    project = ProjectChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All projects"
    )
    category = CategoryChoiceField(
        queryset=ExpenseCategory.objects.none(), required=False, empty_label="All categories"
    )
    person = PersonChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="Everyone"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *ExpenseStatus.choices], required=False)
    billable = forms.ChoiceField(choices=YES_NO, required=False)
    reimbursable = forms.ChoiceField(choices=YES_NO, required=False)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "client").queryset = visible_clients(membership)
        projects = visible_projects(membership).select_related("client")
        _model_choice(self, "project").queryset = projects.order_by("client__name", "name")
        _model_choice(self, "category").queryset = ExpenseCategory.objects.filter(
            organization_id=membership.organization_id
        )
        if can(membership, "expenses.view_all"):
            _model_choice(self, "person").queryset = Membership.objects.filter(
                organization_id=membership.organization_id
            ).select_related("user")
        else:
            del self.fields["person"]

    def value(self, name: str) -> Any:
        """A cleaned filter value, or empty when the input was not valid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)

    def is_filtered(self) -> bool:
        return any(self.value(name) not in (None, "") for name in self.fields)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(max_length=2000, required=False)


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    unit = forms.CharField(
        max_length=20, required=False, help_text="e.g. km; leave empty for plain amounts."
    )
    unit_price = forms.DecimalField(
        label="Price per unit",
        max_digits=12,
        decimal_places=4,
        min_value=0,
        required=False,
        help_text="In the organization's currency.",
    )
    default_tax_rate = forms.DecimalField(
        label="Default tax %", max_digits=6, decimal_places=3, min_value=0, max_value=100, initial=0
    )
    default_markup_percent = forms.DecimalField(
        label="Default markup %",
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=1000,
        initial=0,
    )
    billable_default = forms.BooleanField(label="Billable by default", required=False, initial=True)

    @staticmethod
    def initial_for(category: ExpenseCategory) -> dict[str, Any]:
        return {name: getattr(category, name) for name in CategoryForm.base_fields}


class RatesFileForm(forms.Form):
    file = forms.FileField(
        label="ECB reference rates (XML)",
        help_text="eurofxref-daily.xml, eurofxref-hist-90d.xml or eurofxref-hist.xml from the "
        "ECB website.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,text/xml,application/xml"}),
    )


class ManualRateForm(forms.Form):
    currency = forms.ChoiceField(choices=(), widget=QuickSelect)
    rate = forms.DecimalField(
        label="Units per euro", max_digits=18, decimal_places=8, help_text="1 EUR = this many."
    )
    on = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["currency"]).choices = currency_choices()


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The period ends before it starts.")
        return data
