"""Reimbursements: per person and currency for a period, and a CSV safe to open in Excel."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.urls import reverse

from punchclock.accounts.models import Role
from punchclock.expenses import services
from punchclock.expenses.services import ExpenseInput
from punchclock.expenses.views import csv_cell
from tests import factories


def paid_personally(membership, agency, categories, description, amount="30.00", **fields):
    expense = services.record_expense(
        membership,
        by=agency.owner,
        data=ExpenseInput(
            client=agency.client,
            category=categories["Travel"],
            spent_on=fields.pop("spent_on", date(2026, 10, 15)),
            description=description,
            amount=amount,
            reimbursable=True,
            **fields,
        ),
    )
    services.submit_expenses(membership, expenses=[expense])
    if expense.status == "submitted":
        services.decide_expense(expense, by=agency.owner, approve=True)
    return expense


def test_the_page_sums_per_person_and_currency(agency, categories, as_owner):
    paid_personally(agency.admin, agency, categories, "Taxi", "30.00")
    paid_personally(agency.admin, agency, categories, "Bus", "2.50")
    paid_personally(agency.admin, agency, categories, "Too early", "99", spent_on=date(2026, 9, 1))
    response = as_owner.get(
        reverse("expenses:reimbursements"), {"start": "2026-10-01", "end": "2026-10-31"}
    )
    rows = response.context["rows"]
    assert [(r.person, r.count, str(r.total)) for r in rows] == [("Adam Admin", 2, "32.5000")]
    assert "€32.50" in response.content.decode()


def test_the_period_defaults_to_last_month(as_owner):
    form = as_owner.get(reverse("expenses:reimbursements")).context["form"]
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    assert start.day == 1
    assert end.replace(day=1) == start
    assert end < date.today()  # noqa: DTZ011


def test_a_bad_period_is_refused(as_owner):
    response = as_owner.get(reverse("expenses:reimbursements"), {"start": "2026-10-31", "end": "x"})
    assert response.status_code == 400
    csv_response = as_owner.get(
        reverse("expenses:reimbursements_csv"), {"start": "2026-10-31", "end": "2026-10-01"}
    )
    assert csv_response.status_code == 400


def test_the_csv_neutralises_cells_that_would_run_as_formulas(agency, categories, as_owner):
    sneaky = factories.make_membership(
        agency.organization, Role.ADMIN, factories.make_user("=cmd@acme.test", name="=cmd()")
    )
    paid_personally(sneaky, agency, categories, "=HYPERLINK(evil)")
    response = as_owner.get(
        reverse("expenses:reimbursements_csv"), {"start": "2026-10-01", "end": "2026-10-31"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Person", "Email", "Currency", "Expenses", "Total"]
    assert rows[1][0] == "'=cmd()"
    assert rows[1][1] == "'=cmd@acme.test"
    assert rows[1][4] == "30.0000"


def test_every_dangerous_first_character_is_prefixed():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell("Olivia") == "Olivia"
    assert csv_cell(12) == "12"
