"""The statement upload form: a file, and for CSV exports the column mapping."""

from __future__ import annotations

from typing import Any

from django import forms

from punchclock.clients.forms import QuickSelect, currency_choices
from punchclock.payments.bank import fields_of_mapping, mapping_from_fields
from punchclock.payments.statements import CsvMapping

DATE_FORMATS = [
    ("%Y-%m-%d", "YYYY-MM-DD (2026-03-31)"),
    ("%d.%m.%Y", "DD.MM.YYYY (31.03.2026)"),
    ("%d.%m.%y", "DD.MM.YY (31.03.26)"),
    ("%d/%m/%Y", "DD/MM/YYYY (31/03/2026)"),
    ("%m/%d/%Y", "MM/DD/YYYY (03/31/2026)"),
    ("%d-%m-%Y", "DD-MM-YYYY (31-03-2026)"),
    ("%Y%m%d", "YYYYMMDD (20260331)"),
]
DELIMITERS = [("", "Recognise"), (";", "Semicolon ;"), (",", "Comma ,"), ("\t", "Tab"), ("|", "|")]


def _column(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, max_length=100, required=False)


GROUPS = [
    ("Statement", ["file"]),
    (
        "CSV columns (as named in the header row)",
        [
            "date_column",
            "amount_column",
            "credit_column",
            "debit_column",
            "reference_columns",
            "counterparty_column",
            "iban_column",
            "bank_reference_column",
            "currency_column",
        ],
    ),
    (
        "CSV format",
        ["default_currency", "date_format", "decimal_comma", "delimiter", "skip_rows"],
    ),
]


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label="Bank statement",
        help_text="CAMT.053 (XML) or a CSV export of your account; recognised by its content.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,.csv,.txt,text/xml,text/csv"}),
    )
    date_column = _column("Booking date")
    amount_column = _column("Amount", "One signed amount; or leave empty and name the two below.")
    credit_column = _column("Credit (money received)")
    debit_column = _column("Debit (money paid out)")
    reference_columns = forms.CharField(
        label="Payment text",
        help_text="Several columns: separate their names with commas.",
        max_length=300,
        required=False,
    )
    counterparty_column = _column("Payer / payee name")
    iban_column = _column("Payer / payee IBAN")
    bank_reference_column = _column(
        "Transaction id", "The bank's own id for each booking, if the export has one."
    )
    currency_column = _column("Currency")
    default_currency = forms.ChoiceField(
        label="Currency when none is given", choices=(), widget=QuickSelect, required=False
    )
    date_format = forms.ChoiceField(label="Date format", choices=DATE_FORMATS, required=False)
    decimal_comma = forms.BooleanField(label="Decimal comma (1.234,56)", required=False)
    delimiter = forms.ChoiceField(label="Column separator", choices=DELIMITERS, required=False)
    skip_rows = forms.IntegerField(
        label="Lines before the header", min_value=0, max_value=1000, initial=0, required=False
    )

    def __init__(self, *args: Any, saved: CsvMapping | None, currency: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", _initial(saved, currency))
        super().__init__(*args, **kwargs)
        self.currency = currency
        formats = list(DATE_FORMATS)
        if saved is not None and saved.date_format not in dict(formats):
            formats.append((saved.date_format, saved.date_format))  # set through the API
        self.fields["date_format"].choices = formats  # type: ignore[attr-defined]
        self.fields["default_currency"].choices = currency_choices()  # type: ignore[attr-defined]

    def mapping(self) -> CsvMapping | None:
        """The CSV mapping the fields describe (None: no column named); ValidationError."""
        return mapping_from_fields(self.cleaned_data, currency=self.currency)


def _initial(saved: CsvMapping | None, currency: str) -> dict[str, Any]:
    if saved is None:
        return {"default_currency": currency, "skip_rows": 0}
    return fields_of_mapping(saved)
