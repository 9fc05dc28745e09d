"""Web forms for recurring invoices: they parse input; recurring.save_recurring decides."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from punchclock.accounts.models import Membership
from punchclock.api.schemas import amount_text
from punchclock.automation.forms import _choice, _whole
from punchclock.automation.models import Action, Billing, RecurringFrequency, RecurringInvoice
from punchclock.automation.recurring import LineSpec
from punchclock.automation.recurring_periods import PLACEHOLDERS
from punchclock.clients.models import Client
from punchclock.invoicing.forms import DATE
from punchclock.invoicing.models import Unit

# The fields the form hands to save_recurring (the client only when creating).
RECURRING_FIELDS = [
    "name",
    "frequency",
    "interval_months",
    "day_of_month",
    "billing",
    "starts_on",
    "ends_on",
    "cycles",
    "note",
    "action",
]
GROUPS = [
    ("Whom to bill", ["client", "name"]),
    ("When", ["frequency", "interval_months", "day_of_month", "billing", "starts_on"]),
    ("Until", ["ends_on", "cycles"]),
    ("What to do with the invoice", ["note", "action"]),
]
PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS) + "."
MOST_LINES = 100


class RecurringForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), empty_label="Choose a client…")
    name = forms.CharField(
        max_length=100, help_text="For you, on the lists: Hosting, Support plan, Maintenance."
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=RecurringFrequency.choices,
        initial=RecurringFrequency.MONTHLY,
        widget=forms.RadioSelect,
    )
    interval_months = forms.IntegerField(
        label="Every how many months",
        required=False,
        initial=1,
        min_value=1,
        max_value=120,
        error_messages=_whole(1, 120, "Choose every"),
    )
    day_of_month = forms.IntegerField(
        label="Issue day of the month",
        initial=1,
        min_value=1,
        max_value=31,
        error_messages=_whole(1, 31, "Choose a day"),
        help_text="29, 30 and 31 mean the last day in shorter months.",
    )
    billing = forms.ChoiceField(
        label="Bill",
        choices=Billing.choices,
        initial=Billing.ADVANCE,
        widget=forms.RadioSelect,
    )
    starts_on = forms.DateField(
        label="First period starts",
        widget=DATE,
        help_text="An issue day: the first period starts here.",
    )
    ends_on = forms.DateField(
        label="End date",
        required=False,
        widget=DATE,
        help_text="No period starting after this day is billed. Empty: open-ended.",
    )
    cycles = forms.IntegerField(
        label="Or stop after this many invoices",
        required=False,
        min_value=1,
        max_value=10_000,
        error_messages=_whole(1, 10_000, "Choose"),
    )
    note = forms.CharField(
        label="Message on the invoice",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=PLACEHOLDER_HELP,
    )
    action = forms.ChoiceField(
        label="Then",
        choices=Action.choices,
        initial=Action.DRAFT,
        widget=forms.RadioSelect,
        help_text="Sending needs the client's billing email.",
    )

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        recurring: RecurringInvoice | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.filter(organization_id=membership.organization_id)
        if recurring is None:
            clients = clients.filter(is_archived=False)
        else:
            self.fields["client"].disabled = True  # it keeps its client
        _choice(self, "client").queryset = clients.order_by("name", "pk")

    @staticmethod
    def initial_for(recurring: RecurringInvoice) -> dict[str, Any]:
        return {
            **{name: getattr(recurring, name) for name in RECURRING_FIELDS},
            "client": recurring.client_id,
        }

    def recurring_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in RECURRING_FIELDS}
        if fields["interval_months"] is None:
            del fields["interval_months"]
        return fields


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def parse_prices(text: str) -> tuple[tuple[date, Decimal], ...]:
    """'2027-01-01 59.00, 2028-01-01 65' → the price changes; ValueError names the bad one."""
    found = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        if not part.strip():
            continue
        pieces = part.split()
        if len(pieces) != 2:
            raise ValueError(part.strip())
        try:
            day = date.fromisoformat(pieces[0])
        except ValueError:
            raise ValueError(part.strip()) from None
        found.append((day, _decimal(pieces[1])))
    return tuple(found)


def prices_text(prices: Any) -> str:
    return ", ".join(f"{p.effective_from.isoformat()} {p.unit_price.normalize():f}" for p in prices)


class LineForm(forms.Form):
    """One line; a row left blank is skipped."""

    description = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Hosting {month} {year}"}),
    )
    quantity = forms.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal("0.0001"), required=False, initial=1
    )
    unit = forms.ChoiceField(choices=Unit.choices, initial=Unit.PIECE)
    unit_price = forms.DecimalField(
        label="Unit price", max_digits=14, decimal_places=4, required=False
    )
    tax_rate = forms.DecimalField(
        label="VAT %",
        max_digits=6,
        decimal_places=3,
        min_value=0,
        max_value=100,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "auto"}),
    )
    prices = forms.CharField(
        label="Price changes",
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "2027-01-01 59.00"}),
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("description") or "").strip() and data.get("unit_price") is None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() and not data.get("prices"):
            return data
        if not (data.get("description") or "").strip():
            self.add_error("description", "Describe the line.")
        if data.get("unit_price") is None and "unit_price" not in self.errors:
            self.add_error("unit_price", "Give the unit price.")
        if data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", "Give the quantity.")
        try:
            data["price_changes"] = parse_prices(data.get("prices") or "")
        except ValueError as exc:
            self.add_error("prices", f"Write each change as YYYY-MM-DD price, not “{exc}”.")
        return data

    def spec(self) -> LineSpec:
        data = self.cleaned_data
        return LineSpec(
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            unit=data["unit"],
            tax_rate=data["tax_rate"],
            prices=data.get("price_changes", ()),
        )


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=MOST_LINES, absolute_max=MOST_LINES)


def line_initial(recurring: RecurringInvoice) -> list[dict[str, Any]]:
    return [
        {
            "description": line.description,
            "quantity": line.quantity.normalize(),
            "unit": line.unit,
            "unit_price": amount_text(line.unit_price, recurring.client.currency),
            "tax_rate": line.tax_rate,
            "prices": prices_text(line.prices.all()),
        }
        for line in recurring.lines.all()
    ]


def line_specs(formset: Any) -> list[LineSpec]:
    return [form.spec() for form in formset.forms if not form.is_blank()]


class RecurringFilterForm(forms.Form):
    """The list's client filter; an unknown client is simply ignored."""

    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.filter(
            organization_id=membership.organization_id,
            recurring_invoices__deleted_at__isnull=True,
            recurring_invoices__isnull=False,
        )
        _choice(self, "client").queryset = clients.distinct().order_by("name", "pk")
