"""The expense list: columns, filters with htmx, totals per currency, and constant queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from punchclock.expenses import services
from punchclock.expenses.services import ExpenseInput
from tests.expenses.conftest import png_bytes

DAY = date(2017, 3, 8)  # the day of the ECB reference file


def record(who, agency, category, receipts=(), **fields):
    fields.setdefault("client", agency.client)
    fields.setdefault("spent_on", date(2026, 11, 2))
    fields.setdefault("description", "Train to client")
    fields.setdefault("amount", "10.00")
    return services.record_expense(
        who, by=who, data=ExpenseInput(category=category, **fields), receipts=receipts
    )


def test_the_list_shows_amounts_billable_amounts_and_the_conversion_hint(
    agency, categories, as_owner, ecb_file
):
    services.import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    record(
        agency.owner,
        agency,
        categories["Travel"],
        amount="105.56",
        currency="USD",
        spent_on=DAY,
        vendor="Amtrak",
    )
    page = as_owner.get(reverse("expenses:list")).content.decode()
    assert "$105.56" in page
    assert "€100.00" in page
    assert "1 USD = 0.9473 EUR (ECB, 2017-03-08)" in page
    assert "Amtrak" in page
    assert "Approved" in page


def test_totals_are_per_currency_of_the_filtered_set(
    agency, categories, as_owner, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    travel, meals = categories["Travel"], categories["Meals"]
    record(agency.owner, agency, travel, amount="0.10")
    record(agency.owner, agency, travel, amount="0.20")
    record(agency.owner, agency, meals, amount="5.00", receipts=[("r.png", png_bytes())])
    response = as_owner.get(reverse("expenses:list"), {"category": travel.pk})
    amounts = response.context["amount_totals"]
    assert str(amounts[0].amount) == "0.3000"  # exact: summed as Decimals, not REAL
    everything = as_owner.get(reverse("expenses:list")).context["amount_totals"]
    assert str(everything[0].amount) == "5.3000"


def test_htmx_filtering_returns_only_the_results(agency, categories, as_owner):
    record(agency.owner, agency, categories["Travel"], description="Taxi")
    record(agency.owner, agency, categories["Meals"], description="Lunch")
    response = as_owner.get(
        reverse("expenses:list"), {"category": categories["Meals"].pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="expense-results"')
    assert "Lunch" in body
    assert "Taxi" not in body
    assert "<html" not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"start": "2026-11-02", "end": "2026-11-02"}, {"Taxi"}),
        ({"status": "draft"}, {"Hotel"}),
        ({"billable": "no"}, {"Lunch"}),
        ({"reimbursable": "yes"}, {"Hotel"}),
        ({"start": "garbage", "status": "nonsense"}, {"Taxi", "Lunch", "Hotel"}),
    ],
)
def test_filters(agency, categories, as_owner, params, expected):
    record(agency.owner, agency, categories["Travel"], description="Taxi")
    record(
        agency.owner,
        agency,
        categories["Meals"],
        description="Lunch",
        spent_on=date(2026, 10, 1),
    )
    record(
        agency.member,
        agency,
        categories["Accommodation"],
        description="Hotel",
        reimbursable=True,
        project=agency.project,
        spent_on=date(2026, 10, 1),
    )
    page = as_owner.get(reverse("expenses:list"), params)
    shown = {e.description for e in page.context["page"].object_list}
    assert shown == expected


def test_the_person_filter_is_only_for_those_who_see_everyones(agency, categories, as_member):
    assert "person" not in as_member.get(reverse("expenses:list")).context["filters"].fields


def test_members_see_only_their_own_expenses(agency, categories, as_member):
    record(agency.owner, agency, categories["Travel"], description="Owner's taxi")
    record(
        agency.member, agency, categories["Travel"], description="My taxi", project=agency.project
    )
    page = as_member.get(reverse("expenses:list")).content.decode()
    assert "My taxi" in page
    assert "Owner&#x27;s taxi" not in page
    assert "Owner's taxi" not in page


def test_outsiders_see_none_of_the_agencys_expenses(agency, categories, as_outsider):
    record(agency.owner, agency, categories["Travel"], description="Secret taxi")
    page = as_outsider.get(reverse("expenses:list")).content.decode()
    assert "Secret taxi" not in page


def test_the_list_takes_as_many_queries_for_30_expenses_as_for_3(
    agency, categories, as_owner, django_assert_max_num_queries, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    for n in range(3):
        record(
            agency.owner,
            agency,
            categories["Travel"],
            project=agency.project,
            receipts=[("r.png", png_bytes())],
            description=f"e{n}",
        )
    with django_assert_max_num_queries(14) as few:
        as_owner.get(reverse("expenses:list"))
    for n in range(27):
        record(
            agency.member, agency, categories["Meals"], project=agency.project, description=f"f{n}"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_owner.get(reverse("expenses:list"))
    assert len(response.context["page"].object_list) == 25
