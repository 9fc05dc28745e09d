"""Web forms for clients and contacts: they parse input; the services decide."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from html import escape
from typing import Any, cast

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from punchclock.clients.models import Client, Contact, EInvoiceFormat, TaxTreatment
from punchclock.core.money import currency_codes

COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
# Two-letter codes CLDR knows that are not countries one can bill (regions, test codes).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


@cache
def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries by English name, as babel (CLDR) names them."""
    territories = Locale("en").territories
    countries = [
        (code, str(name))
        for code, name in territories.items()
        if re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_COUNTRIES
    ]
    return sorted(countries, key=lambda pair: pair[1])


@cache
def currency_choices() -> list[tuple[str, Any]]:
    """ISO 4217 currencies: the common ones, the others in use today, then historic ones."""
    in_use: set[str] = set()
    today = date.today()  # noqa: DTZ011 - which currencies circulate; a day either way is fine
    for territory in Locale("en").territories:
        in_use.update(get_territory_currencies(str(territory), today, tender=True))
    rest = [c for c in sorted(currency_codes()) if c not in COMMON_CURRENCIES]

    def label(code: str) -> tuple[str, str]:
        return (code, f"{code} – {get_currency_name(code, locale='en')}")

    return [
        ("Common", [label(c) for c in COMMON_CURRENCIES]),
        ("Other currencies", [label(c) for c in rest if c in in_use]),
        ("No longer in use", [label(c) for c in rest if c not in in_use]),
    ]


class QuickSelect(forms.Select):
    """A select rendered in one pass. Django renders every option through a template, which
    costs tens of milliseconds for 250 countries or 300 currencies on every form."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [
            format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))
        ]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(f'<optgroup label="{escape(str(group))}">')
            parts += [
                f'<option value="{escape(str(option["value"]))}"'
                f"{' selected' if option['selected'] else ''}>{escape(str(option['label']))}"
                "</option>"
                for option in options
            ]
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        # Every value and label above is escaped (stdlib html.escape, quotes included).
        return mark_safe("".join(parts))


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A choice field of a form, typed as one: the stubs only know fields as Field."""
    return cast(forms.ChoiceField, form.fields[name])


@dataclass
class FieldGroup:
    """A titled part of a form, shaped so partials/form_fields.html can render it."""

    title: str
    visible_fields: list[forms.BoundField]
    hidden_fields: list[forms.BoundField] = field(default_factory=list)
    non_field_errors: Any = ()


def field_groups(form: forms.BaseForm, groups: list[tuple[str, list[str]]]) -> list[FieldGroup]:
    """Split a form into titled groups; the form's own errors go with the first group."""
    result = []
    for index, (title, names) in enumerate(groups):
        bound = [form[name] for name in names if name in form.fields]
        result.append(
            FieldGroup(
                title,
                bound,
                hidden_fields=form.hidden_fields() if index == 0 else [],
                non_field_errors=form.non_field_errors() if index == 0 else (),
            )
        )
    return result


class ClientForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="As it should appear on invoices.")
    code = forms.SlugField(
        max_length=40,
        required=False,
        help_text="Short code for the command line, e.g. acme in punch start acme/api. "
        "Leave empty to derive it from the name.",
    )
    email = forms.EmailField(
        label="Billing email", required=False, help_text="Where invoices are sent."
    )
    address_line1 = forms.CharField(label="Address", max_length=200, required=False)
    address_line2 = forms.CharField(label="Address (line 2)", max_length=200, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(label="Region or state", max_length=100, required=False)
    country = forms.ChoiceField(choices=(), widget=QuickSelect)
    vat_id = forms.CharField(
        label="VAT ID",
        max_length=30,
        required=False,
        help_text="With country prefix, e.g. FR44732829320. Needed for EU reverse charge.",
    )
    currency = forms.ChoiceField(
        choices=(),
        widget=QuickSelect,
        help_text="Invoices and this client's rates are in this currency.",
    )
    language = forms.ChoiceField(choices=LANGUAGES, help_text="Language of invoices and emails.")
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        min_value=0,
        max_value=365,
        initial=30,
        help_text="Days between the invoice date and the due date; 0 means due on receipt.",
    )
    tax_treatment = forms.ChoiceField(
        choices=TaxTreatment.choices,
        help_text="How VAT is applied to this client's invoices.",
    )
    invoice_cc = forms.CharField(
        label="Copies of invoices to",
        max_length=500,
        required=False,
        help_text="Addresses separated by commas; billing contacts are copied too.",
    )
    invoice_message = forms.CharField(
        label="Message on invoices",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Printed on each new invoice for this client; editable per invoice.",
    )
    einvoice_format = forms.ChoiceField(
        label="E-invoice format",
        choices=EInvoiceFormat.choices,
        initial=EInvoiceFormat.FACTURX,
        required=False,
        help_text="Attached to invoice emails; XRechnung for German public clients.",
    )
    buyer_reference = forms.CharField(
        label="Buyer reference / Leitweg-ID",
        max_length=100,
        required=False,
        help_text="BT-10: the reference the client's accounts payable route invoices by.",
    )
    electronic_address = forms.CharField(
        label="E-invoicing address",
        max_length=200,
        required=False,
        help_text="BT-49, e.g. the client's e-invoice inbox or Peppol ID.",
    )
    electronic_address_scheme = forms.CharField(
        label="Address scheme (EAS)",
        max_length=4,
        required=False,
        help_text="EM for email, 0088 for a GLN, 0204 for a Leitweg-ID, 9930 for a German VAT ID.",
    )
    requires_purchase_order = forms.BooleanField(
        label="Needs a purchase order number on every invoice", required=False
    )
    online_payment = forms.BooleanField(
        label="May pay online by card",
        required=False,
        initial=True,
        help_text="Offered when your organization has Stripe switched on.",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Only visible to your team.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "country").choices = [("", "Choose a country…"), *country_choices()]
        choice_field(self, "currency").choices = currency_choices()
        self.fields["notes"].wide = True  # type: ignore[attr-defined]
        self.fields["invoice_message"].wide = True  # type: ignore[attr-defined]
        self.fields["name"].widget.attrs["autofocus"] = True
        if editing:
            # An existing client keeps a code: the CLI and scripts may rely on it.
            self.fields["code"].required = True
            self.fields[
                "code"
            ].help_text = "Short code for the command line, e.g. acme in punch start acme/api."
        else:
            self.fields["code"].widget.attrs["placeholder"] = "derived from the name"

    def clean_einvoice_format(self) -> str:
        return self.cleaned_data.get("einvoice_format") or EInvoiceFormat.FACTURX

    @staticmethod
    def initial_for(client: Client) -> dict[str, Any]:
        return {name: getattr(client, name) for name in ClientForm.base_fields}

    def groups(self) -> list[FieldGroup]:
        return field_groups(
            self,
            [
                ("Client", ["name", "code", "email"]),
                (
                    "Address",
                    ["address_line1", "address_line2", "postal_code", "city", "region", "country"],
                ),
                (
                    "Invoicing",
                    ["currency", "language", "payment_terms_days", "tax_treatment", "vat_id"],
                ),
                ("Invoice emails", ["invoice_cc", "invoice_message", "online_payment"]),
                (
                    "E-invoicing",
                    [
                        "einvoice_format",
                        "buyer_reference",
                        "electronic_address",
                        "electronic_address_scheme",
                        "requires_purchase_order",
                    ],
                ),
                ("Notes", ["notes"]),
            ],
        )


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    role = forms.CharField(max_length=100, required=False, help_text="e.g. Head of IT")
    phone = forms.CharField(max_length=40, required=False)
    is_billing_contact = forms.BooleanField(
        label="Billing contact", required=False, help_text="Receives invoices and reminders."
    )

    @staticmethod
    def initial_for(contact: Contact) -> dict[str, Any]:
        return {name: getattr(contact, name) for name in ContactForm.base_fields}


class ClientFilterForm(forms.Form):
    """The filters of the client list; invalid values are simply ignored."""

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or code", "type": "search"}),
    )
    currency = forms.ChoiceField(required=False, choices=())
    archived = forms.BooleanField(required=False, label="Show archived")

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "currency").choices = [
            ("", "All currencies"),
            *((c, c) for c in currencies),
        ]

    def value(self, name: str) -> Any:
        """A cleaned filter value, or empty when the input was not valid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)
