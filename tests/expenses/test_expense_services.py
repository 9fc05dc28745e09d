"""Recording expenses: amounts, tax, markup, conversion, receipts and bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.expenses import services
from punchclock.expenses.models import Expense, ExpenseStatus, Receipt
from punchclock.expenses.services import ExpenseInput
from tests.expenses.conftest import pdf_bytes, png_bytes

DAY = date(2017, 3, 8)  # the day of the ECB reference file


def record(agency, who=None, receipts=(), **fields):
    who = who or agency.owner
    fields.setdefault("client", agency.client)
    fields.setdefault("spent_on", date(2026, 11, 2))
    fields.setdefault("description", "Train to client")
    return services.record_expense(who, by=who, data=ExpenseInput(**fields), receipts=receipts)


def test_net_markup_and_billable_amount(agency, categories):
    expense = record(
        agency,
        category=categories["Software and licences"],
        amount="119.00",
        currency="EUR",
        tax_rate="19",
    )
    assert expense.net_amount == Decimal("100.00")
    assert expense.markup_percent == Decimal("10")
    assert expense.billable_amount == Decimal("110.00")
    assert expense.status == ExpenseStatus.APPROVED  # owners need no approval


def test_amounts_without_tax_are_taken_as_net(agency, categories):
    expense = record(
        agency,
        category=categories["Travel"],
        amount="42.50",
        currency="EUR",
        tax_rate="19",
        amount_includes_tax=False,
    )
    assert expense.net_amount == Decimal("42.50")
    assert expense.billable_amount == Decimal("42.50")


def test_mileage_is_quantity_times_unit_price(agency, categories):
    expense = record(agency, category=categories["Mileage"], quantity="120")
    assert expense.amount == Decimal("36.00")
    assert expense.currency == "EUR"


def test_foreign_currency_uses_the_ecb_rate_and_keeps_it(agency, categories, ecb_file):
    services.import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    expense = record(
        agency,
        category=categories["Travel"],
        amount="105.56",
        currency="USD",
        tax_rate="0",
        spent_on=DAY,
    )
    # 1 EUR = 1.0556 USD: 105.56 USD = 100.00 EUR, rounded once, half-up.
    assert expense.billable_amount == Decimal("100.00")
    assert expense.rate_source == "ecb"
    assert expense.rate_date == DAY
    assert expense.exchange_rate == Decimal("0.94732853")


def test_cross_rates_go_through_the_euro(agency, categories, ecb_file):
    services.import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    agency.client.currency = "GBP"
    agency.client.save()
    expense = record(
        agency,
        category=categories["Travel"],
        amount="1000",
        currency="USD",
        tax_rate="0",
        spent_on=DAY,
    )
    expected = (
        Decimal("1000") * (Decimal("0.86753") / Decimal("1.0556")).quantize(Decimal("0.00000001"))
    ).quantize(Decimal("0.01"))
    assert expense.billable_amount == expected
    assert expense.client_currency == "GBP"


def test_reimport_adds_nothing(agency, ecb_file):
    first = services.import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    again = services.import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    assert first > 25
    assert again == 0


def test_a_missing_rate_is_a_clear_error_and_writes_nothing(agency, categories):
    with pytest.raises(ValidationError) as caught:
        record(agency, category=categories["Travel"], amount="10", currency="USD")
    assert "No exchange rate for USD" in caught.value.message_dict["currency"][0]
    assert not Expense.objects.exists()


def test_a_rate_given_by_hand_is_used_and_recorded(agency, categories):
    expense = record(
        agency,
        category=categories["Travel"],
        amount="50",
        currency="USD",
        tax_rate="0",
        exchange_rate="0.9",
    )
    assert expense.billable_amount == Decimal("45.00")
    assert expense.rate_source == "manual"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "-5", "currency": "EUR"}, "amount"),
        ({"amount": "0", "currency": "EUR"}, "amount"),
        ({"amount": "99999999", "currency": "EUR"}, "amount"),
        ({"amount": "abc", "currency": "EUR"}, "amount"),
        ({"amount": "10.001", "currency": "EUR"}, "amount"),
        ({"amount": "10", "currency": "EURO"}, "currency"),
        ({"amount": "10", "currency": "EUR", "tax_rate": "120"}, "tax_rate"),
        ({"amount": "10", "currency": "EUR", "spent_on": date(2999, 1, 1)}, "spent_on"),
        ({"amount": "10", "currency": "EUR", "description": " "}, "description"),
    ],
)
def test_bad_input_names_the_field(agency, categories, fields, field):
    with pytest.raises(ValidationError) as caught:
        record(agency, category=categories["Travel"], **fields)
    assert field in caught.value.message_dict
    assert not Expense.objects.exists()


def test_receipts_are_checked_by_content(agency, categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    expense = record(
        agency,
        category=categories["Travel"],
        amount="10",
        currency="EUR",
        receipts=[("ticket.pdf", pdf_bytes()), ("photo.png", png_bytes())],
    )
    assert sorted(r.content_type for r in expense.receipts.all()) == [
        "application/pdf",
        "image/png",
    ]
    with pytest.raises(ValidationError) as caught:
        record(
            agency,
            category=categories["Travel"],
            amount="10",
            currency="EUR",
            receipts=[("ok.pdf", pdf_bytes()), ("fake.pdf", b"MZ\x90\x00 not a pdf")],
        )
    assert "receipts" in caught.value.message_dict
    # The first file of the refused expense was removed again: no orphans on disk.
    stored = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert stored == {r.file.name.rsplit("/", 1)[-1] for r in Receipt.objects.all()}
    assert Expense.objects.count() == 1


def test_oversize_receipts_are_refused(agency, categories, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RECEIPT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        record(
            agency,
            category=categories["Travel"],
            amount="10",
            currency="EUR",
            receipts=[("big.png", png_bytes() + b"\0" * 500)],
        )


def test_members_submit_and_managers_approve(agency, categories):
    expense = record(
        agency,
        who=agency.member,
        project=agency.project,
        category=categories["Travel"],
        amount="20",
        currency="EUR",
    )
    assert expense.status == ExpenseStatus.DRAFT
    services.submit_expenses(agency.member, expenses=[expense])
    with pytest.raises(PermissionDenied):
        services.decide_expense(expense, by=agency.member, approve=True)
    with pytest.raises(ValidationError, match="why"):
        services.decide_expense(expense, by=agency.manager, approve=False)
    services.decide_expense(expense, by=agency.manager, approve=True)
    with pytest.raises(PermissionDenied):
        services.update_expense(
            expense,
            by=agency.member,
            data=ExpenseInput(
                client=agency.client,
                category=categories["Travel"],
                amount="25",
                currency="EUR",
                spent_on=date(2026, 11, 2),
                description="changed",
            ),
        )
    assert list(services.unbilled_expenses(agency.organization)) == [expense]


def test_expenses_on_other_organizations_projects_are_refused(agency, categories, outsider):
    from tests.factories import make_client

    theirs = make_client(outsider.organization, "Rival client", code="rival")
    with pytest.raises(ValidationError) as caught:
        record(agency, category=categories["Travel"], amount="10", currency="EUR", client=theirs)
    assert "client" in caught.value.message_dict


def test_reimbursements_per_person_and_currency(agency, categories):
    for amount in ("10.10", "20.20"):
        record(
            agency, category=categories["Travel"], amount=amount, currency="EUR", reimbursable=True
        )
    rows = services.reimbursements(
        agency.organization, start=date(2026, 11, 1), end=date(2026, 11, 30)
    )
    assert [(r.person, r.currency, r.count, r.total) for r in rows] == [
        ("Olivia Owner", "EUR", 2, Decimal("30.30"))
    ]


@pytest.mark.parametrize(
    "data",
    [b"not xml", b"<?xml version='1.0'?><root/>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"],
)
def test_bad_rate_files_are_refused(agency, data):
    with pytest.raises(ValidationError):
        services.import_ecb_rates(agency.organization, by=agency.owner, data=data)


def test_the_client_page_lists_unbilled_expenses_with_markup(agency, categories, as_owner):
    from django.urls import reverse

    record(
        agency,
        category=categories["Software and licences"],
        amount="119.00",
        currency="EUR",
        tax_rate="19",
        description="IDE licence",
    )
    html = as_owner.get(reverse("clients:detail", args=[agency.client.pk])).content.decode()
    assert "Unbilled expenses" in html
    assert "IDE licence" in html
    assert "€110.00" in html


def test_members_do_not_see_the_clients_unbilled_expenses(agency, categories, as_member):
    from django.urls import reverse

    record(agency, category=categories["Travel"], amount="10", currency="EUR")
    html = as_member.get(reverse("clients:detail", args=[agency.client.pk])).content.decode()
    assert "Unbilled expenses" not in html
