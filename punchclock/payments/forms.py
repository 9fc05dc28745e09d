"""Forms for recording payments and refunds by hand."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from punchclock.clients.models import Client
from punchclock.payments.models import Method

DATE = forms.DateInput(attrs={"type": "date"})


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label="Amount", max_digits=14, decimal_places=4, min_value=0)
    received_on = forms.DateField(label="Received on", widget=DATE)
    method = forms.ChoiceField(
        label="Method", choices=[c for c in Method.choices if c[0] != Method.STRIPE]
    )
    reference = forms.CharField(
        label="Reference", max_length=200, required=False, help_text="e.g. the bank's reference"
    )
    currency = forms.CharField(
        label="Currency",
        max_length=3,
        required=False,
        help_text="Only when the money came in another currency",
    )
    exchange_rate = forms.DecimalField(
        label="Exchange rate",
        max_digits=18,
        decimal_places=8,
        min_value=0,
        required=False,
        help_text="Invoice currency per unit received; default: the recorded rate of that day",
    )
    note = forms.CharField(label="Note", max_length=2000, required=False)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount returned", max_digits=14, decimal_places=4, min_value=0
    )
    refunded_on = forms.DateField(label="Returned on", widget=DATE)
    reference = forms.CharField(label="Reference", max_length=200, required=False)


class PaymentFilterForm(forms.Form):
    client: forms.ModelChoiceField[Client] = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )
    method = forms.ChoiceField(choices=[("", "All methods"), *Method.choices], required=False)

    def __init__(self, *args: Any, clients: QuerySet[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Client]", self.fields["client"]).queryset = clients
