"""Categories and exchange rates: for admins and owners only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from punchclock.expenses.models import ExchangeRate, ExpenseCategory
from tests.conftest import login

ADMIN_PAGES = ["categories", "rates", "reimbursements", "reimbursements_csv"]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_members_and_managers_get_403(agency, name):
    for who in (agency.member, agency.manager):
        http = login(who)
        assert http.get(reverse(f"expenses:{name}")).status_code == 403
        assert http.post(reverse(f"expenses:{name}"), {"name": "x"}).status_code in (403, 405)


@pytest.mark.parametrize("name", ["rates_import", "rates_manual"])
def test_members_cannot_post_rates(agency, name):
    assert login(agency.member).post(reverse(f"expenses:{name}")).status_code == 403


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admins_and_owners_open_them(agency, name):
    for who in (agency.admin, agency.owner):
        assert login(who).get(reverse(f"expenses:{name}")).status_code == 200


def test_a_category_is_added_edited_and_archived(agency, as_owner):
    response = as_owner.post(
        reverse("expenses:categories"),
        {
            "name": "Parking",
            "default_tax_rate": "19",
            "default_markup_percent": "5",
            "billable_default": "on",
        },
    )
    assert response.status_code == 302
    parking = ExpenseCategory.objects.get(name="Parking")
    assert str(parking.default_tax_rate) == "19.000"
    edit = reverse("expenses:category_edit", args=[parking.pk])
    assert as_owner.get(edit).status_code == 200
    response = as_owner.post(
        edit,
        {
            "name": "Bike rental",
            "unit": "day",
            "unit_price": "12",
            "default_tax_rate": "0",
            "default_markup_percent": "0",
        },
    )
    assert response.status_code == 302
    parking.refresh_from_db()
    assert (parking.name, parking.unit, parking.billable_default) == ("Bike rental", "day", False)
    as_owner.post(reverse("expenses:category_archive", args=[parking.pk]))
    parking.refresh_from_db()
    assert parking.is_archived


def test_category_errors_show_on_the_form(agency, categories, as_owner):
    base = {"default_tax_rate": "0", "default_markup_percent": "0"}
    response = as_owner.post(reverse("expenses:categories"), {"name": "travel", **base})
    assert response.status_code == 400
    assert "There is already a category" in response.content.decode()
    response = as_owner.post(reverse("expenses:categories"), {"name": "Fuel", "unit": "l", **base})
    assert response.status_code == 400
    assert "needs a price per unit" in response.content.decode()


def test_outsiders_get_404_for_a_category(agency, categories, as_outsider):
    travel = categories["Travel"]
    assert as_outsider.get(reverse("expenses:category_edit", args=[travel.pk])).status_code == 404
    response = as_outsider.post(reverse("expenses:category_archive", args=[travel.pk]))
    assert response.status_code == 404


def test_the_ecb_file_is_imported_through_the_page_and_again_adds_nothing(
    agency, as_owner, ecb_file
):
    def upload():
        return as_owner.post(
            reverse("expenses:rates_import"),
            {"file": SimpleUploadedFile("eurofxref-daily.xml", ecb_file, "text/xml")},
            follow=True,
        )

    first = upload().content.decode()
    count = ExchangeRate.objects.count()
    assert count > 25
    assert f"{count} new exchange rates imported." in first
    assert "USD" in first
    assert "0 new rates" in upload().content.decode()
    assert ExchangeRate.objects.count() == count


def test_a_file_that_is_not_the_ecb_xml_is_refused(agency, as_owner):
    response = as_owner.post(
        reverse("expenses:rates_import"),
        {"file": SimpleUploadedFile("rates.xml", b"not xml at all", "text/xml")},
    )
    assert response.status_code == 400
    assert "The file is not XML" in response.content.decode()


def test_a_manual_rate_is_saved_and_listed(agency, as_owner):
    response = as_owner.post(
        reverse("expenses:rates_manual"), {"currency": "CHF", "rate": "0.95", "on": "2026-11-01"}
    )
    assert response.status_code == 302
    page = as_owner.get(reverse("expenses:rates")).content.decode()
    assert "CHF" in page
    assert "Manual" in page
    response = as_owner.post(
        reverse("expenses:rates_manual"), {"currency": "EUR", "rate": "1", "on": "2026-11-01"}
    )
    assert response.status_code == 400
    response = as_owner.post(
        reverse("expenses:rates_manual"), {"currency": "CHF", "rate": "-1", "on": "x"}
    )
    assert response.status_code == 400
