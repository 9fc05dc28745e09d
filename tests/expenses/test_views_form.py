"""The expense form: recording with receipts, and bad input shown on the form, never saved."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from punchclock.expenses.models import Expense, Receipt
from tests.expenses.conftest import pdf_bytes, png_bytes


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def form_data(agency, categories, **overrides):
    data = {
        "client": agency.client.pk,
        "category": categories["Travel"].pk,
        "spent_on": "2026-11-02",
        "description": "Train to Berlin",
        "vendor": "Deutsche Bahn",
        "amount": "119.00",
        "currency": "EUR",
        "amount_includes_tax": "on",
    }
    data.update(overrides)
    return data


def files_in(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_new_expense_with_a_receipt_is_recorded_and_listed(agency, categories, as_member, media):
    data = form_data(
        agency, categories, receipts=SimpleUploadedFile("ticket.png", png_bytes(), "image/png")
    )
    response = as_member.post(reverse("expenses:new"), data)
    expense = Expense.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("expenses:detail", args=[expense.pk])
    assert expense.membership == agency.member
    assert expense.receipts.get().content_type == "image/png"
    assert len(files_in(media)) == 1
    listing = as_member.get(reverse("expenses:list")).content.decode()
    assert "Train to Berlin" in listing
    assert "Deutsche Bahn" in listing


def test_several_receipts_can_be_uploaded_at_once(agency, categories, as_member):
    data = form_data(
        agency,
        categories,
        receipts=[
            SimpleUploadedFile("a.png", png_bytes(), "image/png"),
            SimpleUploadedFile("b.pdf", pdf_bytes(), "application/pdf"),
        ],
    )
    assert as_member.post(reverse("expenses:new"), data).status_code == 302
    assert sorted(Receipt.objects.values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/png",
    ]


def test_the_form_offers_receipts_of_the_accepted_kinds(agency, categories, as_member):
    page = as_member.get(reverse("expenses:new")).content.decode()
    assert 'type="file"' in page
    assert "multiple" in page
    assert 'accept="application/pdf,image/png,image/jpeg,image/webp"' in page
    assert "km × 0.30 EUR" in page


def test_a_text_file_named_pdf_is_refused_and_nothing_is_written(
    agency, categories, as_member, media
):
    fake = SimpleUploadedFile("invoice.pdf", b"just some text, not a PDF", "application/pdf")
    response = as_member.post(reverse("expenses:new"), form_data(agency, categories, receipts=fake))
    assert response.status_code == 400
    assert "is not a PDF, PNG, JPEG or WebP file" in response.content.decode()
    assert not Expense.objects.exists()
    assert files_in(media) == []


def test_an_oversize_receipt_is_refused(agency, categories, as_member, media, settings):
    settings.RECEIPT_MAX_BYTES = 100
    big = SimpleUploadedFile("scan.png", png_bytes() + b"\0" * 200, "image/png")
    response = as_member.post(reverse("expenses:new"), form_data(agency, categories, receipts=big))
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not Expense.objects.exists()
    assert files_in(media) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "-5"}, "must be more than zero"),
        ({"amount": "abc"}, "is not a number"),
        ({"amount": "10", "currency": "XYZ"}, "Select a valid choice"),
        ({"amount": "105.56", "currency": "USD"}, "No exchange rate for USD"),
        ({"description": ""}, "This field is required"),
        ({"spent_on": "2999-01-01"}, "cannot be in the future"),
        ({"tax_rate": "150"}, "percentage from 0 to 100"),
    ],
)
def test_bad_input_is_shown_on_the_form(agency, categories, as_member, overrides, message):
    response = as_member.post(reverse("expenses:new"), form_data(agency, categories, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Expense.objects.exists()


def test_field_errors_sit_under_their_field(agency, categories, as_member):
    response = as_member.post(reverse("expenses:new"), form_data(agency, categories, amount="-5"))
    form = response.context["form"]
    assert form.errors["amount"] == ["An expense amount must be more than zero."]


def test_mileage_is_recorded_from_a_quantity(agency, categories, as_member):
    data = form_data(
        agency, categories, category=categories["Mileage"].pk, amount="", quantity="120"
    )
    assert as_member.post(reverse("expenses:new"), data).status_code == 302
    assert str(Expense.objects.get().amount) == "36.0000"


def test_an_expense_is_edited_while_still_a_draft(agency, categories, as_member):
    as_member.post(reverse("expenses:new"), form_data(agency, categories))
    expense = Expense.objects.get()
    url = reverse("expenses:edit", args=[expense.pk])
    page = as_member.get(url)
    assert page.status_code == 200
    assert 'value="119.00"' in page.content.decode()
    response = as_member.post(url, form_data(agency, categories, description="Train to Hamburg"))
    assert response.status_code == 302
    expense.refresh_from_db()
    assert expense.description == "Train to Hamburg"


def test_someone_elses_expense_cannot_be_edited_by_a_member(
    agency, categories, as_owner, login_member_two
):
    as_owner.post(reverse("expenses:new"), form_data(agency, categories))
    expense = Expense.objects.get()
    assert login_member_two.get(reverse("expenses:edit", args=[expense.pk])).status_code == 404


def test_garbage_posts_never_give_a_500(agency, categories, as_member):
    garbage = [
        {},
        {"client": "x", "project": "999999999999", "category": "-1", "spent_on": "nope"},
        {"amount": "1e999999", "tax_rate": "NaN", "markup_percent": "Infinity"},
        form_data(agency, categories, exchange_rate="-1", currency="USD"),
        form_data(agency, categories, exchange_rate="sNaN", currency="USD"),
        form_data(agency, categories, amount="99999999999999999999"),
        form_data(agency, categories, project=agency.other_project.pk),
    ]
    for data in garbage:
        for name in ("expenses:new", "expenses:preview"):
            response = as_member.post(reverse(name), data)
            assert response.status_code < 500, (name, data)
    assert not Expense.objects.exists()


@pytest.fixture
def login_member_two(agency):
    from punchclock.accounts.models import Role
    from tests import factories
    from tests.conftest import login

    other = factories.make_membership(
        agency.organization, Role.MEMBER, factories.make_user("two@acme.test", name="Tia Two")
    )
    return login(other)


def test_the_day_defaults_to_today(agency, categories, as_member):
    form = as_member.get(reverse("expenses:new")).context["form"]
    assert isinstance(form.initial["spent_on"], date)
